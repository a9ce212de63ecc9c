// A fault-injection wrapper around any store, shipped for drills and soaks: on command (from any
// thread, through shared memory) it fails every call with a transient or a permanent error, slows
// calls down, goes offline, or rejects "poison" events permanently. Named by a serializable spec:
// { target: FAULTY_STORE_TARGET, options: { inner: <store spec>, control: control.buffer } }.

import { createStore, type StoreSpec } from './create-store.js'
import { StoreError, StoreRecordError } from './errors.js'
import type { EventRecord } from './event-record.js'
import type { EventStore } from './event-store.js'

const MODES = ['ok', 'transient', 'permanent', 'offline'] as const
export type FaultMode = (typeof MODES)[number]

// Int32 words: [mode, slowMs, poisonField on/off, calls, failures]
const W_MODE = 0
const W_SLOW = 1
const W_POISON = 2
const W_CALLS = 3
const W_FAILURES = 4

/** The handle that drives a faulty store from any thread. */
export class FaultyStoreControl {
  readonly buffer: SharedArrayBuffer
  readonly #w: Int32Array

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(32)) {
    this.buffer = buffer
    this.#w = new Int32Array(buffer)
  }

  /** `transient`: every call fails and may succeed later; `permanent`: fails the same way every time; `offline`: transient, as a lost connection. */
  set mode(mode: FaultMode) {
    Atomics.store(this.#w, W_MODE, MODES.indexOf(mode))
  }

  get mode(): FaultMode {
    return MODES[Atomics.load(this.#w, W_MODE)] ?? 'ok'
  }

  /** Adds this many ms to every call (0: none). */
  set slowMs(ms: number) {
    Atomics.store(this.#w, W_SLOW, ms)
  }

  /** When on, a batch holding an event with `poison: true` fails with a permanent error. */
  set rejectPoison(on: boolean) {
    Atomics.store(this.#w, W_POISON, on ? 1 : 0)
  }

  /** Back to normal. */
  heal(): void {
    Atomics.store(this.#w, W_MODE, 0)
    Atomics.store(this.#w, W_SLOW, 0)
  }

  get calls(): number {
    return Atomics.load(this.#w, W_CALLS)
  }

  get failures(): number {
    return Atomics.load(this.#w, W_FAILURES)
  }
}

/** The `target` to name the faulty store in a store spec: this module itself, built or source. */
export const FAULTY_STORE_TARGET = import.meta.url

export interface FaultyStoreOptions {
  readonly inner: StoreSpec
  readonly control: SharedArrayBuffer
}

/** The factory a `{ target: FAULTY_STORE_TARGET }` spec calls inside the writer. */
export async function createFaultyStore(options: FaultyStoreOptions): Promise<EventStore> {
  const inner = await createStore(options.inner)
  const w = new Int32Array(options.control)
  const gate = async (batch?: readonly EventRecord[]): Promise<void> => {
    Atomics.add(w, W_CALLS, 1)
    const slow = Atomics.load(w, W_SLOW)
    if (slow > 0) await new Promise((r) => setTimeout(r, slow))
    const mode = MODES[Atomics.load(w, W_MODE)]
    if (mode === 'ok' && !(batch && Atomics.load(w, W_POISON) === 1)) return
    if (mode !== 'ok') {
      Atomics.add(w, W_FAILURES, 1)
      if (mode === 'permanent') throw new StoreError('sqlite_error', 'injected permanent store failure')
      throw new StoreError('io_error', mode === 'offline' ? 'injected outage: store offline' : 'injected transient store failure', { transient: true })
    }
    const poisoned = batch!.findIndex((r) => r.event.poison === true)
    if (poisoned !== -1) {
      Atomics.add(w, W_FAILURES, 1)
      throw new StoreRecordError(poisoned, 'event', `injected: event ${batch![poisoned]!.key} is poison`)
    }
  }
  return {
    async storeEvents(batch) {
      await gate(batch)
      return inner.storeEvents(batch)
    },
    async storeDeadLetters(items) {
      await gate()
      return inner.storeDeadLetters(items)
    },
    getEvent: (key) => inner.getEvent(key),
    query: (filter) => inner.query(filter),
    stats: () => inner.stats(),
    deleteOlderThan: (t) => inner.deleteOlderThan(t),
    listDeadLetters: (o) => inner.listDeadLetters(o),
    ...(inner.countByRing ? { countByRing: (id: string) => inner.countByRing!(id) } : {}),
    // Retention writes to the store: an injected outage or failure fails it like a batch.
    ...(inner.applyRetention
      ? {
          async applyRetention(budget?: Parameters<NonNullable<EventStore['applyRetention']>>[0]) {
            await gate()
            return inner.applyRetention!(budget)
          },
        }
      : {}),
    // The drill's outage shows in health as a real one would; a probe does not count as a call.
    async health() {
      const mode = MODES[Atomics.load(w, W_MODE)]
      if (mode === 'offline') return { status: 'unhealthy', reason: 'injected outage: store offline' }
      return inner.health ? inner.health() : { status: 'healthy', reason: 'store answers' }
    },
    close: () => inner.close(),
  }
}

export { createFaultyStore as createStore }
