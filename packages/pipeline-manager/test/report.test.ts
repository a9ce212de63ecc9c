import { describe, expect, it } from 'vitest'
import type { RingStats } from '@ringside/core-ringbuffer'
import { accountFor, addRouteCounts, addStoreCounts, buildReport, priorityAccounts, type StoreCount } from '../src/report.js'
import type { Totals } from '../src/metrics.js'

// The accounting report as a pure function of the ring's, the writers' and the store's counts.

const dropped = { full: 2, too_large: 0, not_serializable: 0, invalid_event: 0, closed: 0, timeout: 0, evicted: 0, abandoned: 0, sampled: 0 }
const ring = (over: Partial<RingStats> = {}): RingStats =>
  ({ ready: 0, claimed: 0, totalWrites: 1_000, dropped, ...over }) as unknown as RingStats
const totals = (over: Partial<Totals> = {}): Totals => ({
  eventsRead: 1_000, eventsProcessed: 1_000, eventsStored: 1_000, duplicates: 0, filtered: 0, invalid: 0, poisoned: 0, stageErrors: 0, killers: 0, retriesExhausted: 0, retriedLater: 0, deferred: 0, batchesProcessed: 4, errorCount: 0, ...over,
})
const store = (events: number, deadLetters = 0, pendingHeld = 0): StoreCount => ({ events, deadLetters, pendingHeld })

describe('accountFor', () => {
  // [rule, ring, writers' totals, store count, expected buckets]
  const table: [string, RingStats, Totals, StoreCount | undefined, Record<string, unknown>][] = [
    ['a drained ring counted by the store: everything stored', ring(), totals(), store(1_000), { stored: 1_000, inFlight: 0, countedBy: 'store', balanced: true }],
    [
      'a batch stored but not committed when its writer was terminated is stored, not in flight',
      ring({ totalWrites: 100, claimed: 100 }),
      totals({ eventsStored: 0 }),
      store(100, 0, 100),
      { accepted: 100, stored: 100, inFlight: 0, balanced: true },
    ],
    [
      'of the events still in the ring, only those the store lacks are in flight',
      ring({ ready: 300, claimed: 200 }),
      totals({ eventsStored: 500 }),
      store(650, 0, 150),
      { stored: 650, inFlight: 350, balanced: true },
    ],
    [
      'dead letters of an uncommitted batch are quarantined, not in flight',
      ring({ totalWrites: 10, claimed: 10 }),
      totals({ eventsStored: 0 }),
      store(5, 5, 10),
      { stored: 5, quarantined: 5, inFlight: 0, balanced: true },
    ],
    [
      "the store's counts win over the writers' (a writer killed between the store's commit and its counters)",
      ring(),
      totals({ eventsStored: 900, duplicates: 100 }),
      store(1_000),
      { stored: 1_000, duplicates: 100, balanced: true },
    ],
    [
      "without a store count: the writers' new rows and duplicates, and all the ring still holds in flight",
      ring({ ready: 30, claimed: 20 }),
      totals({ eventsStored: 940, duplicates: 10 }),
      undefined,
      { stored: 950, inFlight: 50, countedBy: 'writer metrics', balanced: true },
    ],
    ['filtered and evicted events are buckets of their own', ring({ dropped: { ...dropped, evicted: 100 } }), totals({ eventsStored: 850, filtered: 50 }), store(850), { filtered: 50, evicted: 100, balanced: true }],
    ['is not balanced when the store lacks a committed event', ring(), totals(), store(999), { stored: 999, inFlight: 0, balanced: false }],
    ['is not balanced when the store holds more than was accepted', ring(), totals(), store(1_001), { stored: 1_001, balanced: false }],
    ['is not balanced when an accepted event is in no bucket (writer counts)', ring(), totals({ eventsStored: 999 }), undefined, { balanced: false }],
  ]
  it.each(table)('%s', (_rule, r, t, s, expected) => {
    expect(accountFor(r, t, s)).toMatchObject(expected)
  })
})

describe('buildReport', () => {
  it('takes stored and quarantined from the store when it can count', () => {
    const r = buildReport(ring(), totals({ eventsStored: 900, duplicates: 100 }), { events: 1_000, deadLetters: 0, pendingHeld: 0 }, false, 5)
    expect(r).toMatchObject({ accepted: 1_000, stored: 1_000, countedBy: 'store', balanced: true })
  })

  it("counts a writer's duplicates as stored without the store: their first store went uncounted", () => {
    // A batch of 10 the store took in part before failing, then whole on the retry: 990 new + 10 duplicates.
    const r = buildReport(ring(), totals({ eventsStored: 990, duplicates: 10 }), undefined, false, 5)
    expect(r).toMatchObject({ stored: 1_000, duplicates: 10, countedBy: 'writer metrics', balanced: true })
  })

  it("never claims balance when the store's count failed, and says why", () => {
    // The writers' figures add up; the store they wrote to is gone, so nothing shows the events are there.
    const r = buildReport(ring(), totals(), { error: 'the store file /x.db was deleted after it was opened' }, false, 5)
    expect(r).toMatchObject({ stored: 1_000, countedBy: 'not counted', balanced: false, countError: expect.stringMatching(/deleted/) })
  })

  it('carries a failed journal write', () => {
    const r = buildReport(ring({ ready: 10 }), totals({ eventsStored: 990 }), undefined, true, 5, 0, 'could not write 10 unstored events')
    expect(r).toMatchObject({ inFlight: 10, journaled: 0, journalError: 'could not write 10 unstored events' })
  })

  it('is not balanced when an accepted event is in no bucket', () => {
    const r = buildReport(ring(), totals({ eventsStored: 999 }), undefined, false, 5)
    expect(r.balanced).toBe(false)
  })

  it('counts what the ring still holds as in flight, and what was refused at the door as offered', () => {
    const r = buildReport(ring({ ready: 30, claimed: 20 }), totals({ eventsStored: 950 }), undefined, true, 5)
    expect(r).toMatchObject({ inFlight: 50, timedOut: true, balanced: true, offered: 1_002 })
  })

  it('counts sampled-out events as offered and refused at the door, never as accepted', () => {
    const r = buildReport(ring({ dropped: { ...dropped, sampled: 400 } }), totals(), store(1_000), false, 5)
    expect(r).toMatchObject({ offered: 1_402, accepted: 1_000, rejected: { full: 2, sampled: 400 }, stored: 1_000, balanced: true })
    expect(r.offered).toBe(r.accepted + Object.values(r.rejected).reduce((a, b) => a + b, 0))
  })

  it('counts as journaled only events in flight: the journal may hold events the store already has', () => {
    // 100 events claimed at the deadline and written to the journal; the store already held 40 of them.
    const r = buildReport(ring({ totalWrites: 100, claimed: 100 }), totals({ eventsStored: 0 }), store(40, 0, 40), true, 5, 100)
    expect(r).toMatchObject({ stored: 40, inFlight: 60, journaled: 60, balanced: true })
  })
})

describe('buildReport (a routed store)', () => {
  it('lists each destination with what is routed there and what it holds, balanced when they agree', () => {
    const r = buildReport(ring(), totals(), store(1_000), false, 5, 0, undefined, [
      { name: 'errors', expected: 140, held: 140 },
      { name: 'all', expected: 1_000, held: 1_000 },
    ])
    expect(r.destinations).toEqual([
      { name: 'errors', expected: 140, held: 140, balanced: true },
      { name: 'all', expected: 1_000, held: 1_000, balanced: true },
    ])
    expect(r.balanced).toBe(true)
  })

  it('shows a destination that holds less or more than is routed there as not balanced, and leaves the conservation proof alone', () => {
    const r = buildReport(ring(), totals(), store(1_000), false, 5, 0, undefined, [
      { name: 'errors', expected: 140, held: 139 },
      { name: 'audit', expected: 10, held: 12 },
      { name: 'remote', expected: 10, held: undefined },
      { name: 'all', expected: 1_000, held: 1_000 },
    ])
    expect(r.destinations?.map((d) => d.balanced)).toEqual([false, false, false, true])
    expect(r.balanced).toBe(true)
  })

  it('says why the destinations could not be counted', () => {
    const r = buildReport(ring(), totals(), store(1_000), false, 5, 0, undefined, { error: 'the destinations could not be counted: disk gone' })
    expect(r).toMatchObject({ destinationsError: 'the destinations could not be counted: disk gone', balanced: true })
    expect(r.destinations).toBeUndefined()
  })

  it('has no destinations section for any other store', () => {
    expect('destinations' in buildReport(ring(), totals(), store(1_000), false, 5)).toBe(false)
  })
})

describe('the counts of a priority ring (three sub-rings, each counted by its ring id)', () => {
  it('adds the sub-rings\' store counts up, pruned ones included', () => {
    expect(addStoreCounts([store(10, 1, 2), { ...store(20, 0, 0), prunedEvents: 5 }, store(3)])).toEqual({ events: 33, deadLetters: 1, pendingHeld: 2, prunedEvents: 5 })
  })

  it('fails the whole count when one sub-ring\'s count failed, and leaves it uncounted when one cannot be made', () => {
    expect(addStoreCounts([store(1), { error: 'file gone' }, store(2)])).toEqual({ error: 'file gone' })
    expect(addStoreCounts([store(1), undefined, store(2)])).toBeUndefined()
    expect(addStoreCounts([store(7)])).toEqual(store(7))
  })

  it('adds a routed store\'s destinations up by name; a destination that cannot count stays uncounted', () => {
    expect(addRouteCounts([[{ name: 'a', held: 2, expected: 2 }, { name: 'b', held: 1, expected: undefined }], [{ name: 'a', held: 3, expected: 3 }, { name: 'b', held: 4, expected: 4 }]])).toEqual([
      { name: 'a', held: 5, expected: 5 },
      { name: 'b', held: 5, expected: undefined },
    ])
  })

  it('gives each priority its own buckets from its sub-ring and its store count', () => {
    const high = ring({ totalWrites: 50, dropped: { ...dropped, full: 0 } })
    const low = ring({ totalWrites: 100, ready: 4, dropped: { ...dropped, full: 1, evicted: 30, sampled: 7 } })
    const normal = ring({ totalWrites: 0, dropped: { ...dropped, full: 0 } })
    const got = priorityAccounts({ high, normal, low }, [['high', store(50)], ['normal', undefined], ['low', { ...store(60, 2, 1), prunedEvents: 5 }]])
    expect(got.high).toMatchObject({ accepted: 50, stored: 50, evicted: 0, inFlight: 0 })
    expect(got.normal).toMatchObject({ accepted: 0, stored: undefined, inFlight: 0 })
    expect(got.low).toMatchObject({ offered: 108, accepted: 100, stored: 65, quarantined: 2, pruned: 5, evicted: 30, inFlight: 3, rejected: { full: 1, sampled: 7 } })
  })
})
