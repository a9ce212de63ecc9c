// The writers' write lock on one SQLite file, in shared memory: SQLite lets one connection write
// at a time, and its busy handler makes a waiting connection sleep and poll. Taking this lock
// before each store transaction turns that into an immediate handoff (Atomics.wait/notify), so
// writers decode, validate, enrich and run stages in parallel and only the transaction is serial.

import { WriterError } from './errors.js'

// Layout: Int32 [OWNER, ACQUISITIONS, CONTENDED]. OWNER is 0 when free, else the holder's thread
// id: the pool knows every writer's thread id, so it frees the lock of a writer that dies holding
// it (a terminated thread cannot release anything itself).
const OWNER = 0
const ACQUISITIONS = 1
const CONTENDED = 2
const WORDS = 4

/** A fresh, free lock. */
export function createStoreLockBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(WORDS * Int32Array.BYTES_PER_ELEMENT)
}

/** Longest single blocking wait: between slices the writer's event loop gets a turn (control calls, timers). */
const SLICE_MS = 50

/** The lock was not free within the writer's bound: a transient store error (retried). */
export class StoreLockTimeoutError extends WriterError {
  readonly transient = true
  readonly holder: number
  readonly timeoutMs: number
  constructor(holder: number, timeoutMs: number) {
    super('store_lock_timeout', `the store's write lock was held by thread ${holder} for more than ${timeoutMs} ms`)
    this.name = 'StoreLockTimeoutError'
    this.holder = holder
    this.timeoutMs = timeoutMs
  }
}

/** What a lock's counters say (for tests and benchmarks). */
export interface StoreLockView {
  /** Thread id of the holder, 0 when free. */
  readonly owner: number
  /** Times the lock was taken. */
  readonly acquisitions: number
  /** Times a writer found it held and had to wait. */
  readonly contended: number
}

export function readStoreLock(buffer: SharedArrayBuffer): StoreLockView {
  const w = new Int32Array(buffer)
  return { owner: Atomics.load(w, OWNER), acquisitions: Atomics.load(w, ACQUISITIONS), contended: Atomics.load(w, CONTENDED) }
}

/**
 * Frees the lock if `owner` holds it (the pool, after that writer's thread exited) and wakes a
 * waiter. Returns whether it was held by `owner`.
 */
export function releaseStoreLockOf(buffer: SharedArrayBuffer, owner: number): boolean {
  const w = new Int32Array(buffer)
  if (Atomics.compareExchange(w, OWNER, owner, 0) !== owner) return false
  Atomics.notify(w, OWNER, 1)
  return true
}

/** One writer's handle on the lock; `owner` is its thread id (never 0). */
export class StoreLock {
  readonly #w: Int32Array
  readonly #owner: number

  constructor(buffer: SharedArrayBuffer, owner: number) {
    if (!Number.isInteger(owner) || owner <= 0) throw new RangeError(`a store lock owner must be a positive integer (a thread id), got ${owner}`)
    this.#w = new Int32Array(buffer)
    this.#owner = owner
  }

  get held(): boolean {
    return Atomics.load(this.#w, OWNER) === this.#owner
  }

  tryAcquire(): boolean {
    if (Atomics.compareExchange(this.#w, OWNER, 0, this.#owner) !== 0) return false
    Atomics.add(this.#w, ACQUISITIONS, 1)
    return true
  }

  /**
   * Takes the lock, waiting at most `timeoutMs` (then StoreLockTimeoutError). Waits block the
   * thread for at most SLICE_MS at a time, so a handoff wakes the waiter at once; between slices
   * `onWait` runs (the writer's heartbeat) and the event loop turns.
   */
  async acquire(timeoutMs: number, onWait?: () => void): Promise<void> {
    if (this.tryAcquire()) return
    Atomics.add(this.#w, CONTENDED, 1)
    const end = performance.now() + timeoutMs
    for (;;) {
      const holder = Atomics.load(this.#w, OWNER)
      if (holder === this.#owner) throw new Error(`store lock: thread ${this.#owner} already holds it (acquire is not reentrant)`)
      const left = end - performance.now()
      if (left <= 0) throw new StoreLockTimeoutError(holder, timeoutMs)
      if (holder !== 0) Atomics.wait(this.#w, OWNER, holder, Math.min(SLICE_MS, left))
      if (this.tryAcquire()) return
      onWait?.()
      if (Atomics.load(this.#w, OWNER) !== 0) await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  /** Frees the lock (only if this writer holds it) and wakes one waiter. */
  release(): void {
    if (Atomics.compareExchange(this.#w, OWNER, this.#owner, 0) === this.#owner) Atomics.notify(this.#w, OWNER, 1)
  }
}
