// Retention of a SQLite store, as plain functions over its better-sqlite3 connection: removes the
// oldest events past an age, count or size limit and the oldest dead letters past their count,
// one bounded chunk per IMMEDIATE transaction, keeping the exact `counters` row in step; then hands
// free pages back to the file system in small steps when the file has `auto_vacuum = INCREMENTAL`.
// Only `events` (rowid, captured_at), `dead_letters` (rowid, stored_at) and `counters` are used.

import type Database from 'better-sqlite3'
import type { ResolvedRetention, RetentionResult } from '../retention.js'

/** SQLite's `PRAGMA auto_vacuum` value for INCREMENTAL. */
export const AUTO_VACUUM_INCREMENTAL = 2

interface Statements {
  readonly count: Database.Statement<unknown[], unknown>
  readonly countAdd: Database.Statement<unknown[], unknown>
  readonly countOlder: Database.Statement<unknown[], unknown>
  readonly deleteOlder: Database.Statement<unknown[], unknown>
  readonly countOldest: Database.Statement<unknown[], unknown>
  readonly deleteOldest: Database.Statement<unknown[], unknown>
  readonly deadCount: Database.Statement<unknown[], unknown>
  readonly countDead: Database.Statement<unknown[], unknown>
  readonly deadDelete: Database.Statement<unknown[], unknown>
}

/** Adds the events of a chunk (the WHERE between the two halves) to `pruned`, per ring. */
export const PRUNE_EVENTS = 'INSERT INTO pruned (ring_id, events) SELECT r.ring_id, count(*) FROM events e JOIN rings r ON r.ring_no = e.ring_no'
export const PRUNE_EVENTS_END = 'GROUP BY r.ring_id ON CONFLICT (ring_id) DO UPDATE SET events = events + excluded.events'

// One cache per connection: retention runs every second or so, preparing each time would cost more than it does.
const prepared = new WeakMap<Database.Database, Statements>()

function statementsOf(db: Database.Database): Statements {
  let s = prepared.get(db)
  if (s === undefined) {
    s = {
      count: db.prepare("SELECT value FROM counters WHERE name = 'events'").pluck(),
      countAdd: db.prepare("UPDATE counters SET value = value + ? WHERE name = 'events'"),
      // Through the captured_at index: the chunk is the oldest rows, found without a scan.
      // Each chunk is counted per ring into `pruned` first, then deleted: the same rows (the order
      // is total: rowid breaks ties), read twice inside one transaction.
      countOlder: db.prepare(`${PRUNE_EVENTS} WHERE e.rowid IN (SELECT rowid FROM events WHERE captured_at < ? ORDER BY captured_at, rowid LIMIT ?) ${PRUNE_EVENTS_END}`),
      deleteOlder: db.prepare('DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE captured_at < ? ORDER BY captured_at, rowid LIMIT ?)'),
      countOldest: db.prepare(`${PRUNE_EVENTS} WHERE e.rowid IN (SELECT rowid FROM events ORDER BY captured_at, rowid LIMIT ?) ${PRUNE_EVENTS_END}`),
      deleteOldest: db.prepare('DELETE FROM events WHERE rowid IN (SELECT rowid FROM events ORDER BY captured_at, rowid LIMIT ?)'),
      deadCount: db.prepare('SELECT count(*) FROM dead_letters').pluck(),
      countDead: db.prepare(
        `INSERT INTO pruned (ring_id, dead_letters) SELECT ring_id, count(*) FROM dead_letters
           WHERE rowid IN (SELECT rowid FROM dead_letters ORDER BY stored_at, rowid LIMIT ?) GROUP BY ring_id
         ON CONFLICT (ring_id) DO UPDATE SET dead_letters = dead_letters + excluded.dead_letters`,
      ),
      deadDelete: db.prepare('DELETE FROM dead_letters WHERE rowid IN (SELECT rowid FROM dead_letters ORDER BY stored_at, rowid LIMIT ?)'),
    }
    prepared.set(db, s)
  }
  return s
}

/** Bytes of the database's pages in use (free pages excluded): what `maxBytes` bounds. */
export function usedBytes(db: Database.Database): number {
  const pages = (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number)
  return pages * (db.pragma('page_size', { simple: true }) as number)
}

/** How many of the oldest events to remove now so the store is within `policy` (age is handled apart). */
function excessEvents(db: Database.Database, s: Statements, policy: ResolvedRetention): number {
  let excess = 0
  const total = s.count.get() as number
  if (policy.maxEvents !== undefined) excess = Math.max(excess, total - policy.maxEvents)
  if (policy.maxBytes !== undefined && total > 0) {
    const used = usedBytes(db)
    // Estimate from the average row (its share of pages, indexes included); the next call corrects it.
    if (used > policy.maxBytes) excess = Math.max(excess, Math.ceil((used - policy.maxBytes) / (used / total)))
  }
  return Math.min(excess, total)
}

/**
 * Removes at most `maxRows` events and `maxRows` dead letters past the policy's limits in ONE
 * IMMEDIATE transaction, so a writer waits at most one chunk for the lock. The `counters` row moves
 * by exactly the rows removed, in the same transaction, so it stays exact.
 */
export function deleteChunk(db: Database.Database, policy: ResolvedRetention, maxRows: number, now: number): { events: number; deadLetters: number; more: boolean } {
  const s = statementsOf(db)
  return db
    .transaction(() => {
      let events = 0
      let more = false
      if (policy.maxAgeMs !== undefined) {
        s.countOlder.run(now - policy.maxAgeMs, maxRows)
        events += s.deleteOlder.run(now - policy.maxAgeMs, maxRows).changes
        if (events === maxRows) more = true
      }
      const left = maxRows - events
      if (left > 0 && (policy.maxEvents !== undefined || policy.maxBytes !== undefined)) {
        if (events > 0) s.countAdd.run(-events)
        const excess = excessEvents(db, s, policy)
        if (excess > 0) s.countOldest.run(Math.min(excess, left))
        const n = excess > 0 ? s.deleteOldest.run(Math.min(excess, left)).changes : 0
        if (n > 0) s.countAdd.run(-n)
        events += n
        if (excess > left) more = true
        else if (n > 0 && policy.maxBytes !== undefined && excessEvents(db, s, policy) > 0) more = true
      } else if (events > 0) {
        s.countAdd.run(-events)
      }
      let deadLetters = 0
      if (policy.maxDeadLetters !== undefined) {
        const excess = (s.deadCount.get() as number) - policy.maxDeadLetters
        if (excess > 0) {
          s.countDead.run(Math.min(excess, maxRows))
          deadLetters = s.deadDelete.run(Math.min(excess, maxRows)).changes
        }
        if (excess > maxRows) more = true
      }
      return { events, deadLetters, more }
    })
    .immediate()
}

/**
 * Hands up to `maxPages` free pages back to the file system when the file has
 * `auto_vacuum = INCREMENTAL` (the file then stops growing at the retention limit); on any other
 * file free pages are only reused, and this does nothing. Returns the pages freed and whether free
 * pages remain. In WAL mode the file shrinks at the next checkpoint.
 */
export function vacuumStep(db: Database.Database, maxPages: number): { pages: number; more: boolean } {
  if ((db.pragma('auto_vacuum', { simple: true }) as number) !== AUTO_VACUUM_INCREMENTAL) return { pages: 0, more: false }
  const free = db.pragma('freelist_count', { simple: true }) as number
  if (free === 0) return { pages: 0, more: false }
  const pages = Math.min(free, maxPages)
  // Its own short IMMEDIATE transaction: moving pages takes the write lock like a batch does.
  db.transaction(() => db.pragma(`incremental_vacuum(${pages})`)).immediate()
  return { pages, more: free > pages }
}

/** One retention step: a chunk of deletes, then a step of incremental vacuum. */
export function applySqliteRetention(db: Database.Database, policy: ResolvedRetention, maxRows: number, maxVacuumPages: number, now: number): RetentionResult {
  const removed = deleteChunk(db, policy, maxRows, now)
  const vacuum = vacuumStep(db, maxVacuumPages)
  return { events: removed.events, deadLetters: removed.deadLetters, vacuumedPages: vacuum.pages, more: removed.more || vacuum.more }
}

/**
 * Rebuilds the whole file (`VACUUM`) so it is no larger than its contents, and switches it to
 * `auto_vacuum = INCREMENTAL` on the way (SQLite applies that setting to an existing file only
 * through a VACUUM). Needs the file to itself: for a store no pipeline is writing to.
 */
export function vacuumFile(db: Database.Database): void {
  db.pragma(`auto_vacuum = ${AUTO_VACUUM_INCREMENTAL}`)
  db.exec('VACUUM')
  db.pragma('wal_checkpoint(TRUNCATE)')
}
