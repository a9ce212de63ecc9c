// Builds the SQL of a query from a resolved filter. Only column names and fixed keywords are
// spliced into the text; every value is a bound parameter, so the statement cache stays small
// (one statement per combination of filter fields) and nothing is injectable.

import type { ResolvedQueryFilter } from '../query-filter.js'

/** SQL text and its parameters, in order. */
export interface QuerySql {
  readonly sql: string
  readonly params: readonly (string | number)[]
}

const EQUALS: readonly [keyof ResolvedQueryFilter, string][] = [
  ['pid', 'e.pid'],
  ['type', 'e.type'],
  ['correlationId', 'e.correlation_id'],
  ['astNodeId', 'e.ast_node_id'],
  ['module', 'e.module'],
  ['function', 'e.function'],
  ['arity', 'e.arity'],
]

/** Columns every read selects, in the order `rowToRecord` expects. */
export const RECORD_COLUMNS = 'r.ring_id AS ringId, e.seq AS seq, e.captured_at AS capturedAt, e.body AS body'

/**
 * The events table first, then its ring (CROSS JOIN keeps that order: SQLite never reorders
 * it), so the planner always starts from an events index and `rings` is a primary-key lookup.
 */
export const FROM_EVENTS = 'FROM events AS e CROSS JOIN rings AS r ON r.ring_no = e.ring_no'

/** The query for a filter: every given field ANDed, ordered by capture time, then ring id, then seq. */
export function querySql(f: ResolvedQueryFilter): QuerySql {
  const where: string[] = []
  const params: (string | number)[] = []
  for (const [field, column] of EQUALS) {
    const v = f[field]
    if (v !== undefined) {
      where.push(`${column} = ?`)
      params.push(v)
    }
  }
  if (f.since !== undefined) {
    where.push('e.captured_at >= ?')
    params.push(f.since)
  }
  if (f.until !== undefined) {
    where.push('e.captured_at <= ?')
    params.push(f.until)
  }
  const dir = f.order === 'asc' ? 'ASC' : 'DESC'
  let sql = `SELECT ${RECORD_COLUMNS} ${FROM_EVENTS}`
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`
  sql += ` ORDER BY e.captured_at ${dir}, r.ring_id ${dir}, e.seq ${dir}`
  if (f.limit !== undefined) {
    sql += ' LIMIT ?'
    params.push(f.limit)
  }
  return { sql, params }
}
