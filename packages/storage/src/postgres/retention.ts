// Retention of a PostgreSQL store: removes the oldest events past an age or count limit and the
// oldest dead letters past their count, one bounded chunk per statement (one short transaction),
// through the `events_captured_at (captured_at, ring_id, seq)` index so no chunk scans the table.
// The space is reused by autovacuum, not returned to the file system (that takes VACUUM FULL).

import type pg from 'pg'
import type { ResolvedRetention, RetentionResult } from '../retention.js'

/**
 * One retention step over `pool` for the quoted schema `s`: at most `maxRows` events and
 * `maxRows` dead letters removed, each DELETE its own statement and so its own transaction.
 */
export async function applyPostgresRetention(pool: pg.Pool, s: string, policy: ResolvedRetention, maxRows: number, now: number): Promise<RetentionResult> {
  let events = 0
  let more = false
  if (policy.maxAgeMs !== undefined) {
    events += await countedDelete(
      pool,
      s,
      'events',
      `DELETE FROM ${s}.events e USING (SELECT ring_id, seq FROM ${s}.events WHERE captured_at < $1::float8 ORDER BY captured_at LIMIT $2) d
       WHERE e.ring_id = d.ring_id AND e.seq = d.seq RETURNING e.ring_id`,
      [now - policy.maxAgeMs, maxRows],
    )
    if (events >= maxRows) more = true
  }
  const left = maxRows - events
  if (policy.maxEvents !== undefined && left > 0) {
    // The newest event past the limit, found by walking the index from the newest end: PostgreSQL
    // keeps no exact count, and count(*) would scan the table every time.
    const edge = await pool.query<{ captured_at: number; ring_id: string; seq: string }>(
      `SELECT captured_at, ring_id, seq FROM ${s}.events ORDER BY captured_at DESC, ring_id DESC, seq DESC OFFSET $1 LIMIT 1`,
      [policy.maxEvents],
    )
    const e = edge.rows[0]
    if (e !== undefined) {
      const n = await countedDelete(
        pool,
        s,
        'events',
        `DELETE FROM ${s}.events e USING (
           SELECT ring_id, seq FROM ${s}.events WHERE (captured_at, ring_id, seq) <= ($1::float8, $2, $3::bigint)
           ORDER BY captured_at, ring_id, seq LIMIT $4) d
         WHERE e.ring_id = d.ring_id AND e.seq = d.seq RETURNING e.ring_id`,
        [e.captured_at, e.ring_id, e.seq, left],
      )
      events += n
      if (n >= left) more = true
    }
  }
  let deadLetters = 0
  if (policy.maxDeadLetters !== undefined) {
    deadLetters = await countedDelete(
      pool,
      s,
      'dead_letters',
      `DELETE FROM ${s}.dead_letters WHERE key IN (
         SELECT key FROM ${s}.dead_letters ORDER BY stored_at, no
         LIMIT LEAST(GREATEST((SELECT count(*) FROM ${s}.dead_letters) - $1, 0), $2)) RETURNING ring_id`,
      [policy.maxDeadLetters, maxRows],
    )
    if (deadLetters >= maxRows) more = true
  }
  return { events, deadLetters, vacuumedPages: 0, more }
}

/**
 * `deleteSql` (a DELETE … RETURNING ring_id) made to add what it removes to `pruned`, per ring, in
 * the same statement (a data-modifying WITH), so the count moves with the delete or not at all.
 * The statement returns one row, `n`: the rows removed.
 */
export function countedDeleteSql(s: string, column: 'events' | 'dead_letters', deleteSql: string): string {
  return `WITH d AS (${deleteSql}),
          c AS (INSERT INTO ${s}.pruned (ring_id, ${column}) SELECT ring_id, count(*) FROM d GROUP BY ring_id
                ON CONFLICT (ring_id) DO UPDATE SET ${column} = ${s}.pruned.${column} + excluded.${column})
     SELECT count(*) AS n FROM d`
}

async function countedDelete(pool: pg.Pool, s: string, column: 'events' | 'dead_letters', deleteSql: string, params: unknown[]): Promise<number> {
  const res = await pool.query<{ n: string }>(countedDeleteSql(s, column, deleteSql), params)
  return Number(res.rows[0]?.n ?? 0)
}
