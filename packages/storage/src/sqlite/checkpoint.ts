// WAL checkpoints outside the writers' turns on the file. SQLite's own autocheckpoint runs inside
// the commit that crosses its threshold, so one writer's batch (and every writer queued behind the
// file's write lock) waits for the whole copy. Here a writer copies the WAL after its turn, while
// another writer commits (a PASSIVE checkpoint takes no write lock); every few checkpoints a short
// catch-up in its next turn lets the WAL start over from its beginning, so the file stays bounded.

import type Database from 'better-sqlite3'
import type { CheckpointResult } from '../event-store.js'

interface WalRow {
  busy: number
  log: number
  checkpointed: number
}

/**
 * Passes of a checkpoint outside the turn: each copies what another writer committed during the
 * previous one. SQLite syncs the database file only in a pass that reaches the WAL's end, and that
 * sync (of every page the bulk copied) belongs outside the turn too; passes shrink fast, so a few do.
 */
const PASSES = 4
/** Turns in which a connection catches up after its checkpoint before it leaves that to the next one. */
const CATCH_UP = 4
/**
 * The catch-up syncs the WAL and the database in a writer's turn (SQLite must, before the WAL may
 * start over), and a sync can take 10-100 ms on a busy disk. So the WAL is made to start over only
 * once it holds this many times `pages`; between, the copies outside the turn keep it copied and
 * it grows, bounded. (A WAL that starts over by itself, no writer committing meanwhile, costs nothing.)
 */
export const RESTART_AFTER_CHECKPOINTS = 4

/** `PRAGMA wal_checkpoint(NOOP)` reads the WAL's size without copying (SQLite 3.51.0 and later). */
export function hasNoopCheckpoint(db: Database.Database): boolean {
  const v = (db.prepare('SELECT sqlite_version()').pluck().get() as string).split('.').map(Number)
  return (v[0] ?? 0) > 3 || ((v[0] ?? 0) === 3 && (v[1] ?? 0) >= 51)
}

/** The checkpointing of one connection (see the file's opening comment). */
export class WalCheckpointer {
  readonly #noop: Database.Statement
  readonly #passive: Database.Statement
  readonly #pages: number
  /**
   * This connection copied the WAL outside its turn and has not yet seen it start over: in each of
   * its turns, before it writes, it copies what is left (see beforeWrite), for at most CATCH_UP
   * turns. `#copiedAt` is the WAL's size then; a smaller size later means it started over.
   */
  #catchUp = 0
  #copiedAt = 0
  /** WAL size from which a checkpoint is followed by catch-ups (see RESTART_AFTER_CHECKPOINTS). */
  readonly #restartPages: number

  /**
   * `pages`: WAL pages not yet copied past which `outsideTurn` copies; 0 turns it off.
   * `autocheckpointPages`: SQLite's own threshold (0: none); the WAL is made to start over well before it.
   */
  constructor(db: Database.Database, pages: number, autocheckpointPages: number) {
    this.#noop = db.prepare('PRAGMA wal_checkpoint(NOOP)')
    this.#passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
    this.#pages = pages
    const restart = pages * RESTART_AFTER_CHECKPOINTS
    this.#restartPages = autocheckpointPages > 0 ? Math.max(pages, Math.min(restart, Math.floor(autocheckpointPages / 2))) : restart
  }

  /**
   * Outside the writers' turns: when the WAL holds `pages` or more pages not yet in the database,
   * copies them (PASSIVE: never waits for a lock, never blocks a writer). Another writer may
   * commit meanwhile; what it adds is copied by the next pass or by `beforeWrite`.
   */
  outsideTurn(): CheckpointResult {
    const s = this.#noop.get() as WalRow
    if (this.#pages === 0 || s.log < 0 || s.log - s.checkpointed < this.#pages) return { walPages: Math.max(0, s.log), copiedPages: 0 }
    let r = s
    for (let pass = 0; pass < PASSES; pass++) {
      const p = this.#passive.get() as WalRow
      // busy: another connection is checkpointing, and copies what this one would have.
      if (p.busy !== 0) break
      const progress = p.checkpointed !== r.checkpointed
      r = p
      // Done: everything copied, or a reader's snapshot keeps the rest from being copied for now.
      if (r.log <= r.checkpointed || !progress) break
    }
    if (r === s) return { walPages: s.log, copiedPages: 0 }
    // The WAL starts over at the commit of a write transaction that began with every frame copied
    // and finds no reader in the WAL. Another writer committing during the last pass, or beginning
    // its transaction before it ended, keeps that from happening: once the WAL is long enough,
    // catch up in this connection's turns.
    if (r.log >= this.#restartPages) {
      this.#catchUp = CATCH_UP
      this.#copiedAt = r.log
    }
    // A WAL that started over meanwhile reports fewer pages than before: count from zero.
    return { walPages: r.log, copiedPages: r.checkpointed >= s.checkpointed ? r.checkpointed - s.checkpointed : r.checkpointed }
  }

  /**
   * In this connection's turn, before its write transaction: copies the few frames committed since
   * its last `outsideTurn`, so that the transaction begins with the WAL fully copied and starts it
   * over at its commit. Once the WAL is seen to have started over, it stops looking.
   */
  beforeWrite(): void {
    if (this.#catchUp === 0) return
    const s = this.#noop.get() as WalRow
    if (s.log < this.#copiedAt || s.log <= 0) {
      this.#catchUp = 0
      return
    }
    this.#catchUp--
    if (s.log > s.checkpointed) this.#passive.get()
  }
}
