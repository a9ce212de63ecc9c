import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RingBuffer, RingOptionError } from '../src/index.js'

// The capture-side sampling policy: above a fill level, 1 in N events of each type is kept, the
// listed types always; every sampled-out event is refused with `sampled` and counted.

const boot = new URL('./fixtures/boot.mjs', import.meta.url)
const fixture = new URL('./fixtures/sampling-producer.ts', import.meta.url).href

describe('sampling', () => {
  it('keeps exactly the first of every N events of each type, always keeps the listed types, and counts every sampled event', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.constantFrom('call', 'return', 'error', 'exception', 'log'), { maxLength: 300 }),
        fc.subarray(['error', 'exception', 'log']),
        (keepOneIn, types, alwaysKeep) => {
          // above 0: the ring is always at or above the level, so every event is subject to the policy.
          const ring = RingBuffer.create({ size: 512, sampling: { above: 0, keepOneIn, alwaysKeep } })
          const seen = new Map<string, number>()
          let sampled = 0
          for (const type of types) {
            const r = ring.write({ type })
            const n = seen.get(type) ?? 0
            seen.set(type, n + 1)
            const expectKept = alwaysKeep.includes(type) || n % keepOneIn === 0
            if (expectKept) expect(r.ok).toBe(true)
            else {
              expect(r).toEqual({ ok: false, reason: 'sampled' })
              sampled++
            }
          }
          const s = ring.stats()
          expect(s.dropped.sampled).toBe(sampled)
          expect(s.totalWrites + s.dropped.sampled).toBe(types.length)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('samples only writes made while the fill is at or above the level', () => {
    fc.assert(
      fc.property(fc.constantFrom(8, 16, 64), fc.double({ min: 0.05, max: 1, noNaN: true }), fc.integer({ min: 2, max: 5 }), (size, above, keepOneIn) => {
        const ring = RingBuffer.create({ size, sampling: { above, keepOneIn } })
        const level = Math.ceil(above * size)
        let counted = 0
        for (let n = 0; n < size; n++) {
          const before = ring.pressure() * size
          const r = ring.write({ type: 'call' })
          if (before < level) expect(r.ok).toBe(true)
          else {
            // At or above the level the per-type count runs: the first of every N is kept.
            expect(r.ok).toBe(counted % keepOneIn === 0)
            counted++
          }
        }
      }),
      { numRuns: 200 },
    )
  })

  it('never encodes a sampled-out event', () => {
    const ring = RingBuffer.create({ size: 64, sampling: { above: 0, keepOneIn: 2 } })
    let encoded = 0
    const event = () => ({ type: 'call', toJSON: () => (encoded++, { type: 'call' }) })
    const results = [ring.write(event()), ring.write(event()), ring.write(event()), ring.write(event())]
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false])
    expect(encoded).toBe(2)
  })

  it('does not sample an event whose type getter throws; encoding refuses it for its own reason', () => {
    const ring = RingBuffer.create({ size: 64, sampling: { above: 0, keepOneIn: 1000 } })
    ring.write({ type: 'call' }) // the first of its type is kept
    const bad = Object.defineProperty({}, 'type', { enumerable: true, get: () => { throw new Error('boom') } })
    expect(ring.write(bad)).toEqual({ ok: false, reason: 'not_serializable' })
    expect(ring.stats().dropped).toMatchObject({ sampled: 0, not_serializable: 1 })
  })

  it('applies a policy set on any handle to every handle at its next write, and turns off with null', () => {
    const ring = RingBuffer.create({ size: 64 })
    const other = RingBuffer.attach(ring.handle)
    expect(ring.sampling).toBeNull()
    other.setSampling({ above: 0, keepOneIn: 3, alwaysKeep: ['error'] })
    expect(ring.sampling).toEqual({ above: 0, keepOneIn: 3, alwaysKeep: ['error'] })
    expect([0, 1, 2, 3].map(() => ring.write({ type: 'call' }).ok)).toEqual([true, false, false, true])
    expect(ring.write({ type: 'error' }).ok).toBe(true)
    other.setSampling(null)
    expect(ring.sampling).toBeNull()
    expect([0, 1, 2].map(() => ring.write({ type: 'call' }).ok)).toEqual([true, true, true])
    expect(ring.stats().dropped.sampled).toBe(2)
  })

  it('starts each policy with fresh per-type counts', () => {
    const ring = RingBuffer.create({ size: 64, sampling: { above: 0, keepOneIn: 2 } })
    expect([ring.write({ type: 'call' }).ok, ring.write({ type: 'call' }).ok]).toEqual([true, false])
    ring.setSampling({ above: 0, keepOneIn: 2 })
    expect([ring.write({ type: 'call' }).ok, ring.write({ type: 'call' }).ok]).toEqual([true, false])
  })

  it('counts events without a string type together, and keeps the first of every N of them', () => {
    const ring = RingBuffer.create({ size: 64, sampling: { above: 0, keepOneIn: 2 } })
    expect([ring.write({}).ok, ring.write({ type: 7 }).ok, ring.write({ type: null }).ok]).toEqual([true, false, true])
  })

  it('applies a policy set in another thread to this thread, and one set here to that thread', async () => {
    const ring = RingBuffer.create({ size: 1024 })
    const run = (data: Record<string, unknown>) =>
      new Promise<{ results: Record<string, number>; seen: unknown }>((resolve, reject) => {
        const w = new Worker(boot, { workerData: { entry: fixture, handle: ring.handle, ...data } })
        w.once('message', resolve)
        w.once('error', reject)
      })
    const there = await run({ policy: { above: 0, keepOneIn: 4, alwaysKeep: ['error'] }, count: 8, type: 'call' })
    expect(there.results).toEqual({ ok: 2, sampled: 6 })
    expect(ring.sampling).toEqual({ above: 0, keepOneIn: 4, alwaysKeep: ['error'] })
    expect([0, 1, 2, 3, 4].map(() => ring.write({ type: 'call' }).ok)).toEqual([true, false, false, false, true])
    ring.setSampling({ above: 0, keepOneIn: 2 })
    const again = await run({ count: 10, type: 'call' })
    expect(again.seen).toEqual({ above: 0, keepOneIn: 2, alwaysKeep: [] })
    expect(again.results).toEqual({ ok: 5, sampled: 5 })
    expect(ring.stats().dropped.sampled).toBe(6 + 3 + 5)
  })
})

describe('sampling options', () => {
  const optionOf = (f: () => unknown): string => {
    try {
      f()
    } catch (e) {
      expect(e).toBeInstanceOf(RingOptionError)
      return `${(e as RingOptionError).code}:${(e as RingOptionError).option}`
    }
    return 'accepted'
  }

  it.each([
    [{ keepOneIn: 0 }, 'invalid_option:sampling.keepOneIn'],
    [{ keepOneIn: 2.5 }, 'invalid_option:sampling.keepOneIn'],
    [{}, 'invalid_option:sampling.keepOneIn'],
    [{ keepOneIn: 2, above: 1.5 }, 'invalid_option:sampling.above'],
    [{ keepOneIn: 2, above: Number.NaN }, 'invalid_option:sampling.above'],
    [{ keepOneIn: 2, alwaysKeep: 'error' }, 'invalid_option:sampling.alwaysKeep'],
    [{ keepOneIn: 2, alwaysKeep: [''] }, 'invalid_option:sampling.alwaysKeep'],
    [{ keepOneIn: 2, alwaysKeep: ['x'.repeat(2000)] }, 'invalid_option:sampling.alwaysKeep'],
    [{ keepOneIn: 2, every: 3 }, 'invalid_option:sampling.every'],
    ['often', 'invalid_option:sampling'],
    [{ keepOneIn: 2, above: 0.5, alwaysKeep: ['error'] }, 'accepted'],
  ])('refuses a bad policy at create and at setSampling, naming the field (%j)', (policy, expected) => {
    expect(optionOf(() => RingBuffer.create({ size: 8, sampling: policy as never }))).toBe(expected)
    const ring = RingBuffer.create({ size: 8 })
    expect(optionOf(() => ring.setSampling(policy as never))).toBe(expected)
    if (expected !== 'accepted') expect(ring.sampling).toBeNull() // a refused policy changes nothing
  })
})
