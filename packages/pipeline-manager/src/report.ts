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
  /** Kept as dead letters: refused by validation, or isolated after permanent store errors. */
  readonly quarantined: number
  /** Accepted, then discarded by drop_oldest before any writer claimed them. */
  readonly evicted: number
  /** Slots a dead producer reserved and never wrote (not accepted; listed for completeness). */
  readonly abandoned: number
  /** Accepted and not stored when stop finished (its deadline passed, or no writer was left). */
  readonly inFlight: number
  /** Of those in flight, events written to the exit journal (the next start replays them). */
  readonly journaled: number
  /**
   * Where `stored` and `quarantined` come from: the store itself (exact), the writers' counters
   * (a store that cannot count), or `not counted`: the store's count failed (`countError` says
   * why), the figures are the writers' claims, and the report is not balanced.
   */
  readonly countedBy: 'store' | 'writer metrics' | 'not counted'
  /** Why the store could not count what it holds of this ring (its file deleted, say). */
  readonly countError?: string
  /** Why writing the exit journal failed; the events it was to keep are lost. */
  readonly journalError?: string
  readonly balanced: boolean
  /** stop() hit its deadline before the ring was drained. */
  readonly timedOut: boolean
  readonly durationMs: number
}

/**
 * `inStore` is what the store holds of this ring, when it can say; the store is preferred. When
 * its count failed (`{ error }`), nothing can show the events are there: the report is unbalanced
 * and says why, rather than falling back to the writers' figures as if nothing happened. Without
 * it, stored = the writers' new rows + their duplicates: a writer counts a batch only after
 * committing its claim, so a duplicate of this ring is always an event whose first store went
 * uncounted (a writer killed between store and commit, or a batch a store took in part before
 * failing, as JetStream can), never one already counted. What the writers' counts can still miss:
 * a writer killed between committing a batch and counting it.
 */
export function buildReport(
  ring: RingStats,
  totals: Totals,
  inStore: { events: number; deadLetters: number } | { error: string } | undefined,
  timedOut: boolean,
  durationMs: number,
  journaled = 0,
  journalError?: string,
): AccountingReport {
  const d = ring.dropped
  const inFlight = ring.ready + ring.claimed
  const accepted = ring.totalWrites
  const countError = inStore !== undefined && 'error' in inStore ? inStore.error : undefined
  const counts = inStore !== undefined && !('error' in inStore) ? inStore : undefined
  const stored = counts?.events ?? totals.eventsStored + totals.duplicates
  const quarantined = counts?.deadLetters ?? totals.invalid + totals.poisoned
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
    countedBy: counts ? 'store' : countError !== undefined ? 'not counted' : 'writer metrics',
    ...(countError !== undefined ? { countError } : {}),
    ...(journalError !== undefined ? { journalError } : {}),
    balanced: countError === undefined && accepted === stored + quarantined + totals.filtered + d.evicted + inFlight,
    timedOut,
    durationMs,
  }
}
