// The load generator's thread: HTTP requests to the shop over keep-alive connections, at a steady
// rate (or as fast as `concurrency` connections allow when the rate is 0), with a mix that fails on
// purpose (a sold-out item, a declined card, an empty cart). Each request carries a traceparent.
// Live counts go through shared memory; latencies are reported once, at the end.
import { Agent, request } from 'node:http'
import { randomBytes } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { COUNTER, type LoadData, type LoadResult } from './load.js'
import { Pacer } from './pacer.js'

const { url, rate, concurrency, stop, counters } = workerData as LoadData
const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
const base = new URL(url)
const latencies: number[] = []
let seed = 0x2545f491
const rand = () => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 2 ** 32
}
const SKUS = ['tea', 'mug', 'kettle', 'biscuits']
const CARDS = ['4111111111111111', '4111111111111111', '4111111111111111', '4000000000000002']

function next(): { method: string; path: string; body?: object } {
  const r = rand()
  const cart = `c${Math.floor(rand() * 64)}`
  if (r < 0.15) return { method: 'GET', path: '/products' }
  if (r < 0.2) return { method: 'GET', path: `/carts/${cart}` }
  if (r < 0.27) return { method: 'POST', path: `/carts/${cart}/items`, body: { sku: 'umbrella', qty: 1 } }
  if (r < 0.75) return { method: 'POST', path: `/carts/${cart}/items`, body: { sku: SKUS[Math.floor(rand() * SKUS.length)], qty: 1 + Math.floor(rand() * 3) } }
  return { method: 'POST', path: `/carts/${cart}/checkout`, body: { card: CARDS[Math.floor(rand() * CARDS.length)], ...(rand() < 0.3 ? { code: 'TEA10' } : {}) } }
}

let inFlight = 0
function send(): Promise<void> {
  const { method, path, body } = next()
  const text = body === undefined ? undefined : JSON.stringify(body)
  const t0 = performance.now()
  inFlight++
  Atomics.add(counters, COUNTER.sent, 1)
  return new Promise((resolve) => {
    const done = (slot: number) => {
      latencies.push(performance.now() - t0)
      Atomics.add(counters, slot, 1)
      inFlight--
      resolve()
    }
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: {
          traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
          ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }),
        },
      },
      (res) => {
        res.resume()
        res.on('end', () => done(res.statusCode! < 400 ? COUNTER.ok : res.statusCode! < 500 ? COUNTER.refused : COUNTER.failed))
        res.on('error', () => done(COUNTER.failed))
      },
    )
    req.on('error', () => done(COUNTER.failed))
    req.end(text)
  })
}

const stopped = () => Atomics.load(stop, 0) !== 0
if (rate > 0) {
  const pacer = new Pacer(rate)
  while (!stopped()) {
    // Requests still waiting beyond the connections would only queue in the agent: the offered
    // rate stays steady and the backlog is bounded.
    for (let k = pacer.due(); k > 0; k--) if (inFlight < concurrency * 4) void send()
    await new Promise((r) => setTimeout(r, 2))
  }
} else {
  const loop = async () => {
    while (!stopped()) await send()
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
}
while (inFlight > 0) await new Promise((r) => setTimeout(r, 5))
agent.destroy()
const sorted = latencies.sort((a, b) => a - b)
const at = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!)
const result: LoadResult = { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) }
parentPort!.postMessage(result)
