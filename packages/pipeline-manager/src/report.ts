// The accounting report stop() returns: every event offered to the ring in exactly one bucket.
// offered = accepted + refused at the door (by reason); accepted = stored + quarantined + filtered
// + evicted + in flight. `accountFor` is the rule that puts each accepted event in one bucket.

import type { Priority, RingStats } from '@ringside/core-ringbuffer'
import type { RouteCount } from '@ringside/storage'
import { offeredOf, type Totals } from './metrics.js'

export interface AccountingReport {
  /** Every write() call that reached the ring. */
  readonly offered: number
  /** Events the ring accepted (each has a key). */
  readonly accepted: number
  /**
   * Refused at the door, by reason. `sampled`: left out by the ring's sampling policy, before
   * encoding; never accepted, so it has no key and is a reason at the door like `full`.
   */
  readonly rejected: { readonly full: number; readonly too_large: number; readonly not_serializable: number; readonly invalid_event: number; readonly closed: number; readonly timeout: number; readonly sampled: number }
  /** Events of this ring in the store: counted there, or from the writers (new rows + duplicates). */
  readonly stored: number
  /**
   * Of `stored` and `quarantined`, how many the store's retention has removed since (it counts them
   * per ring in the deleting transaction): removed on purpose, not lost. 0 when the store keeps
   * everything or cannot say.
   */
  readonly pruned: number
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
   * hang their writer (`crashed_writer`, `timeout`), or given up by the store retry policy
   * (`retries_exhausted`).
   */
  readonly quarantined: number
  /** Accepted, then discarded by drop_oldest before any writer claimed them. */
  readonly evicted: number
  /** Slots a dead producer reserved and never wrote (not accepted; listed for completeness). */
  readonly abandoned: number
  /** Accepted, still in the ring and not in the store when stop finished (its deadline passed, or no writer was left). */
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
  /**
   * With a routed store only: per destination, the events of this ring the routing sends there
   * (among those the query route holds) and what the destination holds. Not a bucket: an event
   * routed to two destinations is one stored event. `destinationsError` says why they could not
   * be counted.
   */
  readonly destinations?: readonly DestinationCount[]
  readonly destinationsError?: string
  /**
   * With a priority ring only: each priority's own buckets (its sub-ring's counters and what the
   * store holds of it). The figures above are their sums, plus `filtered`, which is counted for
   * the pipeline as a whole.
   */
  readonly priorities?: Readonly<Record<Priority, PriorityAccount>>
  /** stop() hit its deadline before the ring was drained. */
  readonly timedOut: boolean
  readonly durationMs: number
}

/**
 * One priority of a priority ring in the stop report. `evicted` are its events a write of the same
 * or a higher priority evicted under `drop_lowest`; `rejected.full` its writes that found the
 * budget spent and nothing to evict. `stored`, `quarantined` and `pruned` are the store's count of
 * its sub-ring (undefined when the store cannot count: the writers' counters are not kept per
 * priority). Its accepted events = stored + quarantined + evicted + in flight + those of its
 * events a user stage filtered (not counted per priority).
 */
export interface PriorityAccount {
  readonly offered: number
  readonly accepted: number
  readonly rejected: AccountingReport['rejected']
  readonly stored: number | undefined
  readonly quarantined: number | undefined
  readonly pruned: number | undefined
  readonly evicted: number
  readonly inFlight: number
}

/** Each priority's account from its sub-ring's stats and the store's count of that sub-ring. */
export function priorityAccounts(byPriority: Readonly<Record<Priority, RingStats>>, counts: readonly (readonly [Priority, StoreCount | { error: string } | undefined])[]): Record<Priority, PriorityAccount> {
  const out = {} as Record<Priority, PriorityAccount>
  for (const [priority, count] of counts) {
    const ring = byPriority[priority]
    const d = ring.dropped
    const c = count !== undefined && !('error' in count) ? count : undefined
    const inRing = ring.ready + ring.claimed
    out[priority] = {
      offered: offeredOf(ring),
      accepted: ring.totalWrites,
      rejected: { full: d.full, too_large: d.too_large, not_serializable: d.not_serializable, invalid_event: d.invalid_event, closed: d.closed, timeout: d.timeout, sampled: d.sampled },
      stored: c === undefined ? undefined : c.events + (c.prunedEvents ?? 0),
      quarantined: c === undefined ? undefined : c.deadLetters + (c.prunedDeadLetters ?? 0),
      pruned: c === undefined ? undefined : (c.prunedEvents ?? 0) + (c.prunedDeadLetters ?? 0),
      evicted: d.evicted,
      inFlight: c === undefined ? inRing : inRing - c.pendingHeld,
    }
  }
  return out
}

/**
 * The store's counts of several rings (a priority ring's sub-rings) as one: a failed count fails
 * the whole, one that cannot be made (undefined) leaves the whole uncounted.
 */
export function addStoreCounts(counts: readonly (StoreCount | { error: string } | undefined)[]): StoreCount | { error: string } | undefined {
  if (counts.length === 1) return counts[0]
  const failed = counts.find((c): c is { error: string } => c !== undefined && 'error' in c)
  if (failed) return failed
  if (counts.some((c) => c === undefined)) return undefined
  const cs = counts as StoreCount[]
  const sum = (f: (c: StoreCount) => number | undefined) => cs.reduce<number | undefined>((a, c) => (f(c) === undefined ? a : (a ?? 0) + f(c)!), undefined)
  const prunedEvents = sum((c) => c.prunedEvents)
  const prunedDeadLetters = sum((c) => c.prunedDeadLetters)
  return {
    events: sum((c) => c.events) ?? 0,
    deadLetters: sum((c) => c.deadLetters) ?? 0,
    pendingHeld: sum((c) => c.pendingHeld) ?? 0,
    ...(prunedEvents === undefined ? {} : { prunedEvents }),
    ...(prunedDeadLetters === undefined ? {} : { prunedDeadLetters }),
  }
}

/** A routed store's per-destination counts of several rings as one per destination (summed by name). */
export function addRouteCounts(counts: readonly (readonly RouteCount[] | { error: string } | undefined)[]): readonly RouteCount[] | { error: string } | undefined {
  if (counts.length === 1) return counts[0]
  const failed = counts.find((c): c is { error: string } => c !== undefined && 'error' in c)
  if (failed) return failed
  if (counts.some((c) => c === undefined)) return undefined
  const byName = new Map<string, { name: string; held: number | undefined; expected: number | undefined }>()
  for (const list of counts as (readonly RouteCount[])[]) {
    for (const r of list) {
      const was = byName.get(r.name)
      if (was === undefined) byName.set(r.name, { name: r.name, held: r.held, expected: r.expected })
      else byName.set(r.name, { name: r.name, held: was.held === undefined || r.held === undefined ? undefined : was.held + r.held, expected: was.expected === undefined || r.expected === undefined ? undefined : was.expected + r.expected })
    }
  }
  return [...byName.values()]
}

/** One destination of a routed store in the stop report. */
export interface DestinationCount {
  readonly name: string
  /** Events of this ring routed there, among those the store counts as stored; undefined: cannot tell. */
  readonly expected: number | undefined
  /** Events of this ring the destination holds; undefined: it cannot count. */
  readonly held: number | undefined
  /**
   * held === expected. A destination written before the query route may hold more at a stop that
   * timed out (a batch not yet in the query route, still in flight) or after a permanent error of
   * a later destination quarantined an event it already took.
   */
  readonly balanced: boolean
}

/** The per-destination section from the routed store's counts. */
export function destinationsOf(counts: readonly RouteCount[]): DestinationCount[] {
  return counts.map((c) => ({ name: c.name, expected: c.expected, held: c.held, balanced: c.held !== undefined && c.held === c.expected }))
}

/** What the store holds of one ring, asked once every writer has exited. */
export interface StoreCount {
  /** Events of the ring (countByRing). */
  readonly events: number
  /** Dead letters of the ring (countByRing). */
  readonly deadLetters: number
  /**
   * Of the events the ring still holds (ready or claimed), how many the store already has, as an
   * event or a dead letter: a batch stored by a writer that died (or was terminated by stop's
   * deadline) before committing its claim.
   */
  readonly pendingHeld: number
  /** Events of the ring the store's retention removed after storing them (stores that count it). */
  readonly prunedEvents?: number
  /** Dead letters of the ring the store's retention removed. */
  readonly prunedDeadLetters?: number
}

/** The buckets of the accepted events, and whether they add up. */
export interface Buckets {
  readonly accepted: number
  readonly stored: number
  /** Of stored and quarantined, what retention has removed since (counted by the store). */
  readonly pruned: number
  readonly duplicates: number
  readonly quarantined: number
  readonly filtered: number
  readonly evicted: number
  readonly inFlight: number
  readonly countedBy: 'store' | 'writer metrics'
  readonly balanced: boolean
}

/**
 * The rule. Counted by the store (`inStore`, exact): stored and quarantined are what it holds of
 * the ring; in flight is what the ring still holds minus what of that the store already has (a
 * stored, uncommitted batch is in the store and in the ring at once: it is stored, once).
 *
 * Counted by the writers (the store cannot count): stored = new rows + duplicates, quarantined =
 * invalid + poisoned, in flight = all the ring still holds. A writer counts a batch only after
 * committing its claim, so an event still in the ring was never counted by a writer, and a
 * duplicate is an event whose first store went uncounted (its writer died before committing),
 * never one counted twice. What these counts can miss: a writer killed between committing a batch
 * and counting it.
 *
 * Filtered and evicted events are never in the store nor in the ring. `balanced` checks that the
 * buckets, each counted on its own, add up to what the ring accepted.
 */
export function accountFor(ring: Pick<RingStats, 'totalWrites' | 'ready' | 'claimed' | 'dropped'>, totals: Totals, inStore: StoreCount | undefined): Buckets {
  const accepted = ring.totalWrites
  const evicted = ring.dropped.evicted
  const inRing = ring.ready + ring.claimed
  // What retention removed was stored (or quarantined) first: it stays in its bucket, and `pruned` says how much of it is gone.
  const prunedEvents = inStore?.prunedEvents ?? 0
  const prunedDead = inStore?.prunedDeadLetters ?? 0
  const stored = inStore ? inStore.events + prunedEvents : totals.eventsStored + totals.duplicates
  const quarantined = inStore ? inStore.deadLetters + prunedDead : totals.invalid + totals.poisoned + totals.stageErrors + totals.killers + totals.retriesExhausted
  const inFlight = inStore ? inRing - inStore.pendingHeld : inRing
  return {
    accepted,
    stored,
    pruned: prunedEvents + prunedDead,
    duplicates: totals.duplicates,
    quarantined,
    filtered: totals.filtered,
    evicted,
    inFlight,
    countedBy: inStore ? 'store' : 'writer metrics',
    balanced: accepted === stored + quarantined + totals.filtered + evicted + inFlight,
  }
}

/**
 * The report from the final counts. `journaled` is what the exit journal took from the ring; the
 * journal copies every event the ring holds, so the report counts only those still in flight.
 */
export function buildReport(
  ring: RingStats,
  totals: Totals,
  inStore: StoreCount | { error: string } | undefined,
  timedOut: boolean,
  durationMs: number,
  journaled = 0,
  journalError?: string,
  destinations?: readonly RouteCount[] | { error: string },
): AccountingReport {
  const d = ring.dropped
  // A count that failed shows nothing: the report says why and is not balanced, rather than fall
  // back to the writers' figures as if nothing happened (the store's file deleted, say).
  const countError = inStore !== undefined && 'error' in inStore ? inStore.error : undefined
  const b = accountFor(ring, totals, inStore !== undefined && !('error' in inStore) ? inStore : undefined)
  return {
    offered: offeredOf(ring),
    accepted: b.accepted,
    rejected: { full: d.full, too_large: d.too_large, not_serializable: d.not_serializable, invalid_event: d.invalid_event, closed: d.closed, timeout: d.timeout, sampled: d.sampled },
    stored: b.stored,
    pruned: b.pruned,
    duplicates: b.duplicates,
    filtered: b.filtered,
    quarantined: b.quarantined,
    evicted: b.evicted,
    abandoned: d.abandoned,
    inFlight: b.inFlight,
    journaled: Math.min(journaled, b.inFlight),
    countedBy: countError !== undefined ? 'not counted' : b.countedBy,
    ...(countError !== undefined ? { countError } : {}),
    ...(journalError !== undefined ? { journalError } : {}),
    ...(destinations === undefined ? {} : 'error' in destinations ? { destinationsError: destinations.error } : { destinations: destinationsOf(destinations) }),
    balanced: countError === undefined && b.balanced,
    timedOut,
    durationMs,
  }
}
