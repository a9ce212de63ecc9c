// RingConsumer: the consumer side. claim() takes up to N published events (and M bytes) under a
// short lock shared only by consumers, marks each slot CLAIMED with its owner in shared memory,
// and returns decoded records; commit() marks them DONE and frees space up to the oldest
// uncommitted claim. A supervisor can hand a dead consumer's claims to a live one (takeOver).

import { decodeEvent } from './codec.js'
import { RingDecodeError, RingError } from './errors.js'
import {
  C_CLAIMED,
  C_COMMITTED,
  H_CLAIM,
  H_CLAIM_FROM,
  H_DATA_SEQ,
  H_DATA_WAITERS,
  H_WAKE_AT,
  H_HEAD,
  H_READS_BASE,
  H_TAIL,
  S_ABANDONED,
  S_CLAIMED,
  S_DONE,
  S_PUBLISHED,
} from './layout.js'
import {
  acquireLock,
  claimStart,
  countDrop,
  lastLap,
  precedes,
  readsLow,
  releaseLock,
  stateAt,
  sweep,
  turnOf,
  type Views,
} from './internal/views.js'
import { preemption } from './internal/preemption.js'

const noop = (): void => {}
/** 0..999 in decimal, and the same padded to three digits (the last digits of a longer seq). */
const DIGITS = Array.from({ length: 1000 }, (_, n) => String(n))
const PADDED = DIGITS.map((d) => d.padStart(3, '0'))

/**
 * Makes records' keys, `${ringId}:${seq}`. Converting each seq to decimal cost about a tenth of a
 * claim; the seqs of a claim share all but their last three digits, so those come from a table and
 * the text before them is kept from the previous key.
 */
export class KeyMaker {
  readonly #prefix: string
  /** seq / 1000 of the last key made with more than three digits, and its text up to them. */
  #hi = -1
  #base = ''

  constructor(ringId: string) {
    this.#prefix = `${ringId}:`
  }

  key(seq: number): string {
    let hi = Math.floor(seq / 1000)
    let lo = seq - hi * 1000
    // seq / 1000 is rounded for seqs above 2^42 or so: put the quotient right
    if (lo < 0) {
      hi--
      lo += 1000
    } else if (lo >= 1000) {
      hi++
      lo -= 1000
    }
    if (hi === 0) return this.#prefix + (DIGITS[lo] as string)
    if (hi !== this.#hi) {
      this.#hi = hi
      this.#base = this.#prefix + hi
    }
    return this.#base + (PADDED[lo] as string)
  }
}
/** Period of the keep-alive interval of waitForDataAsync: the longest a timer may be (~24.8 days). */
const KEEP_ALIVE_MS = 2 ** 31 - 1

/** One event as a consumer receives it. */
export interface RingRecord {
  /** `${ringId}:${seq}`: unique across rings and restarts. */
  readonly key: string
  readonly ringId: string
  /** The event's sequence number in its ring, from 0. */
  readonly seq: number
  /** When the ring accepted the event, ms since the epoch (fractional). */
  readonly capturedAt: number
  /** Encoded size in the ring. */
  readonly bytes: number
  /** The event as written (JSON semantics); `{}` when it did not decode. */
  readonly event: Record<string, unknown>
  /**
   * Set when the record's bytes in the ring do not decode (corrupted shared memory); `event` is
   * then `{}`. Such a record is delivered and committed like any other: quarantine it.
   */
  readonly decodeError?: RingDecodeError
}

/** A batch a consumer holds until it commits it. */
export interface Claim {
  readonly consumerId: number
  readonly records: readonly RingRecord[]
  readonly bytes: number
  /** True when this batch was handed over from a dead consumer: it may already be stored. */
  readonly handedOver: boolean
  /** Ring positions of the records (internal to commit). */
  readonly positions: readonly number[]
}

export interface ConsumerOptions {
  /** Longest wait for the claim lock before claim() throws `lock_timeout`. Defaults to 5000. */
  lockTimeoutMs?: number
  /**
   * How long a reserved slot may stay unwritten before a consumer gives up on it (its producer
   * thread died mid-write) and counts it as `abandoned`. Defaults to 2000.
   */
  abandonAfterMs?: number
}

/** A consumer bound to one id. Not for concurrent use from two threads. */
export class RingConsumer {
  readonly #v: Views
  readonly id: number
  readonly #token: number
  readonly #lockTimeoutMs: number
  readonly #abandonAfterMs: number
  readonly #keys: KeyMaker
  #stuckPos = 0
  #stuckSince = -1

  constructor(v: Views, id: number, options: ConsumerOptions = {}) {
    if (!Number.isInteger(id) || id < 0 || id >= v.maxConsumers) {
      throw new RingError('invalid_consumer', `consumer id must be an integer from 0 to ${v.maxConsumers - 1}, got ${id}`)
    }
    this.#v = v
    this.id = id
    this.#token = id + 1
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 5_000
    this.#abandonAfterMs = options.abandonAfterMs ?? 2_000
    this.#keys = new KeyMaker(v.ringId)
  }

  /** The id of the ring this consumer claims from (every record's `ringId`). */
  get ringId(): string {
    return this.#v.ringId
  }

  /**
   * Claims up to `maxEvents` events and about `maxBytes` bytes (always at least one event when any
   * is ready). Claims handed over by takeOver come first. Returns null when nothing is ready.
   */
  claim(maxEvents: number, maxBytes = Number.POSITIVE_INFINITY): Claim | null {
    const v = this.#v
    if (maxEvents < 1) return null
    const handed = Atomics.load(v.pending, this.id) > 0
    const positions: number[] = []
    let bytes = 0
    acquireLock(v, this.#token, this.#lockTimeoutMs)
    try {
      bytes = handed ? this.#collectHanded(positions, maxEvents, maxBytes) : this.#collectNew(positions, maxEvents, maxBytes)
    } finally {
      releaseLock(v, this.#token)
    }
    if (positions.length === 0) return null
    return { consumerId: this.id, records: this.#decode(positions), bytes, handedOver: handed, positions }
  }

  #collectNew(positions: number[], maxEvents: number, maxBytes: number): number {
    const v = this.#v
    const { turn, owner, ownerPos, lens, mask } = v
    const start = claimStart(v)
    if (preemption !== undefined) preemption('cursor')
    const head = Atomics.load(v.hdr, H_HEAD)
    let c = lastLap(v, start, head)
    // Slots claimed from here on are counted as read only after the loop; should this thread die
    // before that, takeOver finds them (claimed at or after H_CLAIM_FROM) and counts them itself
    // unless the read count has moved past H_READS_BASE.
    Atomics.store(v.hdr, H_CLAIM_FROM, c)
    Atomics.store(v.hdr, H_READS_BASE, readsLow(v))
    let bytes = 0
    while (precedes(c, head) && positions.length < maxEvents) {
      if (preemption !== undefined) preemption('slot')
      const i = c & mask
      const tv = Atomics.load(turn, i)
      const s = stateAt(tv, c)
      if (s === S_PUBLISHED) {
        const len = lens[i] as number
        if (positions.length > 0 && bytes + len > maxBytes) break
        if (Atomics.compareExchange(turn, i, tv, turnOf(c, S_CLAIMED)) !== tv) continue // evicted meanwhile
        if (preemption !== undefined) preemption('step')
        owner[i] = this.#token
        ownerPos[i] = c
        positions.push(c)
        bytes += len
      } else if (s === 0) {
        // Reserved, not yet written. A producer killed mid-write would stall every consumer here.
        this.#maybeAbandon(c, i)
        break
      }
      // Evicted, abandoned, done or freed slots are skipped.
      c = (c + 1) | 0
    }
    Atomics.store(v.hdr, H_CLAIM, c)
    if (preemption !== undefined) preemption('step')
    if (positions.length > 0) Atomics.add(v.counters, C_CLAIMED, BigInt(positions.length))
    if (preemption !== undefined) preemption('step')
    return bytes
  }

  #maybeAbandon(c: number, i: number): void {
    const now = performance.now()
    if (this.#stuckSince < 0 || this.#stuckPos !== c) {
      this.#stuckPos = c
      this.#stuckSince = now
      return
    }
    if (now - this.#stuckSince < this.#abandonAfterMs) return
    const reserved = turnOf(c, 0)
    if (Atomics.compareExchange(this.#v.turn, i, reserved, turnOf(c, S_ABANDONED)) === reserved) {
      countDrop(this.#v, 'abandoned')
      sweep(this.#v)
    }
    this.#stuckSince = -1
  }

  #collectHanded(positions: number[], maxEvents: number, maxBytes: number): number {
    const v = this.#v
    const { turn, owner, lens, mask } = v
    const tail = Atomics.load(v.hdr, H_TAIL)
    if (preemption !== undefined) preemption('cursor')
    const head = Atomics.load(v.hdr, H_HEAD)
    const mine = -this.#token
    let bytes = 0
    for (let p = lastLap(v, tail, head); precedes(p, head) && positions.length < maxEvents; p = (p + 1) | 0) {
      if (preemption !== undefined) preemption('slot')
      const i = p & mask
      if (owner[i] !== mine || stateAt(Atomics.load(turn, i), p) !== S_CLAIMED) continue
      const len = lens[i] as number
      if (positions.length > 0 && bytes + len > maxBytes) break
      owner[i] = this.#token
      positions.push(p)
      bytes += len
    }
    Atomics.sub(v.pending, this.id, positions.length)
    if (positions.length === 0) Atomics.store(v.pending, this.id, 0)
    return bytes
  }

  #decode(positions: readonly number[]): RingRecord[] {
    const v = this.#v
    const out: RingRecord[] = new Array(positions.length)
    for (let k = 0; k < positions.length; k++) {
      const i = (positions[k] as number) & v.mask
      const seq = v.seqs[i] as number
      const len = v.lens[i] as number
      const start = i * v.maxEventBytes
      const key = this.#keys.key(seq)
      const capturedAt = v.times[i] as number
      try {
        out[k] = { key, ringId: v.ringId, seq, capturedAt, bytes: len, event: decodeEvent(v.data, start, start + len) }
      } catch (e) {
        // Throwing here would fail every claim of this batch again (a writer pool in a crash loop):
        // the record is delivered marked, for the consumer to quarantine, and committed like any other.
        const decodeError = e instanceof RingDecodeError ? e : new RingDecodeError(`malformed record: ${String(e)}`, v.data.slice(start, start + len), { cause: e })
        out[k] = { key, ringId: v.ringId, seq, capturedAt, bytes: len, event: {}, decodeError }
      }
    }
    return out
  }

  /**
   * Marks a claim stored and frees ring space up to the oldest uncommitted claim. Throws RingError
   * `claim_not_owned` (and changes nothing) if any of its events is no longer held by this consumer.
   */
  commit(claim: Claim): void {
    const v = this.#v
    const { turn, owner, ownerPos, mask } = v
    const ps = claim.positions
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k] as number
      const i = p & mask
      if (Atomics.load(turn, i) !== turnOf(p, S_CLAIMED) || owner[i] !== this.#token || ownerPos[i] !== p) {
        throw new RingError('claim_not_owned', `consumer ${this.id} no longer holds position ${p >>> 0} of this claim`)
      }
    }
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k] as number
      Atomics.store(turn, p & mask, turnOf(p, S_DONE))
    }
    // Counted after the loop: a consumer killed inside this loop leaves up to one batch uncounted
    // (its remaining slots are handed over and committed by the heir, which counts those).
    Atomics.add(v.counters, C_COMMITTED, BigInt(ps.length))
    sweep(v)
  }

  /** True when claim() would find something now (or handed-over claims wait). */
  hasData(): boolean {
    const v = this.#v
    if (Atomics.load(v.pending, this.id) > 0) return true
    const c = claimStart(v)
    if (!precedes(c, Atomics.load(v.hdr, H_HEAD))) return false
    return stateAt(Atomics.load(v.turn, c & v.mask), c) !== 0
  }

  /**
   * True when the `minEvents`-th unclaimed event is published (or handed-over claims wait): with 1,
   * what hasData says. Setting the wake position first means a producer that publishes it after
   * this check sees a waiter and wakes it.
   */
  #readyFor(minEvents: number): boolean {
    const v = this.#v
    const target = (claimStart(v) + Math.max(1, minEvents) - 1) | 0
    Atomics.store(v.hdr, H_WAKE_AT, target)
    if (Atomics.load(v.pending, this.id) > 0) return true
    if (!precedes(target, Atomics.load(v.hdr, H_HEAD))) return false
    return stateAt(Atomics.load(v.turn, target & v.mask), target) !== 0
  }

  /**
   * Sleeps until data may be ready or `timeoutMs` passes, without spinning. Blocks the thread.
   * With `minEvents`, producers wake it only once that many unclaimed events are there (a batch
   * being gathered), not for each one; the timeout still ends the wait.
   */
  waitForData(timeoutMs: number, minEvents = 1): boolean {
    const hdr = this.#v.hdr
    Atomics.add(hdr, H_DATA_WAITERS, 1)
    try {
      const seen = Atomics.load(hdr, H_DATA_SEQ)
      if (this.#readyFor(minEvents)) return true
      Atomics.wait(hdr, H_DATA_SEQ, seen, timeoutMs)
      return this.hasData()
    } finally {
      Atomics.sub(hdr, H_DATA_WAITERS, 1)
    }
  }

  /**
   * Like waitForData, but yields the event loop (Atomics.waitAsync) so the thread can take messages.
   * The wait keeps the event loop alive, as a timer would: a worker whose only pending work is
   * this await does not exit under it.
   */
  async waitForDataAsync(timeoutMs: number, minEvents = 1): Promise<boolean> {
    const hdr = this.#v.hdr
    Atomics.add(hdr, H_DATA_WAITERS, 1)
    let keepAlive: ReturnType<typeof setInterval> | undefined
    try {
      const seen = Atomics.load(hdr, H_DATA_SEQ)
      if (this.#readyFor(minEvents)) return true
      const r = Atomics.waitAsync(hdr, H_DATA_SEQ, seen, timeoutMs)
      if (r.async) {
        // Atomics.waitAsync holds no handle on Node's event loop, so a thread with nothing else
        // to do would exit in the middle of the wait (exit code 13, an unsettled top-level await).
        // A ref'd interval longer than any wait holds it; it never fires and is cleared on wake-up.
        keepAlive = setInterval(noop, KEEP_ALIVE_MS)
        await r.value
      }
      return this.hasData()
    } finally {
      if (keepAlive !== undefined) clearInterval(keepAlive)
      Atomics.sub(hdr, H_DATA_WAITERS, 1)
    }
  }
}
