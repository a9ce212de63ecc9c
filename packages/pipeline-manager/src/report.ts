// The accounting report stop() returns: every event offered to the ring in exactly one bucket.
// offered = accepted + refused at the door (by reason); accepted = stored + quarantined + filtered
// + evicted + in flight. `balanced` says whether the second equation holds exactly.

import type { RingStats } from '@ringside/core-ringbuffer'
import { offeredOf, type Totals } from './metrics.js'

export interface AccountingReport {
  /** Every write() call that reached the ring. */
  readonly offered: number
  /** Events the ring accepted (each has a key). */
  readonly accepted: number
  /** Refused at the door, by reason. */
  readonly rejected: { readonly full: number; readonly too_large: number; readonly not_serializable: number; readonly invalid_event: number; readonly closed: number; readonly timeout: number }
  /** Events of this ring in the store: counted there, or from the writers (new rows + duplicates). */
  readonly stored: number
  /**
   * Re-stored events the store already held (after a writer crash, or a batch the store took in
   * part); not a bucket of their own: they are stored once, and counted in `stored`.
   */
  readonly duplicates: number
  /** Dropped by a user stage. */
  readonly filtered: number
  /**
   * Kept as dead letters: refused by validation (`invalid_event`), thrown on by a user stage
   * (`stage_error`), isolated after permanent store errors (`permanent_error`), or found to kill or
   * hang their writer (`crashed_writer`, `timeout`).
   */
  readonly quarantined: number
  /** Accepted, then discarded by drop_oldest before any writer claimed them. */
  readonly evicted: number
  /** Slots a dead producer reserved and never wrote (not accepted; listed for completeness). */
  readonly abandoned: number
  /** Accepted and not stored when stop finished (its deadline passed, or no writer was left). */
  readonly inFlight: number
  /** Of those in flight, events written to the exit journal (the next start replays them). */
  readonly journaled: number
  /** Where `stored` and `quarantined` come from: the store itself (exact) or the writers' counters. */
  readonly countedBy: 'store' | 'writer metrics'
  readonly balanced: boolean
  /** stop() hit its deadline before the ring was drained. */
  readonly timedOut: boolean
  readonly durationMs: number
}

/**
 * `inStore` is what the store holds of this ring, when it can say; the store is preferred. Without
 * it, stored = the writers' new rows + their duplicates: a writer counts a batch only after
 * committing its claim, so a duplicate of this ring is always an event whose first store went
 * uncounted (a writer killed between store and commit, or a batch a store took in part before
 * failing, as JetStream can), never one already counted. What the writers' counts can still miss:
 * a writer killed between committing a batch and counting it.
 */
export function buildReport(
  ring: RingStats,
  totals: Totals,
  inStore: { events: number; deadLetters: number } | undefined,
  timedOut: boolean,
  durationMs: number,
  journaled = 0,
): AccountingReport {
  const d = ring.dropped
  const inFlight = ring.ready + ring.claimed
  const accepted = ring.totalWrites
  const stored = inStore?.events ?? totals.eventsStored + totals.duplicates
  const quarantined = inStore?.deadLetters ?? totals.invalid + totals.poisoned + totals.stageErrors + totals.killers
  return {
    offered: offeredOf(ring),
    accepted,
    rejected: { full: d.full, too_large: d.too_large, not_serializable: d.not_serializable, invalid_event: d.invalid_event, closed: d.closed, timeout: d.timeout },
    stored,
    duplicates: totals.duplicates,
    filtered: totals.filtered,
    quarantined,
    evicted: d.evicted,
    abandoned: d.abandoned,
    inFlight,
    journaled,
    countedBy: inStore ? 'store' : 'writer metrics',
    balanced: accepted === stored + quarantined + totals.filtered + d.evicted + inFlight,
    timedOut,
    durationMs,
  }
}
