// Instrumentation benchmark: the price of one traced synchronous call (its call and return events
// written to a real ring) against the same call untraced, in the same run, for trace() and for the
// load hook's rewrite; plus the paths that skip writing (sampled out, rate capped, a full ring).
// Usage: npx tsx bench/instrument.ts [--reps N] [--batch N]   (prints a Markdown report)
import dc from 'node:diagnostics_channel'
import { cpus } from 'node:os'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { instrument, instrumentSource, resetInstrumentStats, trace, watchHttp } from '@ringside/instrument'

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? dflt : Number(process.argv[i + 1])
}
// Short timed batches, many of them: on a shared machine a long batch is often descheduled midway,
// which inflates the slower contenders most; the median of short batches is robust to that.
const REPS = arg('reps', 400)
const BATCH = arg('batch', 200)

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const fmt = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1))
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!

// The ring is drained (claimed and committed, untimed) after every batch, so each timed batch
// writes into free slots, as with a pipeline that keeps up.
const ring = RingBuffer.create({ size: 1 << 16, maxEventBytes: 512 })
const consumer = ring.consumer(0)
const drain = () => {
  for (let c = consumer.claim(100_000); c; c = consumer.claim(100_000)) consumer.commit(c)
}
instrument({ ring, sampleEvery: 1, maxCallsPerSecond: 0 })

let sink = 0
const plain = (sku: string, qty: number) => sku.length * qty
const traced = trace(plain, { module: 'Bench.Cart', name: 'price' })
const rewritten = (() => {
  const t = instrumentSource({ source: 'exports.price = function price(sku, qty) { return sku.length * qty }', module: 'bench/cart.cjs', file: '/bench/cart.cjs', format: 'commonjs' })
  if (!t.ok) throw new Error(`rewrite failed: ${t.reason}`)
  const m = { exports: {} as { price: typeof plain } }
  new Function('module', 'exports', t.code)(m, m.exports)
  return m.exports.price
})()

/** Nanoseconds per call of REPS timed batches (after 20 warm-up batches). */
function perCall(fn: typeof plain, after: () => void = drain): number[] {
  const out: number[] = []
  for (let r = 0; r < REPS + 20; r++) {
    const t0 = process.hrtime.bigint()
    for (let k = 0; k < BATCH; k++) sink += fn('tea', k & 7)
    const ns = Number(process.hrtime.bigint() - t0) / BATCH
    after()
    if (r >= 20) out.push(ns)
  }
  return out
}

type Row = [string, number[]]
const rows: Row[] = []
// Reference: two ring writes of events the size of a traced call's, without any capture logic.
const callEvent = { type: 'call', pid: '<1.0>', module: 'Bench.Cart', function: 'price', arity: 2, callId: 1, parentId: 0, correlationId: '1.0.1', args: ['tea', 3] }
const retEvent = { type: 'return', pid: '<1.0>', module: 'Bench.Cart', function: 'price', arity: 2, callId: 1, correlationId: '1.0.1', durationMs: 0.001, result: 9 }
const REFERENCE = '(reference) two ring.write of the same events, no capture'
// Interleave the contenders round by round (the reference too: the traced call less the two
// writes is the capture logic's own price), so machine noise falls on all of them alike.
const contenders: [string, () => number[]][] = [
  ['untraced call', () => perCall(plain)],
  ['trace() wrapper, call + return written', () => perCall(traced)],
  ['load-hook rewrite, call + return written', () => perCall(rewritten)],
  [REFERENCE, () => perCall((s, q) => (ring.write(callEvent), ring.write(retEvent), s.length * q))],
]
const ROUNDS = 3
const acc = new Map<string, number[]>()
for (let round = 0; round < ROUNDS; round++) for (const [name, run] of contenders) acc.set(name, [...(acc.get(name) ?? []), ...run()])
for (const [name] of contenders) rows.push([name, acc.get(name)!])

instrument({ sampleEvery: 100 })
rows.push(['trace() wrapper, sampled out (sampleEvery 100)', perCall(traced)])
instrument({ sampleEvery: 1, maxCallsPerSecond: 1 })
rows.push(['trace() wrapper, over the rate cap', perCall(traced)])
instrument({ maxCallsPerSecond: 0 })

// The HTTP watcher's price per request on the application's thread: Node's two messages of a
// request (start, finish) published as Node publishes them, with a traceparent, both events
// written. Each "call" of perCall is one request. Node's own price for publishing to a channel
// nobody watches is the untraced row's; AsyncLocalStorage's price for the rest of the request (its
// async hooks) is not in here: bench/shop.mjs --configs none,context measures it.
const requestStart = dc.channel('http.server.request.start')
const responseFinish = dc.channel('http.server.response.finish')
const requests = Array.from({ length: 8 }, (_, i) => ({
  request: { method: 'POST', url: `/carts/c${i}/items`, headers: { traceparent: `00-${(0x4bf92f35 + i).toString(16).padStart(32, '0')}-00f067aa0ba902b7-01` } },
  response: { statusCode: 200 },
  server: {},
}))
const unwatch = watchHttp()
rows.push([
  'HTTP watcher, one request: request and response events written',
  perCall((_s, k) => {
    const m = requests[k]!
    if (requestStart.hasSubscribers) requestStart.publish(m)
    if (responseFinish.hasSubscribers) responseFinish.publish(m)
    return 0
  }),
])
unwatch()
const full = RingBuffer.create({ size: 16, maxEventBytes: 512 })
instrument({ ring: full })
for (let i = 0; i < 16; i++) full.write({ type: 'filler' })
resetInstrumentStats()
rows.push(['trace() wrapper, ring full (both events refused, counted)', perCall(traced, () => {})])

const base = median(rows[0]![1])
const lines = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
  `Command: \`npx tsx bench/instrument.ts --reps ${REPS} --batch ${BATCH}\`; the function is \`(sku, qty) => sku.length * qty\` called as \`f('tea', k & 7)\`;`,
  `the ring (65,536 × 512 B) is drained untimed after each batch of ${BATCH.toLocaleString('en-US')} calls.`,
  '',
  `| price per synchronous call | median ns | added to the untraced call | p10 – p90 ns (${REPS * ROUNDS} batches for the first four rows, ${REPS} for the others) |`,
  '|---|---:|---:|---:|',
  ...rows.map(([name, xs]) => `| ${name} | ${fmt(median(xs))} | ${name === 'untraced call' ? '–' : `+${fmt(median(xs) - base)}`} | ${fmt(pct(xs, 0.1))} – ${fmt(pct(xs, 0.9))} |`),
]
const med = (name: string) => median(rows.find(([n]) => n === name)![1])
lines.push(
  '',
  `Capture logic beyond the two writes (median of the traced call less the reference's): trace() ${fmt(med('trace() wrapper, call + return written') - med(REFERENCE))} ns, load-hook rewrite ${fmt(med('load-hook rewrite, call + return written') - med(REFERENCE))} ns.`,
)
console.log(lines.join('\n'))
if (sink === 42) console.log('') // keeps the calls from being optimised away
