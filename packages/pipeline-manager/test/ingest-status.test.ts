import { describe, expect, it } from 'vitest'
import { PriorityRing } from '@ringside/core-ringbuffer'
import { ingest, statusOf, type IngestReply } from '../src/http/ingest.js'

// The status of a POST /ingest reply from what was accepted and why the rest was refused.

const reply = (accepted: number, rejectedByReason: Record<string, number>): IngestReply => ({
  accepted,
  rejected: Object.values(rejectedByReason).reduce((a, b) => a + b, 0),
  rejectedByReason,
  keys: [],
  errors: [],
})

describe('statusOf', () => {
  it.each([
    ['every event accepted is 200', reply(3, {}), 200],
    ['some accepted is 207', reply(1, { full: 2 }), 207],
    ['every refusal sampled is 207, never a retry (429) nor the events fault (422)', reply(0, { sampled: 5 }), 207],
    ['sampled beside full, none accepted, is 429: the full ones may be retried', reply(0, { sampled: 5, full: 1 }), 429],
    ['sampled beside invalid, none accepted, is 422', reply(0, { sampled: 5, invalid_event: 1 }), 422],
    ['a closed ring is 503', reply(0, { closed: 2 }), 503],
  ])('%s', (_rule, r, status) => {
    expect(statusOf(r).status).toBe(status)
  })
})

describe('ingest into a priority ring', () => {
  it('writes at normal priority, and the keys are the normal sub-ring\'s', () => {
    const ring = PriorityRing.create({ size: 16 })
    const { status, reply: r } = ingest(ring, [{ type: 'a' }, { type: 'b' }])
    expect(status).toBe(200)
    expect(r.keys).toEqual([`${ring.rings.normal.id}:0`, `${ring.rings.normal.id}:1`])
    expect(ring.rings.normal.stats().ready).toBe(2)
    expect(ring.rings.high.stats().ready + ring.rings.low.stats().ready).toBe(0)
  })
})
