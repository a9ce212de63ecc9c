// The supervisor's takeover: every claim of a dead consumer handed to an heir, the claim lock broken
// if the dead one held it, and the reads of a claim it died in the middle of counted exactly once.

import { RingError } from './errors.js'
import { C_CLAIMED, H_CLAIM_FROM, H_HEAD, H_LOCK, H_READS_BASE, H_TAIL, S_CLAIMED } from './layout.js'
import { acquireLock, lastLap, precedes, readsLow, releaseLock, stateAt, SUPERVISOR_TOKEN, wakeConsumers, type Views } from './internal/views.js'
import { preemption } from './internal/preemption.js'

/** Longest wait for the claim lock during a takeover. */
const TAKEOVER_LOCK_MS = 5_000

/**
 * Hands every claim held by the dead consumer `deadId` (including one it was in the middle of
 * taking) to `heirId`, whose next `claim()` returns them. Call it only once the dead consumer's
 * thread has stopped. Returns the number of events handed over.
 */
export function takeOver(v: Views, deadId: number, heirId: number): number {
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
