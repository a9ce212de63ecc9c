// RingBuffer: the producer side of a multi-producer, multi-consumer SharedArrayBuffer ring, plus
// create/attach, stats and the supervisor's takeover of a dead consumer's claims. Producers reserve
// a slot with one compare-and-swap, encode straight into it and publish it; they never take a lock
// and never make a system call unless a consumer sleeps.

import { randomFillSync } from 'node:crypto'
import { ENC_INVALID_EVENT, ENC_TOO_LARGE, encodeEvent } from './codec.js'
import { RingConsumer } from './consumer.js'
import { RingError } from './errors.js'
import {
  C_CLAIMED,
  C_COMMITTED,
  DROP_INDEX,
  DROP_REASONS,
  H_BLOCK_TIMEOUT_MS,
  H_CLAIM_FROM,
  H_CLOSED,
  H_DATA_WAITERS,
  H_HEAD,
  H_HEAD_WRAPS,
  H_LOCK,
  H_MAGIC,
  H_MAX_CONSUMERS,
  H_MAX_EVENT_BYTES,
  H_OVERFLOW,
  H_READS_BASE,
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
  S_CLAIMED,
  S_DONE,
  S_EVICTED,
  S_PUBLISHED,
  regionsFor,
  type DropReason,
  type OverflowStrategy,
} from './layout.js'
import { resolveRingOptions, type ResolvedRingOptions, type RingBufferOptions } from './options.js'
import {
  acquireLock,
  countDrop,
  head64,
  lastLap,
  precedes,
  readsLow,
  releaseLock,
  stateAt,
  SUPERVISOR_TOKEN,
  sweep,
  turnOf,
  viewsOf,
  wakeConsumers,
  type Views,
} from './internal/views.js'
import { preemption } from './internal/preemption.js'

/** Why a write did not enter the ring. */
export type WriteDropReason = 'full' | 'too_large' | 'not_serializable' | 'invalid_event' | 'closed' | 'timeout'

/** The outcome of one write: accepted with its sequence number, or dropped with the reason. */
export type WriteResult = { readonly ok: true; readonly seq: number } | { readonly ok: false; readonly reason: WriteDropReason }

/** One uncommitted event as exportPending copies it: its encoded bytes (decode with decodeEvent). */
export interface PendingRecord {
  readonly seq: number
  readonly capturedAt: number
  readonly data: Uint8Array
}

/** A structured-cloneable handle: post it to a worker and call `RingBuffer.attach` there. */
export interface RingHandle {
  readonly kind: 'ringside.ring'
  readonly buffer: SharedArrayBuffer
}

/** A snapshot of the ring's counters. Positions are 64-bit (exact up to 2^53). */
export interface RingStats {
  readonly id: string
  readonly size: number
  readonly overflowStrategy: OverflowStrategy
  readonly maxEventBytes: number
  /** Next position a producer will reserve; equals every reservation ever made. */
  readonly writePosition: number
  /** Every position below this one is free for reuse. */
  readonly committedPosition: number
  /** Slots free for producers right now. */
  readonly available: number
  /** Events written and not yet claimed. */
  readonly ready: number
  /** Events claimed by consumers and not yet committed. */
  readonly claimed: number
  /** Capture time of the oldest event not yet committed (ready or claimed); absent when none. */
  readonly oldestPendingAt?: number
  /** Events accepted by write (published into the ring). */
  readonly totalWrites: number
  /** Events delivered to consumers by claim (a taken-over event is counted once). */
  readonly totalReads: number
  /** Events committed by consumers. */
  readonly totalCommitted: number
  /** Events refused or discarded, by reason. */
  readonly dropped: Readonly<Record<DropReason, number>>
  /** Used slots / size, 0..1. */
  readonly utilization: number
  readonly closed: boolean
}

const DROPS: { readonly [K in WriteDropReason]: WriteResult } = Object.freeze({
  full: Object.freeze({ ok: false, reason: 'full' }),
  too_large: Object.freeze({ ok: false, reason: 'too_large' }),
  not_serializable: Object.freeze({ ok: false, reason: 'not_serializable' }),
  invalid_event: Object.freeze({ ok: false, reason: 'invalid_event' }),
  closed: Object.freeze({ ok: false, reason: 'closed' }),
  timeout: Object.freeze({ ok: false, reason: 'timeout' }),
})

const FULL = 0.5 // not an integer: never a position
/**
 * This thread's encoding buffers, one per level of re-entrancy: encoding runs the application's
 * toJSON and getters, which may write to a ring themselves; each nested write encodes into its own
 * buffer, so it cannot overwrite the bytes of the write it interrupted. Each grows to the largest
 * maxEventBytes of any ring written at that level.
 */
const scratch: Uint8Array[] = [new Uint8Array(512)]
/** How many writes of this thread are encoding right now (writes nested inside toJSON or getters). */
let encoding = 0
/** Writes nested deeper than this inside toJSON or getters are refused (`not_serializable`): it ends a toJSON that writes events whose toJSON writes again. */
const MAX_REENTRANT_WRITES = 8
const EPOCH_OFFSET = performance.timeOrigin

/** Longest wait for the claim lock during a takeover. */
const TAKEOVER_LOCK_MS = 5_000

/**
 * A bounded ring of JSON-shaped events in a SharedArrayBuffer, shared by producer threads (the
 * application) and consumer threads (writers). See the package README for the protocol.
 */
export class RingBuffer {
  readonly #v: Views
  readonly #options: ResolvedRingOptions

  private constructor(v: Views) {
    this.#v = v
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
   * `block`, and then at most `blockTimeoutMs`.
   */
  write(event: unknown): WriteResult {
    const v = this.#v
    if (Atomics.load(v.hdr, H_CLOSED) !== 0) return this.#refuse('closed')
    if (event === null || typeof event !== 'object' || Array.isArray(event)) return this.#refuse('invalid_event')
    // Encode first, into this thread's scratch: a bad event is refused with its own reason, and no
    // slot is held while the application's toJSON or getters run.
    const level = encoding
    if (level >= MAX_REENTRANT_WRITES) return this.#refuse('not_serializable')
    let buf = scratch[level]
    if (buf === undefined || buf.length < v.maxEventBytes) buf = scratch[level] = new Uint8Array(Math.max(v.maxEventBytes, 512))
    encoding = level + 1
    let len: number
    try {
      len = encodeEvent(event, buf, 0, v.maxEventBytes)
    } finally {
      encoding = level
    }
    if (len < 0) return this.#refuse(len === ENC_TOO_LARGE ? 'too_large' : len === ENC_INVALID_EVENT ? 'invalid_event' : 'not_serializable')
    let pos = reserve(v)
    if (pos === FULL) {
      pos = this.#whenFull()
      if (pos === FULL) return this.#refuse(this.#options.overflowStrategy === 'block' ? 'timeout' : 'full')
    }
    const i = pos & v.mask
    const data = v.data
    let at = i * v.maxEventBytes
    if (len <= 64) for (let k = 0; k < len; k++) data[at++] = buf[k] as number
    else data.set(buf.subarray(0, len), at)
    const seq = (v.seqs[i] as number) + v.size
    v.seqs[i] = seq
    v.times[i] = EPOCH_OFFSET + performance.now()
    v.lens[i] = len
    v.owner[i] = 0
    const reserved = turnOf(pos, 0)
    if (Atomics.compareExchange(v.turn, i, reserved, turnOf(pos, S_PUBLISHED)) !== reserved) {
      // A consumer gave up on this slot (see RingConsumer abandonAfterMs) and counted it.
      return DROPS.timeout
    }
    if (Atomics.load(v.hdr, H_DATA_WAITERS) !== 0) wakeConsumers(v)
    return { ok: true, seq }
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
    const v = this.#v
    for (const [name, id] of [['deadId', deadId], ['heirId', heirId]] as const) {
      if (!Number.isInteger(id) || id < 0 || id >= v.maxConsumers) {
        throw new RingError('invalid_consumer', `${name} must be an integer from 0 to ${v.maxConsumers - 1}, got ${id}`)
      }
    }
    const deadToken = deadId + 1
    // A consumer killed inside claim() still holds the lock; it is dead, so the lock is ours.
    const brokeLock = Atomics.compareExchange(v.hdr, H_LOCK, deadToken, SUPERVISOR_TOKEN) === deadToken
    if (!brokeLock) acquireLock(v, SUPERVISOR_TOKEN, TAKEOVER_LOCK_MS)
    let handed = 0
    let uncounted = 0
    try {
      // A claim the dead consumer was taking when it died (it held the lock) is counted here
      // unless it had counted it itself: only the lock's holder changes the read count.
      const from = Atomics.load(v.hdr, H_CLAIM_FROM)
      const countInProgress = brokeLock && readsLow(v) === Atomics.load(v.hdr, H_READS_BASE)
      const tail = Atomics.load(v.hdr, H_TAIL)
      if (preemption !== undefined) preemption('cursor')
      const head = Atomics.load(v.hdr, H_HEAD)
      const heirHanded = -(heirId + 1)
      for (let p = lastLap(v, tail, head); precedes(p, head); p = (p + 1) | 0) {
        if (preemption !== undefined) preemption('slot')
        const i = p & v.mask
        if (stateAt(Atomics.load(v.turn, i), p) !== S_CLAIMED) continue
        const o = v.owner[i] as number
        // ownerPos !== p: claimed by a consumer that died before writing the owner; only the lock holder can be there.
        const orphan = (v.ownerPos[i] as number) !== p
        if ((orphan && brokeLock) || o === deadToken || o === -deadToken) {
          if (countInProgress && o !== -deadToken && !precedes(p, from)) uncounted++
          v.owner[i] = heirHanded
          v.ownerPos[i] = p
          handed++
        }
      }
      if (uncounted > 0) Atomics.add(v.counters, C_CLAIMED, BigInt(uncounted))
      v.pending[deadId] = 0
      Atomics.add(v.pending, heirId, handed)
    } finally {
      releaseLock(v, SUPERVISOR_TOKEN)
    }
    if (handed > 0) wakeConsumers(v)
    return handed
  }

  /**
   * Copies every event not yet committed (waiting or claimed) in position order, as its encoded
   * bytes: what an exit journal must keep. Synchronous and lock-free; a record committed while this
   * runs may be included as well (a store ignores keys it already holds).
   */
  exportPending(): PendingRecord[] {
    const v = this.#v
    const out: PendingRecord[] = []
    const tail = Atomics.load(v.hdr, H_TAIL)
    if (preemption !== undefined) preemption('cursor')
    const head = Atomics.load(v.hdr, H_HEAD)
    for (let p = lastLap(v, tail, head); precedes(p, head); p = (p + 1) | 0) {
      if (preemption !== undefined) preemption('slot')
      const i = p & v.mask
      const tv = Atomics.load(v.turn, i)
      const s = stateAt(tv, p)
      if (s !== S_PUBLISHED && s !== S_CLAIMED) continue
      const start = i * v.maxEventBytes
      const len = v.lens[i] as number
      const record = { seq: v.seqs[i] as number, capturedAt: v.times[i] as number, data: v.data.slice(start, start + len) }
      // Freed and reused while it was copied (committed meanwhile): the copy may mix two records.
      const now = stateAt(Atomics.load(v.turn, i), p)
      if (now === S_PUBLISHED || now === S_CLAIMED || now === S_DONE) out.push(record)
    }
    return out
  }

  /**
   * A snapshot of positions and counters, taken without a lock and always possible: counters are
   * read before the cursors they depend on and TAIL before HEAD, so committed <= reads <= writes,
   * 0 <= available <= size and ready + claimed <= size - available hold in every snapshot.
   */
  stats(): RingStats {
    const v = this.#v
    const hdr = v.hdr
    const totalCommitted = Number(Atomics.load(v.counters, C_COMMITTED))
    const totalReads = Number(Atomics.load(v.counters, C_CLAIMED))
    const dropped = {} as Record<DropReason, number>
    for (const r of DROP_REASONS) dropped[r] = Number(Atomics.load(v.counters, DROP_INDEX[r]))
    const tail = Atomics.load(hdr, H_TAIL)
    if (preemption !== undefined) preemption('cursor')
    const write = head64(v)
    const head = write % 2 ** 32 | 0
    // TAIL was read first, so head - tail >= 0. It can exceed size by the few slots a sweep has
    // freed (and producers reused) before moving TAIL past them: those are in use again, so the
    // ring is full, not overfull.
    const used = Math.min((head - tail) | 0, v.size)
    const live = scanLive(v, head, used)
    // Reservations that never became an accepted event: given up on by a consumer (producer died mid-write).
    const unaccepted = dropped.abandoned
    return {
      id: v.ringId,
      size: v.size,
      overflowStrategy: this.#options.overflowStrategy,
      maxEventBytes: v.maxEventBytes,
      writePosition: write,
      committedPosition: write - used,
      available: v.size - used,
      ready: live.ready,
      claimed: live.claimed,
      ...(live.oldestPendingAt === undefined ? {} : { oldestPendingAt: live.oldestPendingAt }),
      totalWrites: write - unaccepted,
      totalReads,
      totalCommitted,
      dropped,
      utilization: used / v.size,
      closed: Atomics.load(hdr, H_CLOSED) !== 0,
    }
  }
}

/**
 * Events waiting (published) and claimed among the `used` positions below `head`, and the oldest
 * one's capture time (stats only). Scanning exactly the positions stats counts as used keeps
 * ready + claimed <= used.
 */
function scanLive(v: Views, head: number, used: number): { ready: number; claimed: number; oldestPendingAt: number | undefined } {
  let ready = 0
  let claimed = 0
  let oldestPendingAt: number | undefined
  for (let p = (head - used) | 0; precedes(p, head); p = (p + 1) | 0) {
    if (preemption !== undefined) preemption('slot')
    const i = p & v.mask
    const s = stateAt(Atomics.load(v.turn, i), p)
    if (s === S_CLAIMED) claimed++
    else if (s === S_PUBLISHED) ready++
    else continue
    if (oldestPendingAt === undefined) {
      const at = v.times[i] as number
      // Only if the slot still holds that record: a reused slot holds a later capture time.
      const still = stateAt(Atomics.load(v.turn, i), p)
      if (still === S_CLAIMED || still === S_PUBLISHED || still === S_DONE) oldestPendingAt = at
    }
  }
  return { ready, claimed, oldestPendingAt }
}

/** One compare-and-swap on HEAD if the slot is free for this lap; FULL if the slot is still in use. */
function reserve(v: Views): number {
  const hdr = v.hdr
  for (;;) {
    const h = Atomics.load(hdr, H_HEAD)
    const s = stateAt(Atomics.load(v.turn, h & v.mask), h)
    if (s === 0) {
      if (Atomics.compareExchange(hdr, H_HEAD, h, (h + 1) | 0) === h) {
        if (h === -1) Atomics.add(hdr, H_HEAD_WRAPS, 1)
        return h
      }
    } else if (s < 0) {
      return FULL
    }
    // s > 0: another producer took h; read HEAD again.
  }
}

/**
 * drop_oldest: discards the event at TAIL if no consumer has claimed it, then frees its slot.
 * Returns false when the oldest slot is claimed or still being written (nothing can be freed).
 */
function evictOldest(v: Views): boolean {
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
