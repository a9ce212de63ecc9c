import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore } from '@ringside/storage'
import { runCli } from '../src/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-trace-cmd-'))
const db = join(dir, 'trace.db')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function cli(...argv: string[]) {
  const out = new PassThrough()
  const err = new PassThrough()
  let o = ''
  let e = ''
  out.on('data', (c: Buffer) => (o += c.toString()))
  err.on('data', (c: Buffer) => (e += c.toString()))
  const code = await runCli(argv, out, err)
  return { code, out: o, err: e }
}

// Events shaped as @ringside/instrument writes them: one request with a call tree, an exception,
// and a second request.
const P = '<77.0>'
const base = { pid: P, module: 'Shop.Cart' }
const events: Record<string, unknown>[] = [
  { type: 'http_server_request', pid: P, correlationId: 'req-1', method: 'GET', url: '/checkout' },
  { ...base, type: 'call', function: 'checkout', arity: 1, callId: 1, parentId: 0, correlationId: 'req-1', args: [3] },
  { ...base, type: 'call', function: 'price', arity: 1, callId: 2, parentId: 1, correlationId: 'req-1', args: ['tea'] },
  { ...base, type: 'return', function: 'price', arity: 1, callId: 2, correlationId: 'req-1', durationMs: 1.5, result: 300 },
  { ...base, type: 'call', function: 'reserve', arity: 2, callId: 3, parentId: 1, correlationId: 'req-1', args: ['tea', 3] },
  { ...base, type: 'exception', function: 'reserve', arity: 2, callId: 3, correlationId: 'req-1', durationMs: 0.25, error: { name: 'RangeError', message: 'out of stock' } },
  { ...base, type: 'return', function: 'checkout', arity: 1, callId: 1, correlationId: 'req-1', durationMs: 40, result: null },
  { type: 'http_server_response', pid: P, correlationId: 'req-1', method: 'GET', url: '/checkout', status: 500, durationMs: 41 },
  { ...base, type: 'call', function: 'price', arity: 1, callId: 4, parentId: 0, correlationId: 'req-2', args: ['coffee'] },
  { ...base, type: 'return', function: 'price', arity: 1, callId: 4, correlationId: 'req-2', durationMs: 9.5, result: 600 },
]

beforeAll(async () => {
  const store = await createStore({ kind: 'sqlite', path: db })
  const ringId = 'a'.repeat(32)
  await store.storeEvents(events.map((event, seq) => ({ key: `${ringId}:${seq}`, ringId, seq, capturedAt: 1_000 + seq, event })))
  await store.close()
})

describe('ringside trace', () => {
  it('prints the call tree of one correlation id, indented, with durations and exceptions marked', async () => {
    const r = await cli('trace', db, '--correlation', 'req-1')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const lines = r.out.trimEnd().split('\n')
    expect(lines).toEqual([
      'correlation req-1: 8 events, 3 calls, 1 exception',
      '-> http_server_request GET /checkout',
      'Shop.Cart.checkout/1 (3)  40.00 ms -> null',
      '  Shop.Cart.price/1 ("tea")  1.50 ms -> 300',
      '  Shop.Cart.reserve/2 ("tea", 3)  0.25 ms !! RangeError: out of stock',
      '<- http_server_response GET /checkout 500  41.00 ms',
    ])
  })

  it('says so when no event has the correlation id', async () => {
    const r = await cli('trace', db, '--correlation', 'nope')
    expect(r.code).toBe(1)
    expect(r.err).toContain("no events with correlation id 'nope'")
  })

  it('refuses a missing --correlation with exit code 2', async () => {
    const r = await cli('trace', db)
    expect(r.code).toBe(2)
    expect(r.err).toContain('--correlation')
  })
})

describe('ringside slowest', () => {
  it('lists functions by their slowest call, with counts, mean and exceptions', async () => {
    const r = await cli('slowest', db)
    expect(r.code).toBe(0)
    const lines = r.out.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^function\s+calls\s+mean ms\s+p95 ms\s+max ms\s+exceptions$/)
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['Shop.Cart.checkout/1', '1'],
      ['Shop.Cart.price/1', '2'],
      ['Shop.Cart.reserve/2', '1'],
    ])
    expect(lines[2]).toMatch(/5\.50\s+9\.50\s+9\.50\s+0$/)
    expect(lines[3]).toMatch(/1$/)
  })

  it('keeps to --limit and answers --json', async () => {
    const r = await cli('slowest', db, '--limit', '1', '--json')
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l))
    expect(rows).toEqual([{ function: 'Shop.Cart.checkout/1', calls: 1, meanMs: 40, p95Ms: 40, maxMs: 40, exceptions: 0 }])
  })
})
