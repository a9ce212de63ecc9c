import { describe, expect, it } from 'vitest'
import { RingBuffer, RingDecodeError, RingError, RingOptionError, type WriteResult } from '../src/index.js'
import { turnOf, viewsOf } from '../src/internal/views.js'
import { H_LOCK, S_CLAIMED } from '../src/layout.js'

const ev = (n: number) => ({ type: 'call', pid: '<0.1.0>', n })
const accepted = (r: WriteResult): number => {
  if (!r.ok) throw new Error(`write dropped: ${r.reason}`)
  return r.seq
}

describe('RingBuffer.create', () => {
  const codeOf = (options: unknown): string => {
    try {
      RingBuffer.create(options as never)
    } catch (e) {
      expect(e).toBeInstanceOf(RingOptionError)
      return (e as RingOptionError).code + ':' + (e as RingOptionError).option
    }
    return 'created'
  }

  it.each([
    [{ size: 0 }, 'invalid_size:size'],
    [{ size: -4 }, 'invalid_size:size'],
    [{ size: 1.5 }, 'invalid_size:size'],
    [{ size: '8' }, 'invalid_size:size'],
    [{ size: 12 }, 'size_must_be_power_of_2:size'],
    [{ size: 2 ** 25 }, 'size_must_be_power_of_2:size'],
    [{ overflowStrategy: 'drop_all' }, 'invalid_overflow_strategy:overflowStrategy'],
    [{ overflowStrategy: 3 }, 'invalid_overflow_strategy:overflowStrategy'],
    [{ maxEventBytes: 10 }, 'invalid_option:maxEventBytes'],
    [{ maxEventBytes: 100.5 }, 'invalid_option:maxEventBytes'],
    [{ blockTimeoutMs: -1 }, 'invalid_option:blockTimeoutMs'],
    [{ blockTimeoutMs: 60_000 }, 'invalid_option:blockTimeoutMs'],
    [{ maxConsumers: 0 }, 'invalid_option:maxConsumers'],
    [{ sise: 8 }, 'invalid_option:sise'],
    [null, 'invalid_option:options'],
    [[], 'invalid_option:options'],
    [{ size: 1 << 24, maxEventBytes: 1024 }, 'invalid_option:maxEventBytes'],
  ])('refuses %j with a typed error naming the option', (options, expected) => {
    expect(codeOf(options)).toBe(expected)
  })

  it('accepts every power of two from 1 and applies the defaults', () => {
    for (const size of [1, 2, 4, 1024]) expect(RingBuffer.create({ size }).options.size).toBe(size)
    expect(RingBuffer.create().options).toEqual({
      size: 16384,
      overflowStrategy: 'drop_newest',
      maxEventBytes: 512,
      blockTimeoutMs: 10,
      maxConsumers: 64,
    })
  })

  it('gives every ring a different random 128-bit id', () => {
    const ids = new Set(Array.from({ length: 50 }, () => RingBuffer.create({ size: 1 }).id))
    expect(ids.size).toBe(50)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/)
  })
})

describe('RingBuffer.attach', () => {
  it('shares the same memory through a handle', () => {
    const a = RingBuffer.create({ size: 8 })
    const b = RingBuffer.attach(structuredClone(a.handle))
    expect(b.id).toBe(a.id)
    accepted(b.write(ev(1)))
    expect(a.stats().totalWrites).toBe(1)
  })

  it('refuses a buffer that is not a ring', () => {
    expect(() => RingBuffer.attach({ kind: 'ringside.ring', buffer: new SharedArrayBuffer(4096) })).toThrow(RingError)
    expect(() => RingBuffer.attach({} as never)).toThrowError(/SharedArrayBuffer/)
  })
})

describe('write', () => {
  it('stamps consecutive sequence numbers from 0 and a capture time', () => {
    const ring = RingBuffer.create({ size: 16 })
    const before = Date.now()
    expect([0, 1, 2].map((n) => accepted(ring.write(ev(n))))).toEqual([0, 1, 2])
    const c = ring.consumer(0).claim(10)!
    expect(c.records.map((r) => r.seq)).toEqual([0, 1, 2])
    for (const r of c.records) {
      expect(r.capturedAt).toBeGreaterThanOrEqual(before - 1)
      expect(r.capturedAt).toBeLessThanOrEqual(Date.now() + 1)
      expect(r.key).toBe(`${ring.id}:${r.seq}`)
    }
  })

  it('stamps the performance.now() reading it is given as the capture time, and reads the clock itself for anything but a finite number', () => {
    const ring = RingBuffer.create({ size: 16 })
    const given = performance.now() - 250
    ring.write(ev(0), given)
    const before = Date.now()
    ring.write(ev(1), Number.NaN)
    ring.write(ev(2), undefined)
    const [r0, r1, r2] = ring.consumer(0).claim(10)!.records
    expect(r0!.capturedAt).toBe(performance.timeOrigin + given)
    for (const r of [r1!, r2!]) {
      expect(r.capturedAt).toBeGreaterThanOrEqual(before - 1)
      expect(r.capturedAt).toBeLessThanOrEqual(Date.now() + 1)
    }
  })

  it('refuses a full ring with full under drop_newest and counts it', () => {
    const ring = RingBuffer.create({ size: 4 })
    for (let n = 0; n < 4; n++) accepted(ring.write(ev(n)))
    expect(ring.write(ev(4))).toEqual({ ok: false, reason: 'full' })
    expect(ring.write(ev(5))).toEqual({ ok: false, reason: 'full' })
    expect(ring.stats().dropped.full).toBe(2)
    expect(ring.consumer(0).claim(10)!.records.map((r) => r.event.n)).toEqual([0, 1, 2, 3])
  })

  it.each<[string, () => unknown, string]>([
    ['a circular object', () => { const o: Record<string, unknown> = { type: 'c' }; o.self = o; return o }, 'not_serializable'],
    ['a BigInt', () => ({ type: 'b', v: 10n }), 'not_serializable'],
    ['a BigInt object', () => ({ type: 'b', v: [Object(10n)] }), 'not_serializable'],
    ['a throwing toJSON', () => ({ type: 't', v: { toJSON() { throw new Error('no') } } }), 'not_serializable'],
    ['a throwing getter', () => ({ type: 'g', get v() { throw new Error('no') } }), 'not_serializable'],
    ['nesting deeper than 64', () => { let o: Record<string, unknown> = { type: 'deep' }; for (let k = 0; k < 70; k++) o = { type: 'deep', o }; return o }, 'not_serializable'],
    ['a string larger than the budget', () => ({ type: 'big', s: 'x'.repeat(5000) }), 'too_large'],
    ['a huge string', () => ({ type: 'huge', s: 'x'.repeat(50_000_000) }), 'too_large'],
    ['a number', () => 42, 'invalid_event'],
    ['null', () => null, 'invalid_event'],
    ['an array', () => [{ type: 'a' }], 'invalid_event'],
    ['a Date (JSON makes it a string)', () => new Date(0), 'invalid_event'],
    ['an object whose toJSON returns a string', () => ({ type: 'x', toJSON: () => 'x' }), 'invalid_event'],
    ['undefined', () => undefined, 'invalid_event'],
  ])('refuses %s with the right reason and leaves the ring intact', (_name, make, reason) => {
    const ring = RingBuffer.create({ size: 4, maxEventBytes: 4096 })
    accepted(ring.write(ev(0)))
    const event = make()
    expect(ring.write(event)).toEqual({ ok: false, reason })
    accepted(ring.write(ev(1)))
    const s = ring.stats()
    expect(s.dropped[reason as 'too_large']).toBe(1)
    expect(s.totalWrites).toBe(2)
    // A non-object is refused at the door; any other event's slot was reserved before encoding:
    // it holds nothing and is freed with the events before it.
    const atTheDoor = event === null || typeof event !== 'object' || Array.isArray(event)
    expect(s.available).toBe(atTheDoor ? 2 : 1)
    const consumer = ring.consumer(0)
    const claim = consumer.claim(10)!
    expect(claim.records.map((r) => r.event)).toEqual([ev(0), ev(1)])
    consumer.commit(claim)
    expect(ring.stats()).toMatchObject({ available: 4, totalWrites: 2, totalReads: 2, totalCommitted: 2 })
  })

  it('keeps JSON semantics: toJSON, skipped undefined members, null for undefined items and non-finite numbers', () => {
    const ring = RingBuffer.create({ size: 4 })
    const at = new Date(1_700_000_000_000)
    accepted(ring.write({ type: 't', at, gone: undefined, list: [1, undefined, NaN, -0, 2 ** 40, 0.1], u: 'ü€😀' }))
    const got = ring.consumer(0).claim(1)!.records[0]!.event
    expect(got).toEqual(JSON.parse(JSON.stringify({ type: 't', at, list: [1, null, null, 0, 2 ** 40, 0.1], u: 'ü€😀' })))
  })

  it('follows JSON.stringify: a plain object\'s own toJSON, the event\'s own toJSON, function and symbol members skipped', () => {
    const ring = RingBuffer.create({ size: 4 })
    const money = { amount: 5, currency: 'EUR', toJSON: () => '5 EUR' }
    const event = { type: 't', money, f: () => 1, s: Symbol('x'), list: [() => 1, Symbol('y')] }
    accepted(ring.write(event))
    accepted(ring.write({ type: 'raw', secret: 'x', toJSON: () => ({ type: 'redacted' }) }))
    const got = ring.consumer(0).claim(2)!.records.map((r) => r.event)
    expect(got[0]).toStrictEqual(JSON.parse(JSON.stringify(event)))
    expect(got).toStrictEqual([{ type: 't', money: '5 EUR', list: [null, null] }, { type: 'redacted' }])
  })

  it('refuses with closed after close() and keeps what it holds', () => {
    const ring = RingBuffer.create({ size: 4 })
    accepted(ring.write(ev(0)))
    ring.close()
    expect(ring.write(ev(1))).toEqual({ ok: false, reason: 'closed' })
    expect(ring.stats().closed).toBe(true)
    expect(ring.consumer(0).claim(4)!.records).toHaveLength(1)
  })
})

describe('write from inside an event (re-entrancy)', () => {
  it('stores both events intact when a toJSON writes to the ring while the outer event is encoded (the outer one first: it reserved its slot first)', () => {
    const ring = RingBuffer.create({ size: 16 })
    class T {
      toJSON() {
        ring.write({ type: 'inner', v: 'I'.repeat(40) })
        return { traced: true }
      }
    }
    expect(ring.write({ type: 'outer', a: 'A'.repeat(50), nested: new T() })).toEqual({ ok: true, seq: 0 })
    const got = ring.consumer(0).claim(10)!
    expect(got.records.map((r) => r.event)).toEqual([
      { type: 'outer', a: 'A'.repeat(50), nested: { traced: true } },
      { type: 'inner', v: 'I'.repeat(40) },
    ])
  })

  it('stores every event intact when getters write to the ring, nested several levels deep and into another ring', () => {
    const ring = RingBuffer.create({ size: 16, maxEventBytes: 256 })
    const other = RingBuffer.create({ size: 4, maxEventBytes: 4096 })
    const event = (depth: number): Record<string, unknown> => ({
      type: `d${depth}`,
      pad: String(depth).repeat(30 + depth),
      get traced() {
        if (depth < 3) ring.write(event(depth + 1))
        other.write({ type: 'other', depth, big: 'x'.repeat(3000) })
        return depth
      },
    })
    accepted(ring.write(event(0)))
    const events = ring.consumer(0).claim(10)!.records.map((r) => r.event)
    expect(events).toEqual([0, 1, 2, 3].map((d) => ({ type: `d${d}`, pad: String(d).repeat(30 + d), traced: d })))
    expect(other.consumer(0).claim(10)!.records.map((r) => r.event.depth)).toEqual([3, 2, 1, 0])
  })

  it('refuses a write nested deeper than the re-entrancy limit with not_serializable and keeps the outer events intact', () => {
    const ring = RingBuffer.create({ size: 64 })
    const results: WriteResult[] = []
    class Deep {
      constructor(readonly depth: number) {}
      toJSON() {
        results.push(ring.write(new Deep(this.depth + 1))) // without a limit this recursion would never end
        return { type: 'deep', depth: this.depth }
      }
    }
    results.push(ring.write(new Deep(0)))
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'not_serializable' }])
    const events = ring.consumer(0).claim(64)!.records.map((r) => r.event)
    expect(events.length).toBe(results.length - 1)
    for (const e of events) expect(Object.keys(e)).toEqual(['type', 'depth'])
  })
})

describe('writeBatch', () => {
  it('returns one result per event, in order', () => {
    const ring = RingBuffer.create({ size: 2 })
    const rs = ring.writeBatch([ev(0), 7, ev(1), ev(2)])
    expect(rs.map((r) => (r.ok ? r.seq : r.reason))).toEqual([0, 'invalid_event', 1, 'full'])
  })
})

describe('overflowStrategy drop_oldest', () => {
  it('discards exactly the oldest unclaimed events to make room', () => {
    const ring = RingBuffer.create({ size: 4, overflowStrategy: 'drop_oldest' })
    for (let n = 0; n < 10; n++) accepted(ring.write(ev(n)))
    const s = ring.stats()
    expect(s.dropped.evicted).toBe(6)
    expect(s.dropped.full).toBe(0)
    expect(ring.consumer(0).claim(10)!.records.map((r) => r.event.n)).toEqual([6, 7, 8, 9])
  })

  it('never touches a claimed batch: with the oldest slot claimed it refuses the new event with full', () => {
    const ring = RingBuffer.create({ size: 4, overflowStrategy: 'drop_oldest' })
    for (let n = 0; n < 4; n++) accepted(ring.write(ev(n)))
    const c = ring.consumer(0)
    const held = c.claim(2)!
    expect(ring.write(ev(4))).toEqual({ ok: false, reason: 'full' })
    expect(ring.stats().dropped).toMatchObject({ full: 1, evicted: 0 })
    c.commit(held)
    // Now the oldest unclaimed event (n=2) is the one discarded... only once the slots are free again.
    accepted(ring.write(ev(5)))
    accepted(ring.write(ev(6)))
    accepted(ring.write(ev(7)))
    expect(ring.stats().dropped.evicted).toBe(1)
    expect(held.records.map((r) => r.event.n)).toEqual([0, 1])
    expect(c.claim(10)!.records.map((r) => r.event.n)).toEqual([3, 5, 6, 7])
  })
})

describe('overflowStrategy block', () => {
  it('waits up to blockTimeoutMs and then refuses with timeout', () => {
    const ring = RingBuffer.create({ size: 2, overflowStrategy: 'block', blockTimeoutMs: 30 })
    accepted(ring.write(ev(0)))
    accepted(ring.write(ev(1)))
    const t0 = performance.now()
    expect(ring.write(ev(2))).toEqual({ ok: false, reason: 'timeout' })
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25)
    expect(ring.stats().dropped).toMatchObject({ timeout: 1, full: 0 })
  })

  it('with blockTimeoutMs 0 refuses at once', () => {
    const ring = RingBuffer.create({ size: 1, overflowStrategy: 'block', blockTimeoutMs: 0 })
    accepted(ring.write(ev(0)))
    expect(ring.write(ev(1))).toEqual({ ok: false, reason: 'timeout' })
  })
})

describe('claim', () => {
  it('returns null on an empty ring', () => {
    expect(RingBuffer.create({ size: 4 }).consumer(0).claim(10)).toBeNull()
  })

  it('returns what is available, up to maxEvents, in write order', () => {
    const ring = RingBuffer.create({ size: 16 })
    for (let n = 0; n < 5; n++) accepted(ring.write(ev(n)))
    const c = ring.consumer(0)
    expect(c.claim(3)!.records.map((r) => r.event.n)).toEqual([0, 1, 2])
    expect(c.claim(3)!.records.map((r) => r.event.n)).toEqual([3, 4])
    expect(c.claim(3)).toBeNull()
  })

  it('stops at the byte bound but always returns at least one event', () => {
    const ring = RingBuffer.create({ size: 16 })
    for (let n = 0; n < 6; n++) accepted(ring.write({ type: 'x', s: 'y'.repeat(90) }))
    const c = ring.consumer(0)
    const first = c.claim(10, 250)!
    expect(first.records.length).toBe(2)
    expect(first.bytes).toBeLessThanOrEqual(250)
    expect(c.claim(10, 1)!.records.length).toBe(1)
  })

  it('gives two consumers disjoint batches', () => {
    const ring = RingBuffer.create({ size: 16 })
    for (let n = 0; n < 6; n++) accepted(ring.write(ev(n)))
    const a = ring.consumer(0).claim(4)!
    const b = ring.consumer(1).claim(4)!
    expect(a.records.map((r) => r.seq)).toEqual([0, 1, 2, 3])
    expect(b.records.map((r) => r.seq)).toEqual([4, 5])
  })

  it('refuses a consumer id outside 0..maxConsumers-1', () => {
    const ring = RingBuffer.create({ size: 4, maxConsumers: 2 })
    expect(() => ring.consumer(2)).toThrowError(expect.objectContaining({ code: 'invalid_consumer' }) as never)
    expect(() => ring.consumer(-1)).toThrow(RingError)
  })
})

describe('claim of a record that does not decode', () => {
  it('returns it marked with decodeError and an empty event instead of throwing, with the rest of the batch intact', () => {
    const ring = RingBuffer.create({ size: 8, maxEventBytes: 128 })
    for (let n = 0; n < 3; n++) accepted(ring.write(ev(n)))
    const v = viewsOf(ring.handle.buffer)
    v.data.fill(0xff, 1 * 128, 1 * 128 + (v.lens[1] as number)) // the second record's bytes
    const c = ring.consumer(0)
    const claim = c.claim(10)!
    expect(claim.records.map((r) => r.event)).toEqual([ev(0), {}, ev(2)])
    const bad = claim.records[1]!
    expect(bad.decodeError).toBeInstanceOf(RingDecodeError)
    expect(bad.decodeError!.code).toBe('malformed_record')
    expect(bad).toMatchObject({ seq: 1, key: `${ring.id}:1`, bytes: v.lens[1] })
    expect(claim.records[0]!.decodeError).toBeUndefined()
    c.commit(claim) // and it is committed like any other record
    expect(ring.stats()).toMatchObject({ totalCommitted: 3, claimed: 0, available: 8 })
  })
})

describe('commit', () => {
  it('frees space only up to the oldest uncommitted claim', () => {
    const ring = RingBuffer.create({ size: 8 })
    for (let n = 0; n < 8; n++) accepted(ring.write(ev(n)))
    const a = ring.consumer(0).claim(3)!
    const b = ring.consumer(1).claim(3)!
    ring.consumer(1).commit(b)
    expect(ring.stats()).toMatchObject({ available: 0, claimed: 3, totalCommitted: 3, committedPosition: 0 })
    ring.consumer(0).commit(a)
    expect(ring.stats()).toMatchObject({ available: 6, claimed: 0, totalCommitted: 6, committedPosition: 6 })
  })

  it('refuses a claim the consumer does not hold, changing nothing', () => {
    const ring = RingBuffer.create({ size: 8 })
    accepted(ring.write(ev(0)))
    const a = ring.consumer(0).claim(1)!
    expect(() => ring.consumer(1).commit(a)).toThrowError(expect.objectContaining({ code: 'claim_not_owned' }) as never)
    ring.consumer(0).commit(a)
    expect(() => ring.consumer(0).commit(a)).toThrow(RingError) // twice
    expect(ring.stats().totalCommitted).toBe(1)
  })
})

describe('takeOver', () => {
  it('hands a dead consumer\'s claim to its heir, which receives it before new events', () => {
    const ring = RingBuffer.create({ size: 8 })
    for (let n = 0; n < 5; n++) accepted(ring.write(ev(n)))
    const dead = ring.consumer(0).claim(3)!
    expect(ring.takeOver(0, 1)).toBe(3)
    const heir = ring.consumer(1)
    const got = heir.claim(10)!
    expect(got.handedOver).toBe(true)
    expect(got.records.map((r) => r.seq)).toEqual(dead.records.map((r) => r.seq))
    expect(() => ring.consumer(0).commit(dead)).toThrow(RingError) // the dead one can no longer commit
    heir.commit(got)
    expect(heir.claim(10)!.records.map((r) => r.seq)).toEqual([3, 4])
    expect(ring.stats()).toMatchObject({ totalReads: 5, totalCommitted: 3 })
  })

  it('recovers the slot a consumer was claiming when it died holding the claim lock', () => {
    const ring = RingBuffer.create({ size: 8 })
    for (let n = 0; n < 3; n++) accepted(ring.write(ev(n)))
    // Consumer 0 died inside claim(): lock word holds its token and slot 0 is CLAIMED with no owner written.
    const v = viewsOf(ring.handle.buffer)
    v.hdr[H_LOCK] = 1
    v.turn[0] = turnOf(0, S_CLAIMED)
    v.ownerPos[0] = 12345
    expect(() => ring.consumer(1, { lockTimeoutMs: 20 }).claim(1)).toThrowError(expect.objectContaining({ code: 'lock_timeout' }) as never)
    expect(ring.takeOver(0, 1)).toBe(1)
    const heir = ring.consumer(1)
    const handed = heir.claim(5)!
    expect(handed.handedOver).toBe(true)
    expect(handed.records.map((r) => r.seq)).toEqual([0])
    heir.commit(handed)
    expect(heir.claim(5)!.records.map((r) => r.seq)).toEqual([1, 2])
  })

  it('validates consumer ids', () => {
    const ring = RingBuffer.create({ size: 4, maxConsumers: 2 })
    expect(() => ring.takeOver(0, 5)).toThrowError(expect.objectContaining({ code: 'invalid_consumer' }) as never)
  })
})

describe('waitForData', () => {
  it('returns false after the timeout on an empty ring and true once data is there', async () => {
    const ring = RingBuffer.create({ size: 4 })
    const c = ring.consumer(0)
    expect(c.waitForData(5)).toBe(false)
    expect(await c.waitForDataAsync(5)).toBe(false)
    const waiting = c.waitForDataAsync(5_000)
    accepted(ring.write(ev(0)))
    expect(await waiting).toBe(true)
    expect(c.waitForData(5_000)).toBe(true)
  })

  it('with minEvents, is woken by the write that makes minEvents unclaimed events, not by the ones before', async () => {
    const ring = RingBuffer.create({ size: 16 })
    const c = ring.consumer(0)
    let settled = false
    const waiting = c.waitForDataAsync(60_000, 3).then((r) => {
      settled = true
      return r
    })
    accepted(ring.write(ev(0)))
    accepted(ring.write(ev(1)))
    // No notify was sent, so nothing can settle the wait (its timeout is a minute away).
    await new Promise((r) => setTimeout(r, 50))
    expect(settled).toBe(false)
    accepted(ring.write(ev(2)))
    expect(await waiting).toBe(true)
    expect(c.claim(10)?.records.length).toBe(3)
    // Already there: no wait at all.
    accepted(ring.write(ev(3)))
    accepted(ring.write(ev(4)))
    expect(c.waitForData(60_000, 2)).toBe(true)
  })
})

describe('stats', () => {
  it('reports positions, totals, drops and utilization after writes, claims and commits', () => {
    const ring = RingBuffer.create({ size: 4 })
    for (let n = 0; n < 6; n++) ring.write(ev(n))
    const c = ring.consumer(0)
    const cl = c.claim(3)!
    expect(ring.stats()).toMatchObject({
      size: 4, writePosition: 4, committedPosition: 0, available: 0, claimed: 3,
      totalWrites: 4, totalReads: 3, totalCommitted: 0, utilization: 1,
    })
    expect(ring.stats().dropped.full).toBe(2)
    c.commit(cl)
    expect(ring.stats()).toMatchObject({ committedPosition: 3, available: 3, claimed: 0, totalCommitted: 3, utilization: 0.25 })
  })
})
