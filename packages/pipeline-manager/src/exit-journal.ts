// The exit journal of one pipeline. At start it checks the path (not the store's file, not held by
// another live pipeline, empty or a Ringside journal of this very store), replays what an earlier
// run left and puts a fresh journal in its place, which also proves the path can be written. When
// the process goes away, what the ring holds unstored is appended synchronously. Nothing is ever
// deleted that was not fully replayed and stored, and a file that is not a journal is never touched.

import { renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, resolve } from 'node:path'
import type { Logger } from 'pino'
import type { StageSpec } from '@ringside/async-writer'
import { createStore, type EventStore, type StoreSpec } from '@ringside/storage'
import { JournalError } from './errors.js'
import { appendJournal, createJournal, holdsOnly, readJournal, type JournalHeader } from './journal.js'
import { lockJournal, type JournalLock } from './journal-lock.js'
import { replayJournal, type JournalReplay } from './journal-replay.js'
import { sameFile, storeFiles, storeIdentity } from './store-identity.js'
import { subRingsOf, type PipelineRing } from './ring-set.js'

/** One write of the exit journal. */
export interface JournalWrite {
  readonly reason: string
  readonly events: number
  readonly bytes: number
  readonly ms: number
}

/** What `getState().journal` reports. */
export interface JournalState {
  readonly path: string
  /** What the start replayed from an earlier run. */
  readonly replay?: JournalReplay
  /** What was written to the journal (at exit, a signal, a crash or stop's deadline). */
  readonly written?: JournalWrite
  /** Why writing the journal failed: the events it was to keep are lost. */
  readonly error?: string
}

export interface ExitJournalOptions {
  readonly path: string
  readonly store: StoreSpec
  /** A plain ring, or a priority ring: each sub-ring's records are appended under its own id. */
  readonly ring: PipelineRing
  readonly stages: readonly StageSpec[]
  /** The store held by the manager's thread (memory), replayed into as is; others are opened for the replay. */
  readonly hosted: EventStore | undefined
  readonly logger: Logger
  /** Called when a write fails (after it is logged), with why the journal was being written. */
  readonly onWriteFailed: (err: JournalError, reason: string) => void
}

/** Runs `f` with the store a journal is replayed into: the hosted one, or one opened for it and closed after. */
async function withStore<T>(o: ExitJournalOptions, f: (store: EventStore) => Promise<T>): Promise<T> {
  const store = o.hosted ?? (await createStore(o.store))
  try {
    return await f(store)
  } finally {
    if (store !== o.hosted) await store.close()
  }
}

export class ExitJournal {
  readonly path: string
  readonly #o: ExitJournalOptions
  readonly #lock: JournalLock
  readonly #header: JournalHeader
  readonly #replay: JournalReplay | undefined
  #written: JournalWrite | undefined
  #error: string | undefined
  #finished = false

  private constructor(path: string, o: ExitJournalOptions, lock: JournalLock, header: JournalHeader, replay: JournalReplay | undefined) {
    this.path = path
    this.#o = o
    this.#lock = lock
    this.#header = header
    this.#replay = replay
  }

  /** Checks, locks, replays and renews the journal; throws JournalError, leaving the file as it was. */
  static async open(o: ExitJournalOptions): Promise<ExitJournal> {
    const path = resolve(o.path)
    for (const file of storeFiles(o.store)) {
      if (sameFile(path, file)) throw new JournalError('journal_is_store', path, `journal.path ${o.path} is the store's own file ${file}; the journal needs a file of its own`)
    }
    const lock = lockJournal(path)
    try {
      const identity = storeIdentity(o.store)
      const contents = readJournal(path)
      let replay: JournalReplay | undefined
      if (contents.header !== undefined) {
        if (contents.header.store !== identity) {
          throw new JournalError(
            'journal_of_another_store',
            path,
            `the journal ${path} keeps events for the store ${contents.header.store}, not for this pipeline's ${identity}; it is left as it is: start with that store to replay it, or move it away`,
          )
        }
        if (contents.records.length > 0 || contents.corruptBytes > 0) {
          try {
            replay = await withStore(o, (store) => replayJournal(path, contents, store, o.stages))
          } catch (cause) {
            throw new JournalError('journal_replay_failed', path, `could not replay the journal ${path}; it is kept for the next start`, { cause })
          }
          // Its valid records are stored; the bad bytes are kept for a look, under another name.
          if (contents.corruptBytes > 0) {
            const keptAs = `${path}.corrupt-${Date.now()}`
            renameSync(path, keptAs)
            replay = { ...replay, keptAs }
          }
          o.logger.info(replay, 'journal replayed')
        }
      }
      const header: JournalHeader = { store: identity, ringId: subRingsOf(o.ring)[0]!.ring.id, pid: process.pid, host: hostname(), createdAt: Date.now() }
      try {
        createJournal(path, header)
      } catch (cause) {
        throw new JournalError('journal_unwritable', path, `cannot write the journal ${path}: ${(cause as Error).message}`, { cause })
      }
      return new ExitJournal(path, o, lock, header, replay)
    } catch (err) {
      lock.release()
      throw err
    }
  }

  /**
   * Closes the ring's intake and appends what it still holds unstored. Synchronous (it runs on
   * process exit); at most once. A failure is kept (state, health) and handed to onWriteFailed.
   */
  write(reason: string): JournalWrite | undefined {
    if (this.#written !== undefined || this.#error !== undefined || this.#finished) return this.#written
    const t0 = performance.now()
    const ring = this.#o.ring
    ring.close()
    const subs = subRingsOf(ring)
    const pending = subs.map((s) => s.ring.exportPending())
    const events = pending.reduce((n, p) => n + p.length, 0)
    try {
      let bytes = 0
      for (let k = 0; k < subs.length; k++) bytes += appendJournal(this.path, subs[k]!.ring.id, pending[k]!, this.#header)
      this.#written = { reason, events, bytes, ms: performance.now() - t0 }
      this.#o.logger.warn(this.#written, 'unstored events written to the journal')
    } catch (cause) {
      this.#error = `could not write ${events} unstored events to the journal ${this.path} (${reason}): ${(cause as Error).message}`
      const err = new JournalError('journal_write_failed', this.path, this.#error, { cause })
      this.#o.logger.error({ err, reason }, 'could not write the journal')
      // At process exit the logger may be silent and nobody reads a report: say it on stderr.
      if (reason !== 'stop deadline') {
        try {
          writeSync(2, `ringside: ${this.#error}\n`)
        } catch {
          // stderr is closed: nothing more can be done
        }
      }
      this.#o.onWriteFailed(err, reason)
    }
    return this.#written
  }

  /** Removes the journal if it holds nothing but its header, and releases the lock. Once. */
  finish(): void {
    if (this.#finished) return
    this.#finished = true
    try {
      if (holdsOnly(this.path, this.#header)) rmSync(this.path)
    } catch {
      // Runs at process exit too: a journal with only a header left behind replays as nothing.
    }
    this.#lock.release()
  }

  get state(): JournalState {
    return {
      path: this.path,
      ...(this.#replay ? { replay: this.#replay } : {}),
      ...(this.#written ? { written: this.#written } : {}),
      ...(this.#error !== undefined ? { error: this.#error } : {}),
    }
  }

  /** The `journal` health check: a failed write is unhealthy; a journal that could not be written now, degraded. */
  health(): { status: 'healthy' | 'degraded' | 'unhealthy'; reason: string } {
    if (this.#error !== undefined) return { status: 'unhealthy', reason: this.#error }
    if (this.#finished) return { status: 'healthy', reason: `exit journal ${this.path} closed` }
    const dir = dirname(this.path)
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
      return { status: 'degraded', reason: `the exit journal's directory ${dir} is gone: an exit now would lose what the ring holds` }
    }
    return { status: 'healthy', reason: `exit journal ${this.path} ready` }
  }
}
