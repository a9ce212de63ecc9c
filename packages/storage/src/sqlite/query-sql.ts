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
 * Reads name no other table: ring numbers and string ids are named from the connection's caches
 * (joining `strings` per field cost more than twice the whole query without it, and joining
 * `rings` per row only served the ORDER BY's ring id, see querySql).
 */
export const FROM_EVENTS = 'FROM events AS e'

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

/**
 * The query for a filter, ordered by capture time only: every index has `captured_at` right after
 * its equality columns, so the rows come in index order with no sort. The contract breaks ties by
 * ring id, then seq; ordering by `r.ring_id` in SQL needed a join with `rings` and a temporary
 * B-tree over every row (a quarter of the SQL time of a 10,000-row range, bench/store-query.ts),
 * while ties are rare: the store orders runs of equal capture times itself (orderTies), and a
 * limit that cuts through such a run has the run read whole (tieQuery).
 */
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
  let sql = `SELECT ${RECORD_COLUMNS} ${FROM_EVENTS}`
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`
  sql += ` ORDER BY e.captured_at ${f.order === 'asc' ? 'ASC' : 'DESC'}`
  if (f.limit !== undefined) {
    sql += ' LIMIT ?'
    params.push(f.limit)
  }
  return { sql, params }
}

/** Every event of the filter captured exactly at `capturedAt` (a time the filter's range holds). */
export function tieQuery(f: ResolvedQueryFilter, capturedAt: number): QuerySql {
  return querySql({ ...f, since: capturedAt, until: capturedAt, limit: undefined })
}
