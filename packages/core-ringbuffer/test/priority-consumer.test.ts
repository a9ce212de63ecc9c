import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PRIORITIES, PriorityRing, type Claim, type Priority } from '../src/index.js'

// PriorityConsumer: one consumer id on the three sub-rings, as a pipeline writer uses it. Its claim
// is one claim, high first then normal then low, each FIFO; its commit splits a claim (or any part
// of one, records and positions kept parallel) by sub-ring; takeOver hands all of it to an heir.

interface Entry { n: number; p: Priority; state: 'ready' | 'claimed' | 'done' }

/** Three FIFO queues under one budget with drop_lowest (the rule the ring's own model test states). */
class Model {
  readonly q: Record<Priority, Entry[]> = { low: [], normal: [], high: [] }
  constructor(readonly budget: number) {}
  used(): number {
    return this.q.low.length + this.q.normal.length + this.q.high.length
  }
  sweep(p: Priority): void {
    while (this.q[p][0]?.state === 'done') this.q[p].shift()
  }
  write(n: number, p: Priority): boolean {
    while (this.used() >= this.budget) {
      const victim = PRIORITIES.slice(0, PRIORITIES.indexOf(p) + 1).find((q) => this.q[q][0]?.state === 'ready')
      if (victim === undefined) return false
      this.q[victim].shift()
      this.sweep(victim)
    }
    this.q[p].push({ n, p, state: 'ready' })
    return true
  }
  claim(max: number): Entry[] {
    const out: Entry[] = []
    for (const p of [...PRIORITIES].reverse()) {
      for (const e of this.q[p]) {
        if (out.length >= max) break
        if (e.state === 'ready') {
          e.state = 'claimed'
          out.push(e)
        }
      }
    }
    return out
  }
  commit(entries: readonly Entry[]): void {
    for (const e of entries) e.state = 'done'
    for (const p of PRIORITIES) this.sweep(p)
  }
}

type Op = { k: 'write'; p: Priority } | { k: 'claim'; max: number } | { k: 'commit'; pick: number; mask: number }
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('write' as const), p: fc.constantFrom(...PRIORITIES) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('claim' as const), max: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('commit' as const), pick: fc.nat(), mask: fc.nat() }) },
)

describe('PriorityConsumer', () => {
  it('claims high before normal before low, each in order, and commits claims and parts of claims to their sub-rings', () => {
    fc.assert(
      fc.property(fc.constantFrom(2, 4, 8), fc.array(opArb, { maxLength: 150 }), (size, ops) => {
        const ring = PriorityRing.create({ size })
        const consumer = ring.consumer(0)
        const model = new Model(size)
        const held: { claim: Claim; entries: Entry[] }[] = []
        let n = 0
        for (const op of ops) {
          if (op.k === 'write') {
            expect(ring.write({ type: 'e', n }, op.p).ok).toBe(model.write(n, op.p))
            n++
          } else if (op.k === 'claim') {
            const claim = consumer.claim(op.max)
            const expected = model.claim(op.max)
            expect(claim?.records.map((r) => [consumer.priorityOf(r), r.event.n]) ?? []).toEqual(expected.map((e) => [e.p, e.n]))
            if (claim) held.push({ claim, entries: expected })
          } else if (held.length > 0) {
            // Commit part of a held claim (the writer holds events a stage put off), keeping the rest held.
            const h = held[op.pick % held.length]!
            const take = h.claim.records.map((_, k) => ((op.mask >> k) & 1) === 1 || h.claim.records.length === 1)
            const part = (keep: boolean): [Claim, Entry[]] => {
              const ks = take.flatMap((t, k) => (t === keep ? [k] : []))
              return [{ ...h.claim, records: ks.map((k) => h.claim.records[k]!), positions: ks.map((k) => h.claim.positions[k]!) }, ks.map((k) => h.entries[k]!)]
            }
            const [now, nowEntries] = part(true)
            const [rest, restEntries] = part(false)
            consumer.commit(now)
            model.commit(nowEntries)
            held.splice(held.indexOf(h), 1)
            if (rest.records.length > 0) held.push({ claim: rest, entries: restEntries })
          }
          for (const p of PRIORITIES) {
            const s = ring.rings[p].stats()
            expect({ p, ready: s.ready, claimed: s.claimed }).toEqual({ p, ready: model.q[p].filter((e) => e.state === 'ready').length, claimed: model.q[p].filter((e) => e.state === 'claimed').length })
          }
          expect(ring.stats().utilization).toBe(model.used() / size)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('hands every claim a dead consumer held on any sub-ring to its heir, which claims them first', () => {
    const ring = PriorityRing.create({ size: 16 })
    for (const p of PRIORITIES) for (let n = 0; n < 3; n++) ring.write({ type: 'e', p, n }, p)
    const dead = ring.consumer(0)
    const held = dead.claim(100)!
    expect(held.records).toHaveLength(9)
    ring.write({ type: 'e', p: 'high', n: 3 }, 'high')
    expect(ring.takeOver(0, 1)).toBe(9)
    const heir = ring.consumer(1)
    const got = heir.claim(100)!
    // Within each sub-ring the handed-over claim comes first; sub-rings in priority order.
    expect(got.records.map((r) => `${String(r.event.p)}${String(r.event.n)}`)).toEqual(['high0', 'high1', 'high2', 'normal0', 'normal1', 'normal2', 'low0', 'low1', 'low2'])
    expect(got.handedOver).toBe(true)
    expect(() => dead.commit(held)).toThrow(/no longer holds/)
    heir.commit(got)
    const rest = heir.claim(100)!
    expect(rest.records.map((r) => r.event.n)).toEqual([3])
    heir.commit(rest)
    const s = ring.stats()
    expect({ ready: s.ready, claimed: s.claimed, committed: s.totalCommitted, writes: s.totalWrites }).toEqual({ ready: 0, claimed: 0, committed: 10, writes: 10 })
  })

  it('wakes a waiting consumer for an event of any priority', async () => {
    const ring = PriorityRing.create({ size: 16 })
    const consumer = ring.consumer(0)
    for (const p of PRIORITIES) {
      // The waits are registered when the call returns; the write's notify ends the one on its sub-ring.
      const woke = consumer.waitForDataAsync(60_000)
      ring.write({ type: 'e' }, p)
      expect(await woke).toBe(true)
      consumer.commit(consumer.claim(10)!)
    }
    // The waits still pending on the other sub-rings (low, normal) end with their next event.
    ring.write({ type: 'e' }, 'low')
    ring.write({ type: 'e' }, 'normal')
    expect(consumer.claim(10)!.records).toHaveLength(2)
  })
})

describe('PriorityRing sampling', () => {
  it('samples by the fill of the whole budget, counts sampled events in their priority, and never evicts for them', () => {
    const ring = PriorityRing.create({ size: 8, sampling: { above: 0.5, keepOneIn: 2, alwaysKeep: ['error'] } })
    expect(ring.sampling).toEqual({ above: 0.5, keepOneIn: 2, alwaysKeep: ['error'] })
    for (let n = 0; n < 4; n++) expect(ring.write({ type: 'call', n }, n % 2 === 0 ? 'low' : 'high').ok).toBe(true)
    // Half the budget is used, across two sub-rings: from here 1 call in 2 is kept.
    const results = Array.from({ length: 4 }, (_, n) => ring.write({ type: 'call', n }, 'normal'))
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['ok', 'sampled', 'ok', 'sampled'])
    expect(ring.write({ type: 'error' }, 'normal').ok).toBe(true)
    expect(ring.rings.normal.stats().dropped.sampled).toBe(2)
    // The budget is spent: a sampled-out write evicts nothing, a kept one evicts the oldest low event.
    expect(ring.write({ type: 'call' }, 'high')).toEqual({ ok: true, seq: 2 })
    expect(ring.write({ type: 'call' }, 'high')).toEqual({ ok: false, reason: 'sampled' })
    expect(ring.stats().dropped).toMatchObject({ sampled: 3, evicted: 0 })
    ring.setSampling(null)
    expect(ring.write({ type: 'call' }, 'high').ok).toBe(true)
    expect(ring.stats().dropped).toMatchObject({ sampled: 3, evicted: 1 })
    expect(ring.rings.low.stats().dropped.evicted).toBe(1)
  })

  it('is shared with rings attached in other threads through the handle', () => {
    const ring = PriorityRing.create({ size: 4 })
    const other = PriorityRing.attach(ring.handle)
    ring.setSampling({ above: 0, keepOneIn: 3 })
    expect(other.sampling).toEqual({ above: 0, keepOneIn: 3, alwaysKeep: [] })
    expect([0, 1, 2].map(() => other.write({ type: 'x' }).ok)).toEqual([true, false, false])
  })

  it('refuses writes to a closed ring without evicting anything', () => {
    const ring = PriorityRing.create({ size: 2 })
    ring.write({ type: 'e' }, 'low')
    ring.write({ type: 'e' }, 'low')
    ring.close()
    expect(ring.write({ type: 'e' }, 'high')).toEqual({ ok: false, reason: 'closed' })
    expect(ring.stats()).toMatchObject({ closed: true, ready: 2, dropped: { evicted: 0, closed: 1 } })
  })
})
