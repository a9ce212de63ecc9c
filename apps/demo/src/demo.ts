// The demo: an instrumented application in miniature (the main thread and one worker thread write
// traced events at a set rate) embedding a PipelineManager that writes to SQLite. Midway it kills
// a writer and scales the pool up and down; at the end it stops the pipeline, prints the accounting
// report and answers a few queries from the store. SIGINT/SIGTERM stop it gracefully. The pipeline's
// HTTP server runs meanwhile, and the demo prints its dashboard's address.

import { Worker } from 'node:worker_threads'
import type { Writable } from 'node:stream'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineError, PipelineManager, type AccountingReport, type PipelineOptions } from '@ringside/pipeline-manager'
import { openForReading, prepareNewStore } from './db-path.js'
import { TraceGenerator } from './events.js'
import { Pacer } from './pacer.js'
import { Progress } from './progress.js'

export interface DemoOptions {
  /** Events per second offered by the application, all threads together. Defaults to 10000. */
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

export const DEMO_DEFAULTS = { rate: 10_000, durationSec: 20, poolSize: 2, dbPath: './ringside-events.db', drills: true, httpPort: 7777 } as const

const n = (x: number) => Math.round(x).toLocaleString('en-US')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface DemoResult {
  readonly report: AccountingReport
  readonly interrupted: boolean
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const say = (s: string) => o.out.write(`${s}\n`)
  await prepareNewStore(o.dbPath, o.fresh ?? false)
  const ring = RingBuffer.create({ size: 1 << 16, overflowStrategy: 'drop_newest' })
  say(`Ringside demo: ${n(o.rate)} events/s for ${o.durationSec} s from the main thread and a worker thread, into ${o.dbPath}`)
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

  // The application: a worker thread with a third of the rate, the main thread with the rest.
  const stopWorker = new Int32Array(new SharedArrayBuffer(4))
  // Built, the thread is plain JavaScript; from sources (the tests) it starts through tsx's bootstrap.
  const fromSource = import.meta.url.endsWith('.ts')
  const worker = new Worker(fromSource ? new URL('./boot.mjs', import.meta.url) : new URL('./producer-thread.js', import.meta.url), {
    workerData: { entry: new URL('./producer-thread.ts', import.meta.url).href, handle: ring.handle, rate: Math.round(o.rate / 3), stop: stopWorker },
  })
  const workerDone = new Promise<{ offered: number; refused: number }>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  const gen = new TraceGenerator('main', 0x2545f491)
  const pacer = new Pacer(o.rate - Math.round(o.rate / 3))
  let mainOffered = 0
  let interrupted = false
  const drills: [number, () => Promise<void>][] = o.drills
    ? [
        [0.3, async () => {
          progress.notice(`  ⚡ killing writer-1 (worker.terminate) while events flow`)
          killedAt.set(0, performance.now())
          await pipeline.killWriter(0)
        }],
        [0.5, () => pipeline.scalePool(o.poolSize + 2)],
        [0.7, () => pipeline.scalePool(o.poolSize)],
      ]
    : []
  const t0 = performance.now()
  let lastDraw = 0
  while (true) {
    const elapsed = (performance.now() - t0) / 1000
    if (elapsed >= o.durationSec) break
    if (o.signal?.aborted) {
      interrupted = true
      progress.notice('  interrupted: stopping gracefully (drain, report)')
      break
    }
    for (let k = pacer.due(); k > 0; k--, mainOffered++) ring.write(gen.next())
    const next = drills[0]
    if (next && elapsed >= next[0] * o.durationSec) {
      drills.shift()
      void next[1]().catch((err: Error) => progress.notice(`  drill failed: ${err.message}`))
    }
    if (performance.now() - lastDraw > 250) {
      lastDraw = performance.now()
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
      })
    }
    await sleep(5)
  }
  progress.end()
  Atomics.store(stopWorker, 0, 1)
  Atomics.notify(stopWorker, 0)
  const fromWorker = await workerDone
  await worker.terminate()

  say('stopping: intake closed, writers drain the ring...')
  const report = await pipeline.stop({ timeoutMs: 15_000 })
  printReport(say, report, mainOffered + fromWorker.offered)
  await printQueries(say, o.dbPath)
  return { report, interrupted }
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

function describe(e: Record<string, unknown>): string {
  if (e.type === 'message') return `${String(e.from)} → ${String(e.to)}`
  if (e.type === 'state_change') return `${String(e.module)} ${JSON.stringify(e.before)} → ${JSON.stringify(e.after)}`
  return `${String(e.module)}.${String(e.function)}/${String(e.arity)}`
}

function printReport(say: (s: string) => void, r: AccountingReport, offeredByApp: number): void {
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
  say(`  the application counted ${n(offeredByApp)} writes; the store counted its own rows (${r.countedBy})`)
}

async function printQueries(say: (s: string) => void, dbPath: string): Promise<void> {
  const store = await openForReading(dbPath)
  try {
    const stats = await store.stats()
    say('')
    say(`Queries against ${dbPath} (${n(stats.totalEvents)} events, ${(stats.sizeBytes / 1e6).toFixed(1)} MB)`)
    const pid = '<0.107.0>'
    const ofPid = await store.query({ pid, order: 'desc', limit: 5 })
    say(`  latest events of ${pid}:`)
    for (const r of ofPid) say(`    ${new Date(r.capturedAt).toISOString()}  ${String(r.event.type).padEnd(12)} ${describe(r.event)}`)
    const until = stats.newestCapturedAt ?? Date.now()
    const since = until - 5_000
    const calls = await store.query({ type: 'call', module: 'Shop.Cart', function: 'add', arity: 2, since, until })
    say(`  calls of Shop.Cart.add/2 in the last 5 s of the run: ${n(calls.length)}`)
    const recent = await store.query({ type: 'call', since, until })
    const byNode = new Map<string, number>()
    for (const r of recent) byNode.set(String(r.event.astNodeId), (byNode.get(String(r.event.astNodeId)) ?? 0) + 1)
    say('  busiest AST nodes (calls, last 5 s):')
    for (const [node, count] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, 5)) say(`    ${node.padEnd(28)} ${n(count).padStart(8)}`)
  } finally {
    await store.close()
  }
}
