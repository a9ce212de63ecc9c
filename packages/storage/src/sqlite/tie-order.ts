// Puts rows read in capture-time order into the query contract's order: capture time, then ring
// id, then seq. SQL orders by capture time only (query-sql.ts), so rows with equal capture times
// come in index order; each such run is sorted here by the ring's place in ring-id order, then seq.

import type { Row } from './row-codec.js'

/** Each ring_no's place among the rings in ring-id order (SQLite's, so BINARY collation). */
export interface RingOrder {
  /** The place of `ringNo`, or undefined when the ring is newer than the places known. */
  rankOf(ringNo: number): number | undefined
  /** Reads the places again (rings added since get theirs; the order of the others stays). */
  reload(): void
}

const CAPTURED_AT = 2

/**
 * Sorts, in place, every run of rows with equal capture times by ring id, then seq; `dir` is 1
 * for ascending, -1 for descending. Rows outside such runs are not touched.
 */
export function orderTies(rows: Row[], dir: 1 | -1, rings: RingOrder): void {
  for (let i = 1; i < rows.length; i++) {
    const t = (rows[i] as Row)[CAPTURED_AT]
    if (t !== (rows[i - 1] as Row)[CAPTURED_AT]) continue
    const start = i - 1
    let end = i + 1
    while (end < rows.length && (rows[end] as Row)[CAPTURED_AT] === t) end++
    sortRun(rows, start, end, dir, rings)
    i = end
  }
}

function sortRun(rows: Row[], start: number, end: number, dir: 1 | -1, rings: RingOrder): void {
  const run = rows.slice(start, end)
  // Every rank of one sort comes from one reading of the places, so they compare consistently.
  let ranks = run.map((r) => rings.rankOf(r[0]))
  if (ranks.includes(undefined)) {
    rings.reload()
    ranks = run.map((r) => rings.rankOf(r[0]))
    const lost = ranks.indexOf(undefined)
    if (lost !== -1) throw new Error(`rings holds no ring_no ${(run[lost] as Row)[0]}`)
  }
  const order = run.map((_, k) => k)
  order.sort((a, b) => dir * (((ranks[a] as number) - (ranks[b] as number)) || ((run[a] as Row)[1] - (run[b] as Row)[1])))
  for (let k = 0; k < order.length; k++) rows[start + k] = run[order[k] as number] as Row
}
