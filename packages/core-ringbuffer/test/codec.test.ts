import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeEvent, encodeEvent, ENC_INVALID_EVENT, ENC_NOT_SERIALIZABLE, ENC_TOO_LARGE } from '../src/codec.js'
import { RingDecodeError, RingError } from '../src/errors.js'

const buf = new Uint8Array(1 << 16)
const roundTrip = (v: unknown): unknown => {
  const len = encodeEvent(v, buf, 0, buf.length)
  if (len < 0) throw new Error(`encode failed: ${len}`)
  return decodeEvent(buf, 0, len)
}

describe('encodeEvent / decodeEvent', () => {
  it('round-trips every JSON object exactly as JSON would', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        expect(roundTrip(o)).toEqual(JSON.parse(JSON.stringify(o)))
      }),
      { numRuns: 500 },
    )
  })

  it('round-trips keys of every length, including ones whose length byte equals a tag', () => {
    const o: Record<string, number> = {}
    for (let n = 0; n < 300; n++) o['k'.repeat(n)] = n
    expect(roundTrip(o)).toEqual(o)
  })

  it('round-trips full Unicode, including astral characters and lone surrogates as U+FFFD', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(roundTrip({ s })).toEqual({ s: new TextDecoder().decode(new TextEncoder().encode(s)) })
      }),
    )
  })

  it('reports too_large at the byte limit and not before', () => {
    const o = { type: 'x', s: 'a'.repeat(100) }
    const len = encodeEvent(o, buf, 0, buf.length)
    expect(encodeEvent(o, buf, 0, len)).toBe(len)
    expect(encodeEvent(o, buf, 0, len - 1)).toBe(ENC_TOO_LARGE)
    expect(encodeEvent({ s: '€'.repeat(50) }, buf, 0, 120)).toBe(ENC_TOO_LARGE)
  })

  it('reports not_serializable and invalid_event codes', () => {
    expect(encodeEvent({ v: 1n }, buf, 0, 100)).toBe(ENC_NOT_SERIALIZABLE)
    expect(encodeEvent('str', buf, 0, 100)).toBe(ENC_INVALID_EVENT)
  })

  it('encodes at an offset without touching bytes outside its range', () => {
    buf.fill(0xee, 0, 300)
    const len = encodeEvent({ a: 1 }, buf, 100, 200)
    expect(buf[99]).toBe(0xee)
    expect(buf[100 + len]).toBe(0xee)
    expect(decodeEvent(buf, 100, 100 + len)).toEqual({ a: 1 })
  })
})

describe('decodeEvent', () => {
  const failure = (bytes: Uint8Array): unknown => {
    try {
      decodeEvent(bytes, 0, bytes.length)
    } catch (e) {
      return e
    }
    return undefined
  }

  it('throws RingDecodeError (code malformed_record, with the bytes) for every malformed record, never another error', () => {
    const valid = new Uint8Array(256)
    const len = encodeEvent({ type: 'call', n: 7, s: 'é€', list: [1, 2.5, null, true] }, valid, 0, valid.length)
    const cases = [
      new Uint8Array(0), // truncated at once
      valid.slice(0, len - 1), // truncated
      Uint8Array.from([...valid.subarray(0, len), 0]), // trailing bytes
      Uint8Array.from([0xff]), // unknown tag
      Uint8Array.from([7, 3, 1, 0, 0, 0, 8]), // a key that is not a string
      Uint8Array.from([7, 5, 100, 0x61, 8]), // a string past the end
      Uint8Array.from([3, 1]), // an int32 past the end
      Uint8Array.from([5, 1, 0x61]), // a string, not an object
      new Uint8Array(100_000).fill(6), // arrays nested far deeper than any event
    ]
    for (const bytes of cases) {
      const e = failure(bytes)
      expect(e).toBeInstanceOf(RingDecodeError)
      expect(e).toBeInstanceOf(RingError)
      expect((e as RingDecodeError).code).toBe('malformed_record')
      expect((e as RingDecodeError).bytes).toEqual(bytes)
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const e = failure(bytes)
        if (e !== undefined) expect(e).toBeInstanceOf(RingDecodeError)
      }),
      { numRuns: 1000 },
    )
  })
})
