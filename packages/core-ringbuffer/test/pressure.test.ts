import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RingBuffer, type Claim } from '../src/index.js'

// ring.pressure(): slots reserved and not yet freed / size, read from any handle of the ring.

const ev = (n: number) => ({ type: 'call', n })

describe('pressure', () => {
  it('is 0 on an empty ring and grows by 1/size with each accepted write', () => {
    const ring = RingBuffer.create({ size: 8 })
    expect(ring.pressure()).toBe(0)
    for (let n = 1; n <= 8; n++) {
      expect(ring.write(ev(n)).ok).toBe(true)
      expect(ring.pressure()).toBe(n / 8)
    }
    expect(ring.write(ev(9))).toEqual({ ok: false, reason: 'full' })
    expect(ring.pressure()).toBe(1)
  })

  it('keeps claimed events until their commit frees the space', () => {
    const ring = RingBuffer.create({ size: 8 })
    for (let n = 0; n < 6; n++) ring.write(ev(n))
    const c = ring.consumer(0)
    const claim = c.claim(4)!
    expect(ring.pressure()).toBe(6 / 8)
    c.commit(claim)
    expect(ring.pressure()).toBe(2 / 8)
  })

  it('is the same from every handle of the ring', () => {
    const ring = RingBuffer.create({ size: 16 })
    const other = RingBuffer.attach(ring.handle)
    for (let n = 0; n < 5; n++) other.write(ev(n))
    expect(ring.pressure()).toBe(5 / 16)
    expect(other.pressure()).toBe(ring.pressure())
  })

  it('equals stats().utilization and (writes - committed) / size after any run of writes, claims and commits', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('write' as const) }),
      fc.record({ k: fc.constant('claim' as const), max: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ k: fc.constant('commit' as const), pick: fc.nat() }),
    )
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 8, 32), fc.constantFrom('drop_newest' as const, 'drop_oldest' as const), fc.array(op, { maxLength: 200 }), (size, overflowStrategy, ops) => {
        const ring = RingBuffer.create({ size, overflowStrategy })
        const c = ring.consumer(0)
        const held: Claim[] = []
        for (const o of ops) {
          if (o.k === 'write') ring.write(ev(0))
          else if (o.k === 'claim') {
            const claim = c.claim(o.max)
            if (claim) held.push(claim)
          } else if (held.length > 0) c.commit(held.splice(o.pick % held.length, 1)[0]!)
          const s = ring.stats()
          const p = ring.pressure()
          expect(p).toBeGreaterThanOrEqual(0)
          expect(p).toBeLessThanOrEqual(1)
          expect(p).toBe(s.utilization)
          expect(p).toBe((s.writePosition - s.committedPosition) / size)
        }
      }),
      { numRuns: 200 },
    )
  })
})
