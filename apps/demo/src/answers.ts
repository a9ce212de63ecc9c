// The questions the demo asks its store at the end, about the shop it ran: the slowest endpoint
// (from the HTTP request events), one checkout's call tree (as `ringside trace` prints it), the
// exceptions thrown by function and message, and the busiest functions by AST node.
import type { Writable } from 'node:stream'
import { createStore, type EventStore } from '@ringside/storage'
import { printTrace } from './trace-cmd.js'

type Ev = Record<string, unknown>
const n = (x: number) => Math.round(x).toLocaleString('en-US')
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0

/** `/carts/c12/items` → `/carts/:id/items`: one endpoint whatever the cart. */
export function endpointOf(method: unknown, url: unknown): string {
  const path = String(url ?? '').split('?')[0]!.replace(/^\/carts\/[^/]+/, '/carts/:id')
  return `${String(method ?? '')} ${path}`
}

/** What the answers found, for the caller (and the tests). */
export interface Answers {
  readonly slowestEndpoint: string | undefined
  readonly tracedCorrelationId: string | undefined
  readonly exceptions: ReadonlyMap<string, number>
}

export async function printAnswers(out: Writable, dbPath: string): Promise<Answers> {
  const say = (s: string) => out.write(`${s}\n`)
  const store = await createStore({ kind: 'sqlite', path: dbPath, readOnly: true })
  try {
    const stats = await store.stats()
    say('')
    say(`Questions to ${dbPath} (${n(stats.totalEvents)} events, ${(stats.sizeBytes / 1e6).toFixed(1)} MB)`)
    const slowestEndpoint = await endpoints(store, say)
    const tracedCorrelationId = await oneCheckout(store, say, out)
    const exceptions = await thrown(store, say)
    await busiest(store, say)
    return { slowestEndpoint, tracedCorrelationId, exceptions }
  } finally {
    await store.close()
  }
}

async function endpoints(store: EventStore, say: (s: string) => void): Promise<string | undefined> {
  const by = new Map<string, { ms: number[]; statuses: Map<number, number> }>()
  for (const r of await store.query({ type: 'http_server_response' })) {
    const e = r.event
    if (typeof e.durationMs !== 'number') continue
    const key = endpointOf(e.method, e.url)
    const g = by.get(key) ?? { ms: [] as number[], statuses: new Map<number, number>() }
    g.ms.push(e.durationMs)
    g.statuses.set(Number(e.status), (g.statuses.get(Number(e.status)) ?? 0) + 1)
    by.set(key, g)
  }
  const rows = [...by].map(([key, g]) => {
    const ms = g.ms.sort((a, b) => a - b)
    return { key, count: ms.length, mean: ms.reduce((a, b) => a + b, 0) / ms.length, p99: pct(ms, 0.99), statuses: [...g.statuses].sort((a, b) => a[0] - b[0]).map(([s, c]) => `${s}×${n(c)}`).join(' ') }
  })
  rows.sort((a, b) => b.mean - a.mean)
  say('  endpoints by mean time in the server (http_server_response events):')
  say(`    ${'endpoint'.padEnd(28)} ${'requests'.padStart(8)} ${'mean ms'.padStart(8)} ${'p99 ms'.padStart(8)}  statuses`)
  for (const r of rows) say(`    ${r.key.padEnd(28)} ${n(r.count).padStart(8)} ${r.mean.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)}  ${r.statuses}`)
  if (rows[0]) say(`  slowest endpoint: ${rows[0].key}`)
  return rows[0]?.key
}

async function oneCheckout(store: EventStore, say: (s: string) => void, out: Writable): Promise<string | undefined> {
  // A checkout that was paid and got its receipt from the worker: the richest tree.
  const paid = (await store.query({ type: 'http_server_response', order: 'desc', limit: 2000 })).map((r) => r.event).find((e) => /\/checkout$/.test(String(e.url)) && e.status === 200)
  const corr = paid?.correlationId
  if (typeof corr !== 'string') {
    say('  no paid checkout was captured')
    return undefined
  }
  const events: Ev[] = (await store.query({ correlationId: corr, order: 'asc' })).map((r) => r.event)
  say(`  one paid checkout, as 'ringside trace <db> --correlation ${corr}' prints it:`)
  printTrace(corr, events, out, '    ')
  return corr
}

async function thrown(store: EventStore, say: (s: string) => void): Promise<Map<string, number>> {
  const by = new Map<string, number>()
  for (const r of await store.query({ type: 'exception' })) {
    const e = r.event
    const err = e.error as { name?: string; message?: string } | undefined
    const key = `${String(e.module)}.${String(e.function)}  ${String(err?.name)}: ${String(err?.message)}`
    by.set(key, (by.get(key) ?? 0) + 1)
  }
  say('  exceptions thrown, by function and message (a caller that lets one through is counted too):')
  if (by.size === 0) say('    none')
  for (const [key, count] of [...by].sort((a, b) => b[1] - a[1])) say(`    ${n(count).padStart(8)}  ${key}`)
  return by
}

async function busiest(store: EventStore, say: (s: string) => void): Promise<void> {
  const by = new Map<string, { fn: string; count: number }>()
  for (const r of await store.query({ type: 'call' })) {
    const e = r.event
    const id = String(e.astNodeId)
    const g = by.get(id) ?? { fn: `${String(e.module)}.${String(e.function)}/${String(e.arity)}`, count: 0 }
    g.count++
    by.set(id, g)
  }
  say('  busiest AST nodes (calls):')
  for (const [id, g] of [...by].sort((a, b) => b[1].count - a[1].count).slice(0, 6)) say(`    ${id.padEnd(34)} ${n(g.count).padStart(8)}  ${g.fn}`)
}
