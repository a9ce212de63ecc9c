import { createServer, get } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { SUMMARY_DEFAULTS, resolveOptions, summarizer, traceIdFromTraceparent, InstrumentOptionError } from '../src/index.js'

const s = summarizer(SUMMARY_DEFAULTS)

describe('summarizer', () => {
  it('redacts keys naming secrets (password, token, authorization, cookie) at any depth, ignoring case', () => {
    const out = s.args([{ user: 'ann', Password: 'hunter2', nested: { accessToken: 'abc', Authorization: 'Bearer x' }, headers: { cookie: 'sid=1' } }])
    expect(out).toEqual([{ user: 'ann', Password: '[redacted]', nested: { accessToken: '[redacted]', Authorization: '[redacted]' }, headers: { cookie: '[redacted]' } }])
  })

  it('redacts by a configured list instead of the default one', () => {
    const custom = summarizer({ ...SUMMARY_DEFAULTS, redact: ['ssn'] })
    expect(custom.value({ ssn: '123', password: 'p' })).toEqual({ ssn: '[redacted]', password: 'p' })
  })

  it("summarises a request handler's IncomingMessage and ServerResponse by method, URL and status, not their internals", async () => {
    const server = createServer((req, res) => {
      res.statusCode = 201
      seen = s.args([req, res])
      res.end()
    })
    let seen: unknown[] = []
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    await new Promise<void>((r) => get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/carts/7?x=1`, (res) => res.resume().on('end', r)))
    await new Promise((r) => server.close(r))
    expect(seen).toEqual([
      { $type: 'IncomingMessage', method: 'GET', url: '/carts/7?x=1' },
      { $type: 'ServerResponse', statusCode: 201 },
    ])
  })

  it('bounds depth, string length and items', () => {
    const v = s.value({ a: { b: { c: { d: 1 } } }, long: 'x'.repeat(500), list: Array.from({ length: 50 }, (_, i) => i) }) as Record<string, unknown>
    expect(v.a).toEqual({ b: '[Object]' })
    expect((v.long as string).length).toBe(121)
    expect(v.list).toHaveLength(11)
    expect((v.list as unknown[])[10]).toBe('… 40 more')
  })

  it('bounds the bytes of a whole summary', () => {
    const out = s.args(Array.from({ length: 10 }, () => 'y'.repeat(100)))
    expect(JSON.stringify(out).length).toBeLessThan(SUMMARY_DEFAULTS.maxBytes + 150)
    expect(out).toContain('[…]')
  })

  it('summarises values JSON cannot hold (bigint, symbol, function, undefined, cycles, Map, Set, Date, Error, buffers)', () => {
    const cyc: Record<string, unknown> = { n: 1 }
    cyc.self = cyc
    const out = s.args([10n, Symbol('k'), function named() {}, undefined, cyc, new Map([['a', 1]]), new Set([1]), new Date(0), new TypeError('t'), Buffer.from('abc'), NaN])
    expect(out).toEqual([
      '10n',
      'Symbol(k)',
      '[Function named]',
      '[undefined]',
      { n: 1, self: '[Circular]' },
      { $type: 'Map', size: 1, entries: [['a', 1]] },
      { $type: 'Set', size: 1, values: [1] },
      '1970-01-01T00:00:00.000Z',
      { name: 'TypeError', message: 't' },
      '[Buffer(3)]',
      'NaN',
    ])
    expect(() => JSON.stringify(out)).not.toThrow()
  })

  it('names class instances and does not run a getter that throws into the caller', () => {
    class Order {
      id = 7
      get bad() {
        return 1
      }
    }
    const o = Object.defineProperty(new Order(), 'boom', { enumerable: true, get() { throw new Error('x') } })
    expect(s.value(o)).toEqual({ $type: 'Order', id: 7, boom: '[getter threw]' })
  })
})

describe('resolveOptions', () => {
  it('names the option that is wrong', () => {
    for (const [patch, option] of [
      [{ sampleEvery: 0 }, 'sampleEvery'],
      [{ maxCallsPerSecond: -1 }, 'maxCallsPerSecond'],
      [{ summary: { maxDepth: 99 } }, 'summary.maxDepth'],
      [{ summary: { redact: [1] } }, 'summary.redact'],
      [{ bogus: 1 }, 'bogus'],
    ] as const) {
      try {
        resolveOptions(patch as never)
        expect.unreachable(option)
      } catch (e) {
        expect(e).toBeInstanceOf(InstrumentOptionError)
        expect((e as InstrumentOptionError).option).toBe(option)
      }
    }
  })
})

describe('traceIdFromTraceparent', () => {
  it('takes the trace id of a valid header and refuses malformed ones', () => {
    expect(traceIdFromTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(traceIdFromTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined()
    expect(traceIdFromTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeUndefined()
    expect(traceIdFromTraceparent('garbage')).toBeUndefined()
    expect(traceIdFromTraceparent(undefined)).toBeUndefined()
  })
})
