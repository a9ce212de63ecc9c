// Lock-free readings of a ring, taken from any thread while producers and consumers run: stats()
// and exportPending(). Each reads TAIL before HEAD (HEAD only grows and TAIL never passes it, so a
// HEAD read afterwards is never behind) and scans at most the last lap below HEAD, so a reader
// preempted for any time still reports only what was possible at some instant of its reading.

import {
  C_CLAIMED,
  C_COMMITTED,
  C_VOIDED,
  DROP_INDEX,
  DROP_REASONS,
  H_CLOSED,
  H_HEAD,
  H_TAIL,
  S_CLAIMED,
  S_DONE,
  S_PUBLISHED,
  type DropReason,
  type OverflowStrategy,
} from './layout.js'
import { head64, lastLap, precedes, stateAt, type Views } from './internal/views.js'
import { preemption } from './internal/preemption.js'

/** One uncommitted event as exportPending copies it: its encoded bytes (decode with decodeEvent). */
export interface PendingRecord {
  readonly seq: number
  readonly capturedAt: number
  readonly data: Uint8Array
}

/** A snapshot of the ring's counters. Positions are 64-bit (exact up to 2^53). */
export interface RingStats {
  /** The ring's id; for a priority ring, its sub-rings' ids, high + normal + low. */
  readonly id: string
  /** Capacity in events (a priority ring: its budget). */
  readonly size: number
  /** A priority ring's is `drop_lowest` or `drop_newest`. */
  readonly overflowStrategy: OverflowStrategy | 'drop_lowest'
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

/**
 * A snapshot of positions and counters, taken without a lock and always possible: counters are
 * read before the cursors they depend on and TAIL before HEAD, so committed <= reads <= writes,
 * 0 <= available <= size and ready + claimed <= size - available hold in every snapshot.
 */
export function statsOf(v: Views, overflowStrategy: OverflowStrategy): RingStats {
  const hdr = v.hdr
  const totalCommitted = Number(Atomics.load(v.counters, C_COMMITTED))
  const totalReads = Number(Atomics.load(v.counters, C_CLAIMED))
  const dropped = {} as Record<DropReason, number>
  for (const r of DROP_REASONS) dropped[r] = Number(Atomics.load(v.counters, DROP_INDEX[r]))
  const voided = Number(Atomics.load(v.counters, C_VOIDED))
  const tail = Atomics.load(hdr, H_TAIL)
  if (preemption !== undefined) preemption('cursor')
  const write = head64(v)
  const head = write % 2 ** 32 | 0
  // TAIL was read first, so head - tail >= 0. It can exceed size by the few slots a sweep has
  // freed (and producers reused) before moving TAIL past them: those are in use again, so the
  // ring is full, not overfull.
  const used = Math.min((head - tail) | 0, v.size)
  const live = scanLive(v, head, used)
  // Reservations that never became an accepted event: given up on by a consumer (producer died
  // mid-write), or refused by the encoder after the slot was reserved (counted under their reason).
  const unaccepted = dropped.abandoned + voided
  return {
    id: v.ringId,
    size: v.size,
    overflowStrategy,
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

/**
 * Copies every event not yet committed (waiting or claimed) in position order, as its encoded
 * bytes: what an exit journal must keep. A record committed while this runs may be included as
 * well (a store ignores keys it already holds).
 */
export function exportPending(v: Views): PendingRecord[] {
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
