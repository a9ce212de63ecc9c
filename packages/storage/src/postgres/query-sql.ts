// Builds the SQL of a query from a resolved filter, with PostgreSQL's numbered parameters. Only
// column names and fixed keywords are spliced into the text; every value is a bound parameter.

import type { ResolvedQueryFilter } from '../query-filter.js'

/** SQL text and its parameters, in order. */
export interface QuerySql {
  readonly sql: string
  readonly params: readonly (string | number)[]
}

const EQUALS: readonly [keyof ResolvedQueryFilter, string][] = [
  ['pid', 'pid'],
  ['type', 'type'],
  ['correlationId', 'correlation_id'],
  ['astNodeId', 'ast_node_id'],
  ['module', 'module'],
  ['function', 'function'],
  ['arity', 'arity'],
]

/** Columns every read selects, in the order the store's row reader expects. */
export const RECORD_COLUMNS = 'ring_id, seq, captured_at, body'

/** The query for a filter over `"schema".events`: every given field ANDed, ordered by capture time, ring id, seq. */
export function querySql(schema: string, f: ResolvedQueryFilter): QuerySql {
  const where: string[] = []
  const params: (string | number)[] = []
  const bind = (v: string | number): string => {
    params.push(v)
    return `$${params.length}`
  }
  for (const [field, column] of EQUALS) {
    const v = f[field]
    if (v !== undefined) where.push(`${column} = ${bind(v as string | number)}`)
  }
  // float8 parameters: a bound JS number compares with the stored double exactly.
  if (f.since !== undefined) where.push(`captured_at >= ${bind(f.since)}::float8`)
  if (f.until !== undefined) where.push(`captured_at <= ${bind(f.until)}::float8`)
  const dir = f.order === 'asc' ? 'ASC' : 'DESC'
  let sql = `SELECT ${RECORD_COLUMNS} FROM "${schema}".events`
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`
  sql += ` ORDER BY captured_at ${dir}, ring_id ${dir}, seq ${dir}`
  if (f.limit !== undefined) sql += ` LIMIT ${bind(f.limit)}`
  return { sql, params }
}
