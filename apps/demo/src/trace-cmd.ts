// `ringside trace` (the call tree of one request or unit of work) and `ringside slowest` (functions
// by their slowest call), read from a store that @ringside/instrument wrote into. Bad flags print a
// clear message and exit 2; nothing found exits 1.

import type { Writable } from 'node:stream'
import { callTree, type TraceEvent, type TraceItem } from '@ringside/pipeline-manager'
import { createStore, type EventRecord, type QueryFilter } from '@ringside/storage'
import { UsageError, integerFlag, storeFile, timeFlag, type CliCommand } from 'ringside/cli'

export const TRACE_HELP = `Usage: ringside trace <db> --correlation <id>

  Prints the call tree of one request (or unit of work) captured by @ringside/instrument: each call
  indented under its caller, with its arguments, duration and result; exceptions marked with !!;
  HTTP requests and other events in capture order.

  --correlation <id>      the correlation id (an incoming traceparent's trace id, or the id
                          withCorrelation() was given); see 'ringside query --type http_server_request'
  -h, --help              this help`

export const SLOWEST_HELP = `Usage: ringside slowest <db> [--limit n] [--module m] [--since time] [--json]

  Lists functions by their slowest recorded call: calls, mean, p95 and max duration, exceptions.

  --limit <n>             at most n functions (default 20)
  --module <m>            functions of one module only
  --since <time>          calls captured from (ISO date or ms since the epoch)
  --json                  one JSON object per line
  -h, --help              this help`


type Ev = TraceEvent
type Item = TraceItem

const fmtMs = (v: unknown) => (typeof v === 'number' ? `${v.toFixed(2)} ms` : '')
const short = (v: unknown, max = 60) => {
  // '[undefined]' is how the instrument's summaries spell undefined (JSON has no such value).
  const s = v === '[undefined]' ? 'undefined' : (JSON.stringify(v) ?? 'undefined')
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}
const mfa = (e: Ev) => `${String(e.module ?? '')}.${String(e.function ?? '')}${e.arity === undefined ? '' : `/${String(e.arity)}`}`

function describeEvent(e: Ev): string {
  const where = e.url ?? (e.host !== undefined ? `${String(e.host)}${String(e.path ?? '')}` : e.path)
  const err = e.error as { name?: string; message?: string } | undefined
  switch (e.type) {
    case 'http_server_request':
    case 'http_client_request':
      return `-> ${e.type} ${String(e.method ?? '')} ${String(where ?? '')}`
    case 'http_server_response':
    case 'http_client_response':
      return `<- ${e.type} ${String(e.method ?? '')} ${String(where ?? '')} ${String(e.status ?? '')}  ${fmtMs(e.durationMs)}`
    case 'message':
      return `.. message ${String(e.direction ?? '')} ${String(e.from ?? '')} -> ${String(e.to ?? '')}`
    default:
      return `.. ${String(e.type)}${err ? ` !! ${String(err.name)}: ${String(err.message)}` : ''}`
  }
}

function printTree(items: Item[], depth: number, out: Writable, indent = ''): void {
  for (const item of items) {
    const pad = indent + '  '.repeat(depth)
    if ('event' in item) {
      out.write(`${pad}${describeEvent(item.event)}\n`)
      continue
    }
    const { call, outcome, children } = item.node
    const args = Array.isArray(call.args) ? call.args.map((a) => short(a, 30)).join(', ') : short(call.args, 30)
    let tail = '  ... (no return recorded)'
    if (outcome?.type === 'return') tail = `  ${fmtMs(outcome.durationMs)} -> ${short(outcome.result)}`
    else if (outcome?.type === 'exception') {
      const err = outcome.error as { name?: string; message?: string } | undefined
      tail = `  ${fmtMs(outcome.durationMs)} !! ${String(err?.name)}: ${String(err?.message)}`
    }
    out.write(`${pad}${mfa(call)} (${args})${tail}\n`)
    printTree(children, depth + 1, out, indent)
  }
}

/** Prints one correlation id's events as `ringside trace` does: a summary line, then the call tree. */
export function printTrace(correlation: string, events: readonly Ev[], out: Writable, indent = ''): void {
  const calls = events.filter((e) => e.type === 'call').length
  const exceptions = events.filter((e) => e.type === 'exception').length
  out.write(`${indent}correlation ${correlation}: ${events.length} events, ${calls} call${calls === 1 ? '' : 's'}, ${exceptions} exception${exceptions === 1 ? '' : 's'}\n`)
  printTree(callTree(events), 0, out, indent)
}

async function query(db: string, filter: QueryFilter): Promise<EventRecord[]> {
  const store = await createStore({ kind: 'sqlite', path: db, readOnly: true })
  try {
    return await store.query(filter)
  } finally {
    await store.close()
  }
}

/** `ringside trace <db> --correlation <id>`. */
export const traceCommand: CliCommand = {
  name: 'trace',
  summary: 'trace <db>      the call tree of one request captured by @ringside/instrument (--correlation <id>)',
  help: TRACE_HELP,
  flags: { correlation: { type: 'string' } },
  positionals: 1,
  async run({ values, positionals }, io) {
    const db = storeFile('trace', positionals, io.cwd ?? process.cwd())
    const correlation = values.correlation
    if (typeof correlation !== 'string' || correlation === '') throw new UsageError('trace', '--correlation <id> is required.')
    const events = (await query(db, { correlationId: correlation, order: 'asc' })).map((r) => r.event)
    if (events.length === 0) {
      io.err.write(`ringside trace: no events with correlation id '${correlation}' in ${db}\n`)
      return 1
    }
    printTrace(correlation, events, io.out)
    return 0
  },
}

interface Row {
  function: string
  calls: number
  meanMs: number
  p95Ms: number
  maxMs: number
  exceptions: number
}

/** `ringside slowest <db>`. */
export const slowestCommand: CliCommand = {
  name: 'slowest',
  summary: 'slowest <db>    functions by their slowest captured call',
  help: SLOWEST_HELP,
  flags: { limit: { type: 'string' }, module: { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' } },
  positionals: 1,
  run: ({ values, positionals }, io) => slowest(storeFile('slowest', positionals, io.cwd ?? process.cwd()), values, io.out),
}

async function slowest(db: string, values: Readonly<Record<string, string | boolean | undefined>>, out: Writable): Promise<number> {
  const limit = values.limit === undefined ? 20 : integerFlag('slowest', 'limit', values.limit, 1, 1_000_000)
  const base: { -readonly [K in keyof QueryFilter]: QueryFilter[K] } = {}
  if (typeof values.module === 'string') base.module = values.module
  if (typeof values.since === 'string') base.since = timeFlag('slowest', 'since', values.since)
  const groups = new Map<string, { durations: number[]; exceptions: number }>()
  for (const type of ['return', 'exception'] as const) {
    for (const r of await query(db, { ...base, type })) {
      const e = r.event
      if (typeof e.durationMs !== 'number') continue
      const g = groups.get(mfa(e)) ?? { durations: [], exceptions: 0 }
      g.durations.push(e.durationMs)
      if (type === 'exception') g.exceptions++
      groups.set(mfa(e), g)
    }
  }
  const rows: Row[] = [...groups].map(([fn, g]) => {
    const d = g.durations.sort((a, b) => a - b)
    return { function: fn, calls: d.length, meanMs: d.reduce((s, x) => s + x, 0) / d.length, p95Ms: d[Math.ceil(0.95 * d.length) - 1]!, maxMs: d[d.length - 1]!, exceptions: g.exceptions }
  })
  rows.sort((a, b) => b.maxMs - a.maxMs)
  const shown = rows.slice(0, limit)
  if (values.json) {
    for (const r of shown) out.write(`${JSON.stringify(r)}\n`)
    return 0
  }
  const w = Math.max(8, ...shown.map((r) => r.function.length))
  out.write(`${'function'.padEnd(w)}  ${'calls'.padStart(7)}  ${'mean ms'.padStart(9)}  ${'p95 ms'.padStart(9)}  ${'max ms'.padStart(9)}  exceptions\n`)
  for (const r of shown) {
    out.write(`${r.function.padEnd(w)}  ${String(r.calls).padStart(7)}  ${r.meanMs.toFixed(2).padStart(9)}  ${r.p95Ms.toFixed(2).padStart(9)}  ${r.maxMs.toFixed(2).padStart(9)}  ${String(r.exceptions).padStart(10)}\n`)
  }
  return 0
}
export { callTree } from '@ringside/pipeline-manager'
