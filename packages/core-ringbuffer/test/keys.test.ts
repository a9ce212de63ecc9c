import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KeyMaker } from '../src/consumer.js'

describe('KeyMaker', () => {
  it('makes `${ringId}:${seq}` for every seq up to 2^53 - 1, in any order', () => {
    const keys = new KeyMaker('ab12')
    const seq = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.maxSafeNat(), fc.integer({ min: 2 ** 42, max: 2 ** 44 }))
    fc.assert(
      fc.property(fc.array(seq, { minLength: 1, maxLength: 20 }), (seqs) => {
        for (const s of seqs) expect(keys.key(s)).toBe(`ab12:${s}`)
      }),
      { numRuns: 2000 },
    )
    for (const s of [0, 9, 10, 999, 1000, 1001, 1999, 2000, 999_999, 1_000_000, 2 ** 53 - 1, 2 ** 53 - 1000, 2 ** 43 * 1000 - 1]) {
      expect(keys.key(s)).toBe(`ab12:${s}`)
    }
  })

  it('makes the keys of a run of consecutive seqs crossing thousands', () => {
    const keys = new KeyMaker('r')
    for (let s = 2 ** 40 - 2500; s < 2 ** 40 + 2500; s++) expect(keys.key(s)).toBe(`r:${s}`)
  })
})
