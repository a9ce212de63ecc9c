// Builds the SQL of a query from a resolved filter. Only column names and fixed keywords are
// spliced into the text; every value is a bound parameter, so the statement cache stays small
// (one statement per combination of filter fields) and nothing is injectable.

import { parseKey } from '../event-record.js'
import type { ResolvedQueryFilter } from '../query-filter.js'
import { ROW_COLUMNS } from './row-codec.js'

/** SQL text and its parameters, in order. */
export interface QuerySql {
  readonly sql: string
  readonly params: readonly (string | number)[]
}

// String fields are dictionary ids: `column = (id of the string)` is a constant the planner
// looks up once, then an equality on the column's index.
const INTERNED: readonly [keyof ResolvedQueryFilter, string][] = [
  ['pid', 'e.pid'],
  ['type', 'e.type'],
  ['astNodeId', 'e.ast_node'],
  ['module', 'e.module'],
  ['function', 'e.function'],
]
const ID_OF = '(SELECT id FROM strings WHERE s = ?)'

/**
 * The events table first, then its ring (CROSS JOIN keeps that order: SQLite never reorders
 * it), so the planner always starts from an events index and `rings` is a primary-key lookup.
 * Strings come back as ids, named from the connection's cache: joining `strings` per field cost
 * more than twice the whole query without it (bench/store-query.ts).
 */
export const FROM_EVENTS = 'FROM events AS e CROSS JOIN rings AS r ON r.ring_no = e.ring_no'

/** Columns every read selects (raw rows in row-codec's Row order). */
export const RECORD_COLUMNS = ROW_COLUMNS

/**
 * The condition "correlation id is `id`": a dictionary id (the partial index holds ids > 0, and
 * the literal `e.correlation > 0` lets the planner use it), or, when `id` is an event key, that
 * very event stored with correlation 0 ("its own key"), found through the unique key.
 */
function correlationWhere(id: string, params: (string | number)[]): string {
  params.push(id)
  const byId = `(e.correlation = ${ID_OF} AND e.correlation > 0)`
  const key = parseKey(id)
  if (key === undefined) return byId
  params.push(key.ringId, key.seq)
  return `(${byId} OR (e.correlation = 0 AND e.ring_no = (SELECT ring_no FROM rings WHERE ring_id = ?) AND e.seq = ?))`
}

/** The query for a filter: every given field ANDed, ordered by capture time, then ring id, then seq. */
export function querySql(f: ResolvedQueryFilter): QuerySql {
  const where: string[] = []
  const params: (string | number)[] = []
  for (const [field, column] of INTERNED) {
    const v = f[field]
    if (v !== undefined) {
      where.push(`${column} = ${ID_OF}`)
      params.push(v)
    }
  }
  if (f.arity !== undefined) {
    where.push('e.arity = ?')
    params.push(f.arity)
  }
  if (f.correlationId !== undefined) where.push(correlationWhere(f.correlationId, params))
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
