// Which of the events a ring still holds at stop a store already has: a batch a writer stored and
// did not commit (it died, or stop's deadline terminated it) is in the ring and in the store at
// once. The report counts such events as stored or quarantined, not in flight (see report.ts).

import type { EventStore } from '@ringside/storage'

/** Lookups in flight at once: enough to hide a network store's round trips, few enough to be polite. */
const PARALLEL = 64

/**
 * How many of `seqs` (of ring `ringId`) `store` holds as an event or a dead letter. Dead letters
 * are listed only when the ring has some (`deadLetters` from countByRing); events are looked up by
 * key, one getEvent per sequence number, so the cost is one lookup per event left in the ring.
 */
export async function countHeld(store: EventStore, ringId: string, seqs: readonly number[], deadLetters: number): Promise<number> {
  if (seqs.length === 0) return 0
  let held = 0
  let left = seqs
  if (deadLetters > 0) {
    const quarantined = new Set<number>()
    for (const d of await store.listDeadLetters()) if (d.record.ringId === ringId) quarantined.add(d.record.seq)
    left = seqs.filter((s) => !quarantined.has(s))
    held += seqs.length - left.length
  }
  for (let i = 0; i < left.length; i += PARALLEL) {
    const found = await Promise.all(left.slice(i, i + PARALLEL).map((s) => store.getEvent(`${ringId}:${s}`)))
    for (const e of found) if (e !== undefined) held++
  }
  return held
}
