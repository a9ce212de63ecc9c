import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeEvent, encodeEvent, ENC_INVALID_EVENT, ENC_NOT_SERIALIZABLE, ENC_TOO_LARGE } from '../src/codec.js'

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
