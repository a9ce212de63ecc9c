// RingBuffer: the producer side of a multi-producer, multi-consumer SharedArrayBuffer ring, plus
// create/attach and the facade of stats, exportPending (snapshot.ts), takeOver (takeover.ts),
// pressure (pressure.ts) and the sampling policy (sampling.ts).
// Producers reserve a slot with one compare-and-swap, encode the event straight into it and
// publish; they never take a lock and never make a system call unless a consumer sleeps.

import { randomFillSync } from 'node:crypto'
import { ENC_INVALID_EVENT, ENC_TOO_LARGE, encodeEvent } from './codec.js'
import { RingConsumer } from './consumer.js'
import { RingError } from './errors.js'
import {
  H_BLOCK_TIMEOUT_MS,
  H_CLOSED,
  H_DATA_WAITERS,
  H_WAKE_AT,
  H_HEAD,
  H_HEAD_WRAPS,
  H_MAGIC,
  H_MAX_CONSUMERS,
  H_MAX_EVENT_BYTES,
  H_OVERFLOW,
  H_RING_ID,
  H_SIZE,
  H_SPACE_SEQ,
  H_SPACE_WAITERS,
  H_TAIL,
  H_VERSION,
  HEADER_WORDS,
  LAYOUT_VERSION,
  MAGIC,
  OVERFLOW_CODES,
  OVERFLOW_NAMES,
  C_VOIDED,
  S_ABANDONED,
  S_CLAIMED,
  S_EVICTED,
  S_PUBLISHED,
  regionsFor,
  type OverflowStrategy,
} from './layout.js'
import { resolveRingOptions, type ResolvedRingOptions, type RingBufferOptions } from './options.js'
import { pressureOf } from './pressure.js'
import { resolveSampling, Sampler, storeSampling, type ResolvedSamplingPolicy, type SamplingPolicy } from './sampling.js'
import { exportPending, statsOf, type PendingRecord, type RingStats } from './snapshot.js'
import { takeOver } from './takeover.js'
import { countDrop, precedes, stateAt, sweep, turnOf, viewsOf, wakeConsumers, type Views } from './internal/views.js'

export type { PendingRecord, RingStats } from './snapshot.js'

/** Why a write did not enter the ring. */
export type WriteDropReason = 'full' | 'too_large' | 'not_serializable' | 'invalid_event' | 'closed' | 'timeout' | 'sampled'

/** The outcome of one write: accepted with its sequence number, or dropped with the reason. */
export type WriteResult = { readonly ok: true; readonly seq: number } | { readonly ok: false; readonly reason: WriteDropReason }

/** A structured-cloneable handle: post it to a worker and call `RingBuffer.attach` there. */
export interface RingHandle {
  readonly kind: 'ringside.ring'
  readonly buffer: SharedArrayBuffer
}

const DROPS: { readonly [K in WriteDropReason]: WriteResult } = Object.freeze({
  full: Object.freeze({ ok: false, reason: 'full' }),
  too_large: Object.freeze({ ok: false, reason: 'too_large' }),
  not_serializable: Object.freeze({ ok: false, reason: 'not_serializable' }),
  invalid_event: Object.freeze({ ok: false, reason: 'invalid_event' }),
  closed: Object.freeze({ ok: false, reason: 'closed' }),
  timeout: Object.freeze({ ok: false, reason: 'timeout' }),
  sampled: Object.freeze({ ok: false, reason: 'sampled' }),
})

const FULL = 0.5 // not an integer: never a position
/** How many writes of this thread are encoding right now (writes nested inside toJSON or getters). */
let encoding = 0
/** Writes nested deeper than this inside toJSON or getters are refused (`not_serializable`): it ends a toJSON that writes events whose toJSON writes again. */
const MAX_REENTRANT_WRITES = 8
const EPOCH_OFFSET = performance.timeOrigin

/**
 * A bounded ring of JSON-shaped events in a SharedArrayBuffer, shared by producer threads (the
 * application) and consumer threads (writers). See the package README for the protocol.
 */
export class RingBuffer {
  readonly #v: Views
  readonly #options: ResolvedRingOptions
  readonly #sampler: Sampler

  private constructor(v: Views) {
    this.#v = v
    this.#sampler = new Sampler(v)
    this.#options = Object.freeze({
      size: v.size,
      maxEventBytes: v.maxEventBytes,
      maxConsumers: v.maxConsumers,
      overflowStrategy: OVERFLOW_NAMES[v.hdr[H_OVERFLOW] as number] as OverflowStrategy,
      blockTimeoutMs: v.hdr[H_BLOCK_TIMEOUT_MS] as number,
    })
  }

  /** Creates a ring. Throws RingOptionError (codes invalid_size, size_must_be_power_of_2, invalid_overflow_strategy, invalid_option). */
  static create(options?: RingBufferOptions): RingBuffer {
    const o = resolveRingOptions(options)
    const r = regionsFor(o.size, o.maxEventBytes, o.maxConsumers)
    let sab: SharedArrayBuffer
    try {
      sab = new SharedArrayBuffer(r.totalBytes)
    } catch (cause) {
      throw new RingError('invalid_option', `could not allocate ${r.totalBytes} bytes of shared memory for the ring`, { cause })
    }
    const hdr = new Int32Array(sab, 0, HEADER_WORDS)
    hdr[H_MAGIC] = MAGIC
    hdr[H_VERSION] = LAYOUT_VERSION
    hdr[H_SIZE] = o.size
    hdr[H_MAX_EVENT_BYTES] = o.maxEventBytes
    hdr[H_OVERFLOW] = OVERFLOW_CODES[o.overflowStrategy]
    hdr[H_BLOCK_TIMEOUT_MS] = o.blockTimeoutMs
    hdr[H_MAX_CONSUMERS] = o.maxConsumers
    randomFillSync(hdr.subarray(H_RING_ID, H_RING_ID + 4))
    const v = viewsOf(sab)
    const sampling = options?.sampling
    if (sampling !== undefined) storeSampling(v, resolveSampling(sampling))
    for (let i = 0; i < o.size; i++) {
      v.turn[i] = turnOf(i, 0)
      v.seqs[i] = i - o.size // the producer of position i writes seqs[i] + size
      v.ownerPos[i] = i - o.size // never the position of the slot's record: no owner written yet
    }
    return new RingBuffer(v)
  }

  /** Attaches to a ring created in another thread from its handle. Throws RingError `invalid_handle`. */
  static attach(handle: RingHandle): RingBuffer {
    const sab = (handle as { buffer?: unknown } | null)?.buffer
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < HEADER_WORDS * 4) {
      throw new RingError('invalid_handle', 'handle.buffer must be the SharedArrayBuffer of a ring')
    }
    const hdr = new Int32Array(sab, 0, HEADER_WORDS)
    if (hdr[H_MAGIC] !== MAGIC || hdr[H_VERSION] !== LAYOUT_VERSION) {
      throw new RingError('invalid_handle', `handle.buffer is not a ring of layout version ${LAYOUT_VERSION}`)
    }
    return new RingBuffer(viewsOf(sab))
  }

  /** Structured-cloneable handle for `attach` in another thread. */
  get handle(): RingHandle {
    return { kind: 'ringside.ring', buffer: this.#v.sab }
  }

  /** The ring's random 128-bit id, hex; with a sequence number it forms an event key. */
  get id(): string {
    return this.#v.ringId
  }

  get options(): ResolvedRingOptions {
    return this.#options
  }

  get closed(): boolean {
    return Atomics.load(this.#v.hdr, H_CLOSED) !== 0
  }

  /** Refuses every later write with `closed`. Events already in the ring stay for consumers. */
  close(): void {
    Atomics.store(this.#v.hdr, H_CLOSED, 1)
  }

  /**
   * Writes one event. Synchronous; never throws for a full ring or a bad event; waits only under
   * `block`, and then at most `blockTimeoutMs`. `time`, a `performance.now()` reading of this
   * thread taken just before, is stamped as the capture time instead of reading the clock again
   * (a producer that has just read the clock for its own use spares the second read); anything
   * but a finite number is ignored.
   */
  write(event: unknown, time?: number): WriteResult {
    const v = this.#v
    // A plain read (an Atomics.load costs about as much as the rest of these checks): close() is an
    // Atomics.store, so a write ordered after it (same thread, or after a message) sees it.
    if (v.hdr[H_CLOSED] !== 0) return this.#refuse('closed')
    if (event === null || typeof event !== 'object' || Array.isArray(event)) return this.#refuse('invalid_event')
    if (this.#sampler.skips(event)) return this.#refuse('sampled') // before encoding: a sampled-out event costs no encode
    const level = encoding
    if (level >= MAX_REENTRANT_WRITES) return this.#refuse('not_serializable')
    let pos = reserve(v)
    if (pos === FULL) {
      pos = this.#whenFull()
      if (pos === FULL) return this.#refuse(this.#options.overflowStrategy === 'block' ? 'timeout' : 'full')
    }
    // Encode straight into the reserved slot: copying from a scratch buffer cost about a fifth
    // of the write. A write nested inside the application's toJSON or getters reserves its own
    // slot, so it cannot touch these bytes; consumers wait for this slot as for any being written.
    const i = pos & v.mask
    const at = i * v.maxEventBytes
    encoding = level + 1
    let len: number
    try {
      len = encodeEvent(event, v.data, at, at + v.maxEventBytes, v.dataView)
    } finally {
      encoding = level
    }
    if (len < 0) return this.#void(pos, i, len === ENC_TOO_LARGE ? 'too_large' : len === ENC_INVALID_EVENT ? 'invalid_event' : 'not_serializable')
    const seq = (v.seqs[i] as number) + v.size
    v.seqs[i] = seq
    v.times[i] = EPOCH_OFFSET + (typeof time === 'number' && Number.isFinite(time) ? time : performance.now())
    v.lens[i] = len
    v.owner[i] = 0
    const reserved = turnOf(pos, 0)
    if (Atomics.compareExchange(v.turn, i, reserved, turnOf(pos, S_PUBLISHED)) !== reserved) {
      // A consumer gave up on this slot (see RingConsumer abandonAfterMs) and counted it.
      return DROPS.timeout
    }
    if (Atomics.load(v.hdr, H_DATA_WAITERS) !== 0 && !precedes(pos, Atomics.load(v.hdr, H_WAKE_AT))) wakeConsumers(v)
    return { ok: true, seq }
  }

  /**
   * How full the ring is, 0..1: slots reserved and not yet freed (ready, claimed, committed but not
   * yet swept) / size. Two Atomics loads, no allocation; from any thread holding the ring.
   */
  pressure(): number {
    return pressureOf(this.#v)
  }

  /** The sampling policy in force (shared by every thread of the ring), or null when off. */
  get sampling(): ResolvedSamplingPolicy | null {
    return this.#sampler.policy
  }

  /**
   * Sets (or, with null, turns off) the sampling policy for every thread's next write: above
   * `above` fill, keep 1 in `keepOneIn` events of each type, always keeping `alwaysKeep`. Sampled
   * out events are refused with `sampled` and counted. Throws RingOptionError for a bad policy.
   */
  setSampling(policy: SamplingPolicy | null): void {
    storeSampling(this.#v, policy === null ? null : resolveSampling(policy))
  }

  /**
   * Gives back the slot of an event the encoder refused: it is marked abandoned (consumers skip it,
   * sweeps free it) and counted under `reason` and as voided, so it is no write. If a consumer gave
   * up on the slot first, it has counted the event as abandoned already.
   */
  #void(pos: number, i: number, reason: WriteDropReason): WriteResult {
    const v = this.#v
    const reserved = turnOf(pos, 0)
    if (Atomics.compareExchange(v.turn, i, reserved, turnOf(pos, S_ABANDONED)) !== reserved) return DROPS[reason]
    Atomics.add(v.counters, C_VOIDED, 1n)
    countDrop(v, reason)
    sweep(v)
    return DROPS[reason]
  }

  /** Writes several events in order; one result per event. */
  writeBatch(events: readonly unknown[]): WriteResult[] {
    const out: WriteResult[] = new Array(events.length)
    for (let k = 0; k < events.length; k++) out[k] = this.write(events[k])
    return out
  }

  #refuse(reason: WriteDropReason): WriteResult {
    countDrop(this.#v, reason)
    return DROPS[reason]
  }

  /** Applies the overflow strategy; returns a reserved position or FULL. */
  #whenFull(): number {
    const v = this.#v
    switch (this.#options.overflowStrategy) {
      case 'drop_newest':
        return FULL
      case 'drop_oldest':
        // Each eviction frees one slot unless a racing producer takes it first; bound the retries.
        for (let tries = 0; tries < 64; tries++) {
          if (!evictOldest(v)) return FULL
          const pos = reserve(v)
          if (pos !== FULL) return pos
        }
        return FULL
      case 'block':
        return this.#waitForSpace()
      default:
        throw new RingError('invalid_option', `unknown overflow strategy ${String(this.#options.overflowStrategy)}`)
    }
  }

  #waitForSpace(): number {
    const v = this.#v
    const deadline = performance.now() + this.#options.blockTimeoutMs
    Atomics.add(v.hdr, H_SPACE_WAITERS, 1)
    try {
      for (;;) {
        const seen = Atomics.load(v.hdr, H_SPACE_SEQ)
        const pos = reserve(v)
        if (pos !== FULL) return pos
        const left = deadline - performance.now()
        if (left <= 0) return FULL
        Atomics.wait(v.hdr, H_SPACE_SEQ, seen, left)
      }
    } finally {
      Atomics.sub(v.hdr, H_SPACE_WAITERS, 1)
    }
  }

  /** A consumer bound to `id` (0 .. maxConsumers-1). One thread should use one id at a time. */
  consumer(id: number, options?: { lockTimeoutMs?: number; abandonAfterMs?: number }): RingConsumer {
    return new RingConsumer(this.#v, id, options)
  }

  /**
   * Hands every claim held by the dead consumer `deadId` (including one it was in the middle of
   * taking) to `heirId`, whose next `claim()` returns them. Call it only once the dead consumer's
   * thread has stopped. Returns the number of events handed over.
   */
  takeOver(deadId: number, heirId: number): number {
    return takeOver(this.#v, deadId, heirId)
  }

  /**
   * Copies every event not yet committed (waiting or claimed) in position order, as its encoded
   * bytes: what an exit journal must keep. Synchronous and lock-free; a record committed while this
   * runs may be included as well (a store ignores keys it already holds).
   */
  exportPending(): PendingRecord[] {
    return exportPending(this.#v)
  }

  /**
   * A snapshot of positions and counters, taken without a lock and always possible (see
   * snapshot.ts): committed <= reads <= writes, 0 <= available <= size, ready + claimed <= used.
   */
  stats(): RingStats {
    return statsOf(this.#v, this.#options.overflowStrategy)
  }
}

/** One compare-and-swap on HEAD if the slot is free for this lap; FULL if the slot is still in use. */
function reserve(v: Views): number {
  const hdr = v.hdr
  // HEAD is first read plainly: the compare-and-swap checks it, and a failed one returns the
  // current HEAD. A stale HEAD is never taken for a full ring: its slot was reserved already, so
  // its state is above zero for that position.
  let h = hdr[H_HEAD] as number
  for (;;) {
    const s = stateAt(Atomics.load(v.turn, h & v.mask), h)
    if (s === 0) {
      const seen = Atomics.compareExchange(hdr, H_HEAD, h, (h + 1) | 0)
      if (seen === h) {
        if (h === -1) Atomics.add(hdr, H_HEAD_WRAPS, 1)
        return h
      }
      h = seen
    } else if (s < 0) {
      return FULL
    } else {
      h = Atomics.load(hdr, H_HEAD) // another producer took h
    }
  }
}

/**
 * drop_oldest: discards the event at TAIL if no consumer has claimed it, then frees its slot.
 * Returns false when the oldest slot is claimed or still being written (nothing can be freed).
 */
export function evictOldest(v: Views): boolean {
  const t = Atomics.load(v.hdr, H_TAIL)
  const i = t & v.mask
  const tv = Atomics.load(v.turn, i)
  const s = stateAt(tv, t)
  if (s === S_CLAIMED || s === 0) return false
  if (s === S_PUBLISHED && Atomics.compareExchange(v.turn, i, tv, turnOf(t, S_EVICTED)) === tv) {
    countDrop(v, 'evicted')
  }
  sweep(v)
  return true
}
