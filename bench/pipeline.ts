// End-to-end benchmark: events/s from an application thread through the ring and the writer pool
// into SQLite and into a store that keeps nothing, with 1 and 2 writers; capture-to-commit latency
// at a steady 50k events/s; the application's price per event while the pipeline runs; peak RSS;
// and the time from a writer crash to its replacement taking work.
// Usage: npx tsx bench/pipeline.ts [--seconds N] [--sustained N]   (prints a Markdown report)
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineManager } from '@ringside/pipeline-manager'

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? dflt : Number(process.argv[i + 1])
}
const SECONDS = arg('seconds', 10)
const SUSTAINED = arg('sustained', 60)
const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-'))
const boot = new URL('./fixtures/boot.mjs', import.meta.url)
const producerEntry = new URL('./fixtures/app-producer.ts', import.meta.url).href
const nullStore = { target: new URL('./fixtures/null-store.ts', import.meta.url).href }
const fmt = (x: number | undefined) => (x === undefined ? '–' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
let dbNo = 0

interface RunResult {
  storedPerSec: number
  windows: number[]
  p50?: number
  p99?: number
  accepted: number
  full: number
  balanced: boolean
}

async function run(store: 'sqlite' | 'null', writers: number, seconds: number, ratePerSec?: number): Promise<RunResult> {
  const ring = RingBuffer.create({ size: 1 << 16 })
  const spec = store === 'sqlite' ? { kind: 'sqlite' as const, path: join(dir, `e2e-${++dbNo}.db`) } : nullStore
  const pipeline = await PipelineManager.start({ ring, store: spec, preset: 'throughput', poolSize: writers, batchSize: 2000, maxRestarts: 100 })
  const control = new Int32Array(new SharedArrayBuffer(4))
  const app = new Worker(boot, { workerData: { entry: producerEntry, handle: ring.handle, control, ...(ratePerSec ? { ratePerSec } : {}) } })
  const done = new Promise<{ accepted: number; full: number }>((resolve) => app.once('message', resolve))
  const windows: number[] = []
  let last = 0
  const t0 = performance.now()
  for (let s = 5; s <= seconds; s += 5) {
    await sleep(t0 + s * 1000 - performance.now())
    const stored = pipeline.getMetrics().totals.eventsStored
    windows.push((stored - last) / 5)
    last = stored
  }
  const elapsed = (performance.now() - t0) / 1000
  const storedAtEnd = pipeline.getMetrics().totals.eventsStored
  Atomics.store(control, 0, 1)
  Atomics.notify(control, 0)
  const produced = await done
  await app.terminate()
  const m = pipeline.getMetrics()
  const report = await pipeline.stop({ timeoutMs: 30_000 })
  return {
    storedPerSec: storedAtEnd / elapsed,
    windows,
    ...(m.latency.captureToCommitMs.p50 === undefined ? {} : { p50: m.latency.captureToCommitMs.p50 }),
    ...(m.latency.captureToCommitMs.p99 === undefined ? {} : { p99: m.latency.captureToCommitMs.p99 }),
    accepted: produced.accepted,
    full: produced.full,
    balanced: report.balanced,
  }
}

/** The application's price per write on the main thread while the pipeline drains the ring. */
async function appPrice(): Promise<{ idle: number; busy: number }> {
  const measure = (ring: RingBuffer) => {
    const xs: number[] = []
    for (let rep = 0; rep < 40; rep++) {
      const t = process.hrtime.bigint()
      for (let k = 0; k < 1000; k++) ring.write({ type: 'call', pid: '<0.123.0>', module: 'MyApp.Worker', function: 'handle_call', arity: 3, astNodeId: 'n_1234', data: { k: 'v', n: k } })
      xs.push(Number(process.hrtime.bigint() - t) / 1000)
    }
    return xs
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
  const ring = RingBuffer.create({ size: 1 << 16 })
  const pipeline = await PipelineManager.start({ ring, store: nullStore, poolSize: 2 })
  const busy: number[] = []
  for (let i = 0; i < 20; i++) {
    busy.push(...measure(ring))
    await sleep(20)
  }
  await pipeline.stop()
  const alone = RingBuffer.create({ size: 1 << 20 })
  const idle = measure(alone).concat(measure(alone))
  return { idle: median(idle), busy: median(busy) }
}

/** Kill a writer, time until its replacement is ready and until it has stored a batch. */
async function restartTimes(): Promise<{ ready: number[]; working: number[] }> {
  const ring = RingBuffer.create({ size: 1 << 16 })
  const pipeline = await PipelineManager.start({ ring, store: nullStore, poolSize: 2, maxRestarts: 100, maxSeconds: 1 })
  const control = new Int32Array(new SharedArrayBuffer(4))
  const app = new Worker(boot, { workerData: { entry: producerEntry, handle: ring.handle, control, ratePerSec: 50_000 } })
  const ready: number[] = []
  const working: number[] = []
  for (let k = 0; k < 7; k++) {
    await sleep(1200)
    const before = pipeline.getMetrics().writers.find((w) => w.slot === 0)!.batchesProcessed
    const restarted = new Promise<void>((resolve) => pipeline.once('writer_restarted', () => resolve()))
    const t0 = performance.now()
    await pipeline.killWriter(0)
    await restarted
    ready.push(performance.now() - t0)
    while (pipeline.getMetrics().writers.find((w) => w.slot === 0)!.batchesProcessed === before) await sleep(1)
    working.push(performance.now() - t0)
  }
  Atomics.store(control, 0, 1)
  await app.terminate()
  await pipeline.stop()
  return { ready, working }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const lines: string[] = []
lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`)
lines.push(`Command: \`npx tsx bench/pipeline.ts --seconds ${SECONDS} --sustained ${SUSTAINED}\`. The application is one worker thread writing as fast as the ring accepts (retrying when full); preset \`throughput\`, batches of 2000.`)
lines.push('', '| store | writers | events/s stored | per 5 s window | capture→commit p50 / p99 ms | report balanced |', '|---|---:|---:|---|---:|:---:|')
for (const store of ['null', 'sqlite'] as const) {
  for (const writers of [1, 2]) {
    const r = await run(store, writers, SECONDS)
    lines.push(`| ${store === 'null' ? 'keeps nothing' : 'SQLite'} | ${writers} | ${fmt(r.storedPerSec)} | ${r.windows.map(fmt).join(', ')} | ${fmt(r.p50)} / ${fmt(r.p99)} | ${r.balanced ? 'yes' : 'no'} |`)
    console.error(`done ${store} ${writers}`)
  }
}
const sustained = await run('sqlite', 2, SUSTAINED)
lines.push('', `Sustained into SQLite, 2 writers, ${SUSTAINED} s: ${fmt(sustained.storedPerSec)} events/s; per 5 s window: ${sustained.windows.map(fmt).join(', ')}.`)
const steady = await run('sqlite', 2, 10, 50_000)
lines.push('', `At a steady 50,000 events/s into SQLite (2 writers, 10 s): capture→commit p50 ${fmt(steady.p50)} ms, p99 ${fmt(steady.p99)} ms; accepted ${steady.accepted.toLocaleString('en-US')}, refused ${steady.full}.`)
const price = await appPrice()
lines.push('', `Application's price per \`ring.write\` on the main thread: ${fmt(price.idle)} ns with no pipeline, ${fmt(price.busy)} ns while 2 writers drain the ring (medians of bursts of 1000).`)
const rt = await restartTimes()
lines.push('', `Writer crash to replacement (terminate → ready): median ${fmt(median(rt.ready))} ms (${rt.ready.map(fmt).join(', ')}); to its first stored batch: median ${fmt(median(rt.working))} ms.`)
lines.push('', `Peak RSS of the whole process over the run (all threads): ${fmt(process.resourceUsage().maxRSS / 1024)} MB.`)
console.log(lines.join('\n'))
rmSync(dir, { recursive: true, force: true })
