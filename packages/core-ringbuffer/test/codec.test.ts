import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeEvent, encodeEvent, ENC_INVALID_EVENT, ENC_NOT_SERIALIZABLE, ENC_TOO_LARGE, MAX_DEPTH } from '../src/codec.js'
import { decoderCodegen } from '../src/codec/decode-shapes.js'
import { encoderCodegen } from '../src/codec/shapes.js'
import { RingDecodeError, RingError } from '../src/errors.js'

const buf = new Uint8Array(1 << 16)
const roundTrip = (v: unknown): unknown => {
  const len = encodeEvent(v, buf, 0, buf.length)
  if (len < 0) throw new Error(`encode failed: ${len}`)
  return decodeEvent(buf, 0, len)
}

/** Decoding damaged bytes gives an object (another valid event) or a RingDecodeError, never anything else. */
function expectEventOrDecodeError(bytes: Uint8Array, len: number): void {
  try {
    expect(typeof decodeEvent(bytes, 0, len)).toBe('object')
  } catch (e) {
    expect(e).toBeInstanceOf(RingDecodeError)
  }
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

  it('round-trips full Unicode in values and keys, including astral characters and lone surrogates, as JSON does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', maxLength: 30 }), (s, k) => {
        expect(roundTrip({ s, [k]: s.slice(0, 10) })).toStrictEqual(JSON.parse(JSON.stringify({ s, [k]: s.slice(0, 10) })))
      }),
    )
    expect(roundTrip({ lone: '\ud800', pair: '\ud83d\ude00', low: 'a\udc00b', ['\udfff']: 1 })).toStrictEqual({ lone: '\ud800', pair: '😀', low: 'a\udc00b', ['\udfff']: 1 })
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
    expect(encodeEvent({ v: [Object(1n)] }, buf, 0, 100)).toBe(ENC_NOT_SERIALIZABLE)
    expect(encodeEvent('str', buf, 0, 100)).toBe(ENC_INVALID_EVENT)
    // The event is what toJSON makes of it, and that must be an object too.
    expect(encodeEvent(new Date(0), buf, 0, 100)).toBe(ENC_INVALID_EVENT)
    expect(encodeEvent({ toJSON: () => [1] }, buf, 0, 100)).toBe(ENC_INVALID_EVENT)
    expect(encodeEvent({ toJSON: () => undefined }, buf, 0, 100)).toBe(ENC_INVALID_EVENT)
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

// ---- JSON semantics: the decoded event is exactly what JSON.parse(JSON.stringify(event)) gives --

class Traced {
  constructor(readonly inner: unknown) {}
  toJSON(key: string) {
    return { key, inner: this.inner }
  }
}
class Plain {
  constructor(readonly a: unknown, readonly b: unknown) {}
}

/** Values JSON.stringify accepts, with everything it treats specially. */
const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.double(), // NaN, Infinity, -0 among them
    fc.integer(),
    fc.boolean(),
    fc.constantFrom(null, undefined, Symbol('s'), () => 1),
    fc.date({ noInvalidDate: false }),
    fc.oneof(fc.double().map((x) => Object(x) as unknown), fc.string({ maxLength: 5 }).map((x) => Object(x) as unknown), fc.boolean().map((x) => Object(x) as unknown)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.sparseArray(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 3, noNullPrototype: false }),
    tie('value').map((v) => new Traced(v)),
    tie('value').map((v) => ({ own: 'ignored', toJSON: (key: string) => [key, v] })), // a plain object's own toJSON
    tie('value').map((v) => new Plain(v, undefined)),
    fc.constant({ toJSON: () => undefined }),
    fc.constant({ toJSON: () => () => 1 }),
    tie('value').map((v) => new Map([['k', v]])),
  ),
})).value

describe('encodeEvent / decodeEvent (JSON semantics)', () => {
  it('decodes every JSON-compatible event to what JSON.parse(JSON.stringify(event)) gives', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), jsonish, { maxKeys: 6 }), (event) => {
        expect(roundTrip(event)).toStrictEqual(JSON.parse(JSON.stringify(event)))
      }),
      { numRuns: 1000 },
    )
  })

  it('calls toJSON with the key: the member name, the array index as a string, and "" for the event itself', () => {
    const keyOf = { toJSON: (key: string) => key }
    const event = { type: 'k', member: keyOf, list: [keyOf, keyOf], toJSON(key: string) { return { ...this, rootKey: key, toJSON: undefined } } }
    expect(roundTrip(event)).toStrictEqual({ type: 'k', member: 'member', list: ['0', '1'], rootKey: '' })
    expect(roundTrip(event)).toStrictEqual(JSON.parse(JSON.stringify(event)))
  })

  it('does not call toJSON again on what toJSON returned, as JSON does not', () => {
    const event = { a: { toJSON: () => ({ toJSON: () => 'again', b: 1 }) } }
    expect(roundTrip(event)).toStrictEqual({ a: { b: 1 } })
  })

  it('skips undefined, function and symbol members and writes null for them in arrays', () => {
    const event = { u: undefined, f: () => 1, s: Symbol('x'), keep: 1, list: [undefined, () => 1, Symbol('y'), 2] }
    expect(roundTrip(event)).toStrictEqual({ keep: 1, list: [null, null, null, 2] })
  })

  it('writes holes of sparse arrays and non-finite numbers as null, and unboxes Number, String and Boolean objects', () => {
    // eslint-disable-next-line no-sparse-arrays
    const event = { sparse: [1, , 3, ,], n: [NaN, Infinity, -Infinity, -0], boxed: [Object(2.5), Object('s'), Object(false)] }
    expect(roundTrip(event)).toStrictEqual({ sparse: [1, null, 3, null], n: [null, null, null, 0], boxed: [2.5, 's', false] })
  })

  it('uses a toJSON that the application gave BigInt, as JSON.stringify does', () => {
    const proto = BigInt.prototype as unknown as { toJSON?: () => string }
    proto.toJSON = function (this: bigint) {
      return this.toString()
    }
    try {
      expect(roundTrip({ v: 10n ** 20n })).toStrictEqual({ v: '100000000000000000000' })
    } finally {
      delete proto.toJSON
    }
  })
})

// ---- records: key lists met more than once are written and read by generated shape code --------

describe('encodeEvent / decodeEvent (repeated shapes)', () => {
  const twice = (event: unknown): unknown[] => [roundTrip(event), roundTrip(event), roundTrip(event)]

  it('decodes events of one key list with every kind of member value to what JSON gives, however often the list repeats', () => {
    const keys = ['type', 'pid', 'module', 'n', 'nested']
    fc.assert(
      fc.property(fc.array(fc.tuple(jsonish, jsonish, jsonish, jsonish, jsonish), { minLength: 1, maxLength: 6 }), (rows) => {
        for (const row of rows) {
          const event = Object.fromEntries(keys.map((k, i) => [k, row[i]]))
          const want = JSON.parse(JSON.stringify(event))
          for (const got of twice(event)) expect(got).toStrictEqual(want)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('writes a repeated shape as a record, and reuses member strings only when they are equal', () => {
    const len = (e: unknown) => encodeEvent(e, buf, 0, buf.length)
    // A site that met many one-off key lists (earlier tests) looks again after at most 4096 objects.
    buf[0] = 0
    for (let k = 0; k < 5000 && buf[0] !== 10; k++) len({ type: 'call', module: 'Shop.Cart', data: { k: 'v' } })
    expect(buf[0]).toBe(10) // T_REC
    const events = [
      { type: 'call', module: 'Shop.Cart', data: { k: 'v' } },
      { type: 'return', module: 'Shop.Cart', data: { k: 'w' } },
      { type: 'call', module: 'Shop.Cartx', data: { k: '\ud800' } },
      { type: 'call', module: 'Shop.Cart', data: { k: 'é€😀' } },
      { type: 'call', module: undefined, data: { k: 1 } },
      { type: 'call', module: () => 1, data: { toJSON: () => undefined } },
    ]
    for (let round = 0; round < 3; round++) for (const e of events) expect(roundTrip(e)).toStrictEqual(JSON.parse(JSON.stringify(e)))
  })

  it('reads each member once, in order, and calls toJSON with its key, as JSON does', () => {
    const reads: string[] = []
    const make = () => ({
      get a() {
        reads.push('a')
        return 1
      },
      b: { toJSON: (key: string) => (reads.push(`b:${key}`), key) },
      get c() {
        reads.push('c')
        return undefined
      },
    })
    for (let k = 0; k < 3; k++) {
      reads.length = 0
      expect(roundTrip(make())).toStrictEqual({ a: 1, b: 'b' })
      expect(reads).toEqual(['a', 'b:b', 'c'])
    }
  })

  it('does not take a boxed primitive or an object with an inherited enumerable key for a plain object of the same keys', () => {
    for (let k = 0; k < 3; k++) roundTrip({ x: { '0': 'a', length: 1 }, y: { z: 1 } })
    const s = Object.assign(Object('a'), { extra: 1 }) as object
    const proto = { inherited: 1 }
    const child = Object.assign(Object.create(proto) as object, { z: 2 })
    const event = { x: s, y: child }
    expect(roundTrip(event)).toStrictEqual(JSON.parse(JSON.stringify(event)))
  })

  it('stays within the byte budget: too_large exactly past the end of a repeated shape', () => {
    const e = { type: 'x', s: 'a'.repeat(20), t: 'b' }
    for (let k = 0; k < 3; k++) encodeEvent(e, buf, 0, buf.length)
    const len = encodeEvent(e, buf, 0, buf.length)
    expect(encodeEvent(e, buf, 0, len)).toBe(len)
    expect(encodeEvent(e, buf, 0, len - 1)).toBe(ENC_TOO_LARGE)
  })

  it('decodes a record whose key block is corrupted as malformed or as another valid event, never anything else', () => {
    const valid = new Uint8Array(256)
    let len = 0
    for (let k = 0; k < 3; k++) len = encodeEvent({ type: 'call', n: 7, s: 'é€' }, valid, 0, valid.length)
    for (let i = 0; i < len; i++) {
      const bytes = valid.slice(0, len)
      bytes[i] = (bytes[i] as number) ^ 0x5a
      expectEventOrDecodeError(bytes, len)
    }
    expect(decodeEvent(valid, 0, len)).toStrictEqual({ type: 'call', n: 7, s: 'é€' })
  })

  // Shape code handles object members inline (toJSON, plain objects by their own shapes, arrays,
  // boxed values, null prototypes) and the decoder's builders read int32 members in place and build
  // a member's record by the shape it had last time: the same member meets every kind of value.
  /** Encodes `event` until it is written as a record: a site that met many one-off key lists (earlier tests) looks again after at most 4096 objects. */
  const asRecord = (event: object): void => {
    buf[0] = 0
    for (let k = 0; k < 5000 && buf[0] !== 10; k++) encodeEvent(event, buf, 0, buf.length)
    expect(buf[0]).toBe(10) // T_REC
  }

  it('decodes a repeated shape whose members change kind from event to event (records, ints, strings, toJSON, arrays) to what JSON gives', () => {
    asRecord({ type: 'call', a: 1, data: { k: 'v', n: 2 }, flag: true })
    asRecord({ k: 'v', n: 2 })
    const member = fc.oneof(
      jsonish,
      fc.integer(),
      fc.constantFrom(-0, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 0.5, NaN, -Infinity),
      fc.string({ unit: 'binary', maxLength: 70 }), // past the strings a member remembers (64 bytes)
      fc.record({ k: jsonish, n: fc.integer() }), // a nested shape
      fc.record({ n: fc.integer(), k: jsonish }), // the same keys in another order: another shape
      fc.record({ k: jsonish }),
      fc.constant(Object.assign(Object.create(null) as object, { k: 1, n: 2 })),
      fc.constant([{ k: 1, n: 2 }, { k: 'v', n: 3 }]),
    )
    fc.assert(
      fc.property(fc.array(fc.tuple(member, member, fc.boolean()), { minLength: 1, maxLength: 12 }), (rows) => {
        for (const [a, data, flag] of rows) {
          const event = { type: 'call', a, data, flag }
          expect(roundTrip(event)).toStrictEqual(JSON.parse(JSON.stringify(event)))
        }
      }),
      { numRuns: 400 },
    )
  })

  it('refuses objects nested deeper than MAX_DEPTH through repeated shapes, as through the generic walk, and decodes the deepest it accepts', () => {
    const nest = (levels: number): Record<string, unknown> => {
      let o: Record<string, unknown> = { type: 'leaf', n: 1 }
      for (let k = 0; k < levels; k++) o = { type: 'node', o }
      return o
    }
    asRecord(nest(1))
    for (let round = 0; round < 3; round++) {
      const deepest = nest(MAX_DEPTH - 1) // the event and MAX_DEPTH - 1 objects inside it
      expect(roundTrip(deepest)).toStrictEqual(JSON.parse(JSON.stringify(deepest)))
      expect(encodeEvent(nest(MAX_DEPTH), buf, 0, buf.length)).toBe(ENC_NOT_SERIALIZABLE)
    }
  })

  it('decodes the last shape of a member only when the bytes are that shape: another record of the same key count, truncation and corruption are never taken for it', () => {
    // key lists no other test uses, so their shapes and sites start fresh
    const a = { lastKind: 'call', lastData: { p: 'v', q: 42 } }
    const b = { lastKind: 'call', lastData: { r: 'v', q: 42 } }
    asRecord(a)
    for (let k = 0; k < 8; k++) {
      expect(roundTrip(a)).toStrictEqual(a)
      expect(roundTrip(b)).toStrictEqual(b)
    }
    const len = encodeEvent(a, buf, 0, buf.length)
    const bytes = buf.slice(0, len)
    for (let cut = 0; cut < len; cut++) expect(() => decodeEvent(bytes, 0, cut)).toThrow(RingDecodeError)
    for (let i = 0; i < len; i++) {
      const bad = bytes.slice()
      bad[i] = (bad[i] as number) ^ 0x21
      expectEventOrDecodeError(bad, len)
      expect(decodeEvent(bytes, 0, len)).toStrictEqual(a)
    }
  })

  it('keeps generating shape code after records of no keys and of every other key list the tests met', () => {
    for (let k = 0; k < 5; k++) expect(roundTrip({ empty: {}, list: [{}, {}] })).toStrictEqual({ empty: {}, list: [{}, {}] })
    asRecord({})
    for (let k = 0; k < 3; k++) expect(roundTrip({})).toStrictEqual({})
    expect(encoderCodegen()).toBe(true)
    expect(decoderCodegen()).toBe(true)
  })
})
