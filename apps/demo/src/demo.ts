// The demo: a small HTTP shop (apps/demo/shop, plain JavaScript with no Ringside code) runs in this
// process, instrumented by the load hooks into a PipelineManager that writes to SQLite, while a
// load generator on its own thread sends it requests at a steady rate over keep-alive, some failing
// on purpose. Midway it kills a writer and scales the pool up and down; at the end it stops the
// pipeline, prints the accounting report and answers questions from the store. SIGINT/SIGTERM stop
// it gracefully. The pipeline's HTTP server runs meanwhile, and the demo prints its dashboard's address.

import type { Writable } from 'node:stream'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineError, PipelineManager, type AccountingReport, type PipelineOptions } from '@ringside/pipeline-manager'
import { prepareNewStore } from './db-path.js'
import { printAnswers, type Answers } from './answers.js'
import { startLoad, type LoadCounts, type LoadResult } from './load.js'
import { Progress } from './progress.js'
import { hostShop } from './shop-host.js'

export interface DemoOptions {
  /** HTTP requests per second sent to the shop. Defaults to 300. */
  rate: number
  /** Seconds of traffic. Defaults to 20. */
  durationSec: number
  /** Writers at start. Defaults to 2. */
  poolSize: number
  /** SQLite file. Defaults to ./ringside-events.db. It must not exist, or be a Ringside store and `fresh` be set. */
  dbPath: string
  /** Replace a Ringside store already at `dbPath` (never anything else). Defaults to false. */
  fresh?: boolean
  /** Kill a writer and scale the pool midway. Defaults to true. */
  drills: boolean
  /** Port of the dashboard and the other HTTP endpoints; 0 takes any free port, and so does a taken one. Defaults to 7777. */
  httpPort?: number
  out: Writable & { isTTY?: boolean; columns?: number }
  /** Stops the demo early (SIGINT / SIGTERM in the CLI). */
  signal?: AbortSignal
}

export const DEMO_DEFAULTS = { rate: 300, durationSec: 20, poolSize: 2, dbPath: './ringside-events.db', drills: true, httpPort: 7777 } as const

const n = (x: number) => Math.round(x).toLocaleString('en-US')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface DemoResult {
  readonly report: AccountingReport
  readonly interrupted: boolean
  /** The requests the load generator sent and how they were answered, with client-side latencies. */
  readonly load: LoadResult & LoadCounts
  readonly answers: Answers
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const say = (s: string) => o.out.write(`${s}\n`)
  await prepareNewStore(o.dbPath, o.fresh ?? false)
  const ring = RingBuffer.create({ size: 1 << 16, maxEventBytes: 1024, overflowStrategy: 'drop_newest' })
  say(`Ringside demo: a shop on node:http, instrumented with no change to its code, ${n(o.rate)} requests/s for ${o.durationSec} s, into ${o.dbPath}`)
  const pipeline = await startPipeline(
    { ring, store: { kind: 'sqlite', path: o.dbPath }, poolSize: o.poolSize, maxRestarts: 10, maxSeconds: 10 },
    o.httpPort ?? DEMO_DEFAULTS.httpPort,
    say,
  )
  say(`dashboard: ${pipeline.httpAddress?.url ?? '(none)'} (live while the demo runs; also /metrics, /stats, /readyz)`)
  const progress = new Progress(o.out)
  const killedAt = new Map<number, number>()
  pipeline.on('writer_exited', (e) => {
    if (e.reason === 'crash') progress.notice(`  ✗ ${e.id} crashed (exit code ${e.code})${killedAt.has(e.slot) ? ' — killed by the demo' : ''}`)
  })
  pipeline.on('writer_restarted', (e) => {
    const t = killedAt.get(e.slot)
    progress.notice(`  ✓ supervisor restarted ${e.id}${t === undefined ? '' : `: ready ${Math.round(performance.now() - t)} ms after the kill`}`)
    killedAt.delete(e.slot)
  })
  pipeline.on('claims_handed_over', (e) =>
    progress.notice(
      e.from === e.to
        ? `  ↪ the new writer-${e.to + 1} takes over ${n(e.events)} events its predecessor had claimed and not committed`
        : `  ↪ ${n(e.events)} claimed events handed from writer-${e.from + 1} to writer-${e.to + 1}`,
    ),
  )
  pipeline.on('pool_scaled', (e) => progress.notice(`  ⇅ pool scaled from ${e.from} to ${e.to} writers`))
  say(`pipeline started: ${pipeline.getState().members.length} writers (threads ${pipeline.getState().members.map((m) => m.threadId).join(', ')})`)

  const shop = await hostShop(ring, 'all')
  say(`shop: ${shop.url} (apps/demo/shop; every function of its files traced, HTTP requests and worker messages captured)`)
  const load = startLoad(shop.url, o.rate)
  let interrupted = false
  const drills: [number, () => Promise<void>][] = o.drills
    ? [
        [0.3, async () => {
          progress.notice(`  ⚡ killing writer-1 (worker.terminate) while requests flow`)
          killedAt.set(0, performance.now())
          // The drill is over once the supervisor has restarted the writer, however long that takes here.
          const restarted = new Promise<void>((resolve) => pipeline.once('writer_restarted', () => resolve()))
          await pipeline.killWriter(0)
          await restarted
        }],
        [0.5, () => pipeline.scalePool(o.poolSize + 2)],
        [0.7, () => pipeline.scalePool(o.poolSize)],
      ]
    : []
  /** Drills under way: the demo waits for them before it stops, so a slow machine still shows each one's outcome. */
  const running: Promise<void>[] = []
  const t0 = performance.now()
  let lastDraw = 0
  let lastAnswered = 0
  let lastAt = t0
  let perSec = 0
  while (true) {
    const elapsed = (performance.now() - t0) / 1000
    if (elapsed >= o.durationSec) break
    if (o.signal?.aborted) {
      interrupted = true
      progress.notice('  interrupted: stopping gracefully (drain, report)')
      break
    }
    const next = drills[0]
    if (next && elapsed >= next[0] * o.durationSec) {
      drills.shift()
      running.push(next[1]().catch((err: Error) => progress.notice(`  drill failed: ${err.message}`)))
    }
    if (performance.now() - lastDraw > 250) {
      lastDraw = performance.now()
      const c = load.counts()
      const answered = c.ok + c.refused + c.failed
      if (lastDraw - lastAt >= 1000) {
        perSec = ((answered - lastAnswered) * 1000) / (lastDraw - lastAt)
        lastAnswered = answered
        lastAt = lastDraw
      }
      const m = pipeline.getMetrics()
      progress.update({
        elapsedSec: elapsed,
        durationSec: o.durationSec,
        offeredPerSec: m.rates.offeredPerSec,
        storedPerSec: m.rates.storedPerSec,
        ringFill: m.ring.utilization,
        writersAlive: m.healthyWorkers,
        writersTarget: pipeline.getState().config.poolSize,
        restarts: pipeline.getState().restarts.total,
        p99Ms: m.latency.captureToCommitMs.p99,
        recent: { p99Ms: m.latency.recent.captureToCommitMs.p99, windowSeconds: m.latency.recent.windowSeconds },
        requests: { perSec, refused: c.refused, failed: c.failed },
      })
    }
    await sleep(20)
  }
  if (!interrupted && running.length > 0) {
    // Requests keep flowing meanwhile; on a busy machine a restart may outlast a short demo.
    let timer: NodeJS.Timeout | undefined
    const settled = await Promise.race([Promise.all(running).then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 60_000)))])
    clearTimeout(timer)
    if (!settled) progress.notice('  a drill is still under way after 60 s; stopping anyway')
  }
  progress.end()
  const served = await load.stop()
  await shop.close()
  say(
    `requests: ${n(served.sent)} sent, ${n(served.ok)} answered 2xx, ${n(served.refused)} 4xx (sold out, declined card, empty cart: on purpose), ${n(served.failed)} failed; ` +
      `client latency p50 ${served.p50Ms.toFixed(1)} ms, p99 ${served.p99Ms.toFixed(1)} ms`,
  )

  say('stopping: intake closed, writers drain the ring...')
  const report = await pipeline.stop({ timeoutMs: 15_000 })
  printReport(say, report)
  const answers = await printAnswers(o.out, o.dbPath)
  return { report, interrupted, load: served, answers }
}

/** Starts the pipeline with its HTTP server on `port`; a port already taken falls back to any free one. */
async function startPipeline(options: PipelineOptions, port: number, say: (s: string) => void): Promise<PipelineManager> {
  try {
    return await PipelineManager.start({ ...options, http: { port } })
  } catch (err) {
    if (port === 0 || !(err instanceof PipelineError) || err.code !== 'http_listen_failed') throw err
    say(`port ${port} is not available (${(err.cause as Error | undefined)?.message ?? err.message}); the dashboard takes a free port instead`)
    return PipelineManager.start({ ...options, http: { port: 0 } })
  }
}

function printReport(say: (s: string) => void, r: AccountingReport): void {
  const dropped = Object.entries(r.rejected).filter(([, v]) => v > 0)
  const rows: [string, number][] = [
    ['offered', r.offered],
    ['  stored', r.stored],
    ...dropped.map(([k, v]) => [`  dropped: ${k}`, v] as [string, number]),
    ['  dropped: evicted', r.evicted],
    ['  quarantined', r.quarantined],
    ['  filtered', r.filtered],
    ['  in flight', r.inFlight],
  ]
  say('')
  say('Accounting report')
  for (const [k, v] of rows) say(`  ${k.padEnd(22)} ${n(v).padStart(12)}`)
  say(`  ${'(re-stored duplicates)'.padEnd(22)} ${n(r.duplicates).padStart(12)}`)
  const sum = r.stored + Object.values(r.rejected).reduce((a, b) => a + b, 0) + r.evicted + r.quarantined + r.filtered + r.inFlight
  say(`  offered = stored + dropped + quarantined + filtered + in flight: ${n(r.offered)} = ${n(sum)} → ${sum === r.offered && r.balanced ? 'balanced' : 'NOT balanced'}`)
  say(`  the store counted its own rows (${r.countedBy})`)
}
