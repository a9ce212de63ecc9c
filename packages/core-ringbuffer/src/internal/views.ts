// Typed views over one ring's SharedArrayBuffer, plus the few lock-free steps that both producers
// and consumers take: freeing committed slots (sweep), counting drops, waking sleepers, the claim lock.

import { RingError } from '../errors.js'
import {
  C_CLAIMED,
  COUNTER_WORDS,
  DROP_INDEX,
  H_CLAIM,
  H_DATA_SEQ,
  H_HEAD,
  H_HEAD_WRAPS,
  H_LOCK,
  H_MAX_CONSUMERS,
  H_MAX_EVENT_BYTES,
  H_RING_ID,
  H_SIZE,
  H_SPACE_SEQ,
  H_SPACE_WAITERS,
  H_TAIL,
  HEADER_WORDS,
  MAX_KEEP_BYTES,
  POLICY_WORDS,
  S_ABANDONED,
  S_DONE,
  S_EVICTED,
  TURN_SHIFT,
  regionsFor,
  type DropReason,
} from '../layout.js'
import { preemption } from './preemption.js'

/** Views over a ring's shared memory. One per thread that uses the ring. */
export interface Views {
  readonly sab: SharedArrayBuffer
  readonly hdr: Int32Array
  readonly counters: BigInt64Array
  readonly turn: Int32Array
  readonly owner: Int32Array
  readonly ownerPos: Int32Array
  readonly lens: Int32Array
  readonly pending: Int32Array
  readonly seqs: Float64Array
  readonly times: Float64Array
  readonly data: Uint8Array
  /** The sampling policy's words (P_* in layout.ts) and its always-kept list. */
  readonly policy: Int32Array
  readonly keep: Uint8Array
  /** The slots' bytes as a DataView: the encoder writes four bytes per store through it. */
  readonly dataView: DataView
  readonly size: number
  readonly mask: number
  readonly maxEventBytes: number
  readonly maxConsumers: number
  readonly ringId: string
}

export function viewsOf(sab: SharedArrayBuffer): Views {
  const hdr = new Int32Array(sab, 0, HEADER_WORDS)
  const size = hdr[H_SIZE] as number
  const maxEventBytes = hdr[H_MAX_EVENT_BYTES] as number
  const maxConsumers = hdr[H_MAX_CONSUMERS] as number
  const r = regionsFor(size, maxEventBytes, maxConsumers)
  let ringId = ''
  for (let k = 0; k < 4; k++) ringId += ((hdr[H_RING_ID + k] as number) >>> 0).toString(16).padStart(8, '0')
  return {
    sab,
    hdr,
    counters: new BigInt64Array(sab, r.counters, COUNTER_WORDS),
    turn: new Int32Array(sab, r.turn, size),
    owner: new Int32Array(sab, r.owner, size),
    ownerPos: new Int32Array(sab, r.ownerPos, size),
    lens: new Int32Array(sab, r.lens, size),
    pending: new Int32Array(sab, r.pending, maxConsumers),
    seqs: new Float64Array(sab, r.seqs, size),
    times: new Float64Array(sab, r.times, size),
    data: new Uint8Array(sab, r.data, size * maxEventBytes),
    policy: new Int32Array(sab, r.policy, POLICY_WORDS),
    keep: new Uint8Array(sab, r.keep, MAX_KEEP_BYTES),
    dataView: new DataView(sab, r.data, size * maxEventBytes),
    size,
    mask: size - 1,
    maxEventBytes,
    maxConsumers,
    ringId,
  }
}

/** `8 * pos + state` in 32-bit wrapping arithmetic. */
export const turnOf = (pos: number, state: number): number => (pos * TURN_SHIFT + state) | 0
/** The state of `pos` as seen in a turn word: 0..7 for this lap, >= 8*size once freed for a later lap, < 0 not yet reached. */
export const stateAt = (turnValue: number, pos: number): number => (turnValue - pos * TURN_SHIFT) | 0

export function countDrop(v: Views, reason: DropReason, n = 1): void {
  Atomics.add(v.counters, DROP_INDEX[reason], BigInt(n))
}

/**
 * The low 32 bits of the read count. Only the claim lock's holder changes that count, so a
 * takeover that broke a dead holder's lock can compare it with H_READS_BASE to learn whether the
 * claim in progress was counted.
 */
export function readsLow(v: Views): number {
  return Number(BigInt.asIntN(32, Atomics.load(v.counters, C_CLAIMED)))
}

/** The 64-bit write position: HEAD plus its wraps past 2^32. */
export function head64(v: Views): number {
  // Read wraps on both sides of HEAD so a wrap in between is seen; the answer is exact when stable.
  for (;;) {
    const w = Atomics.load(v.hdr, H_HEAD_WRAPS)
    const h = Atomics.load(v.hdr, H_HEAD) >>> 0
    if (Atomics.load(v.hdr, H_HEAD_WRAPS) === w) return w * 2 ** 32 + h
  }
}

/**
 * Frees every leading slot whose record is finished (committed, evicted or abandoned) and moves
 * TAIL past it. Lock-free and safe to run from any thread at once: each slot is freed by one
 * compare-and-swap on its turn word (tied to its lap), and a thread that dies between freeing a
 * slot and moving TAIL leaves a state that the next sweep recognises (freed slot, old TAIL) and
 * finishes. Returns the number of positions TAIL moved.
 */
export function sweep(v: Views): number {
  const { hdr, turn, mask, size } = v
  const lap = size * TURN_SHIFT
  let moved = 0
  // Three atomics per freed slot (its turn, its free, TAIL's move): TAIL's next value comes from
  // the compare-and-swap that moves it, and HEAD is read again only when TAIL reaches the HEAD
  // last read (read after TAIL, so never behind it; see lastLap).
  let t = Atomics.load(hdr, H_TAIL)
  let head = Atomics.load(hdr, H_HEAD)
  for (;;) {
    if (!precedes(t, head)) {
      head = Atomics.load(hdr, H_HEAD)
      if (!precedes(t, head)) break
    }
    const i = t & mask
    const tv = Atomics.load(turn, i)
    const s = stateAt(tv, t)
    if (s === S_DONE || s === S_EVICTED || s === S_ABANDONED) {
      Atomics.compareExchange(turn, i, tv, turnOf(t + size, 0))
      if (preemption !== undefined) preemption('sweep')
    } else if (s < lap) {
      break // published, claimed, or reserved and not yet written: the tail stops here
    }
    const seen = Atomics.compareExchange(hdr, H_TAIL, t, (t + 1) | 0)
    if (seen === t) {
      moved++
      t = (t + 1) | 0
    } else {
      t = seen // another sweep moved it
    }
  }
  if (moved > 0 && Atomics.load(hdr, H_SPACE_WAITERS) !== 0) {
    Atomics.add(hdr, H_SPACE_SEQ, 1)
    Atomics.notify(hdr, H_SPACE_SEQ)
  }
  return moved
}

/** Wakes consumers sleeping in waitForData. */
export function wakeConsumers(v: Views): void {
  Atomics.add(v.hdr, H_DATA_SEQ, 1)
  Atomics.notify(v.hdr, H_DATA_SEQ)
}

/** Token of a supervisor taking over claims; never a consumer's id + 1. */
export const SUPERVISOR_TOKEN = -1

/**
 * Takes the claim lock with `token`. Holders are consumers (claim, takeover); the lock is held for
 * one scan of at most a batch of slots, so it spins briefly, then sleeps in 1 ms steps, and gives
 * up after `timeoutMs` with a RingError naming the limit.
 */
export function acquireLock(v: Views, token: number, timeoutMs: number): void {
  const hdr = v.hdr
  for (let spin = 0; spin < 200; spin++) {
    if (Atomics.compareExchange(hdr, H_LOCK, 0, token) === 0) return
  }
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const holder = Atomics.compareExchange(hdr, H_LOCK, 0, token)
    if (holder === 0) return
    if (performance.now() > deadline) {
      throw new RingError(
        'lock_timeout',
        `claim lock not acquired within lockTimeoutMs=${timeoutMs} (held by token ${holder}); ` +
          'a consumer may have died holding it: call takeOver() for it',
      )
    }
    Atomics.wait(hdr, H_LOCK, holder, 1)
  }
}

export function releaseLock(v: Views, token: number): void {
  if (Atomics.compareExchange(v.hdr, H_LOCK, token, 0) === token) Atomics.notify(v.hdr, H_LOCK)
}

/**
 * The claim cursor, never behind TAIL (drop_oldest can free unclaimed slots past it). Read it before
 * HEAD (see `lastLap`).
 */
export function claimStart(v: Views): number {
  const c = Atomics.load(v.hdr, H_CLAIM)
  if (preemption !== undefined) preemption('cursor')
  const t = Atomics.load(v.hdr, H_TAIL)
  return ((t - c) | 0) > 0 ? t : c
}

/**
 * Where a scan of the positions [from, head) should start. Every scan reads its start (TAIL or the
 * claim cursor) before HEAD: HEAD only grows and TAIL never passes it, so a HEAD read afterwards is
 * never behind the start, however long the reader was preempted in between (reading HEAD first let
 * producers' evictions carry TAIL past it, and a scan then ran on for 2^32 positions). A window
 * longer than one lap (the reader slept while producers went round the ring) is cut to the last
 * lap: every older position's slot has been reused, so nothing there is live.
 */
export function lastLap(v: Views, from: number, head: number): number {
  return ((head - from) | 0) > v.size ? (head - v.size) | 0 : from
}

/** True while position `p` is before `end` in 32-bit wrapping order: the loop test of every scan. */
export const precedes = (p: number, end: number): boolean => ((end - p) | 0) > 0
