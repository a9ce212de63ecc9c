import { describe, expect, it } from 'vitest'
import type { RingStats } from '@ringside/core-ringbuffer'
import { buildReport } from '../src/report.js'
import type { Totals } from '../src/metrics.js'

// The accounting report as a pure function of the ring's and the writers' counts.

const dropped = { full: 2, too_large: 0, not_serializable: 0, invalid_event: 0, closed: 0, timeout: 0, evicted: 0, abandoned: 0 }
const ring = (over: Partial<RingStats> = {}): RingStats =>
  ({ ready: 0, claimed: 0, totalWrites: 1_000, dropped, ...over }) as unknown as RingStats
const totals = (over: Partial<Totals> = {}): Totals => ({
  eventsRead: 1_000, eventsProcessed: 1_000, eventsStored: 1_000, duplicates: 0, filtered: 0, invalid: 0, poisoned: 0, batchesProcessed: 4, errorCount: 0, ...over,
})

describe('buildReport', () => {
  it('takes stored and quarantined from the store when it can count', () => {
    const r = buildReport(ring(), totals({ eventsStored: 900, duplicates: 100 }), { events: 1_000, deadLetters: 0 }, false, 5)
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

  it('counts what the ring still holds as in flight', () => {
    const r = buildReport(ring({ ready: 30, claimed: 20 }), totals({ eventsStored: 950 }), undefined, true, 5)
    expect(r).toMatchObject({ inFlight: 50, timedOut: true, balanced: true, offered: 1_002 })
  })
})
