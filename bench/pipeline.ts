// End-to-end benchmark: events/s from an application thread through the ring and the writer pool
// into SQLite and into a store that keeps nothing, with 1 and 2 writers, side by side with pino's
// worker-thread transport writing the same events to a file and postMessage in batches of 1000;
// capture-to-commit latency at a steady 50k events/s; the application's price per event while the
// pipeline runs; peak RSS per run; the time from a writer crash to its replacement taking work; and
// a 60-second SQLite run sampled every second (written as an SVG chart).
// Usage: npx tsx bench/pipeline.ts [--seconds N] [--runs N] [--sustained N] [--chart PATH]
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { MessageChannel, Worker } from 'node:worker_threads'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineManager } from '@ringside/pipeline-manager'
import { lineChart, mayWriteChart } from './chart.js'
import { boot, fmt, median, nullStore, producerEntry, rssSampler, runPipeline, sleep, spread, type RunResult } from './e2e.js'

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
const SECONDS = Number(argOf('seconds') ?? 10)
const RUNS = Number(argOf('runs') ?? 3)
const SUSTAINED = Number(argOf('sustained') ?? 60)
const CHART = argOf('chart') ?? 'bench/results/sqlite-sustained.svg'
// --chart names a file of the user's: refuse at once (not after the runs) to write over anything
// but a chart this script wrote. The default lives in the repository's bench/results.
const headOf = (path: string): string | undefined => {
  if (!existsSync(path)) return undefined
  const fd = openSync(path, 'r')
  try {
    const b = Buffer.alloc(4096)
    return b.toString('utf8', 0, readSync(fd, b, 0, b.length, 0))
  } finally {
    closeSync(fd)
  }
}
if (argOf('chart') !== undefined && !mayWriteChart(CHART, headOf)) {
  console.error(`bench/pipeline.ts: --chart ${CHART} exists and is not a chart written by this script; it is left as it is: choose another path`)
  process.exit(2)
}
const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-'))
const peerEntry = new URL('./fixtures/peer-worker.ts', import.meta.url).href
let dbNo = 0

const ringside = (store: 'sqlite' | 'null', writers: number, seconds: number, ratePerSec?: number): Promise<RunResult> =>
  runPipeline(store === 'sqlite' ? { kind: 'sqlite', path: join(dir, `e2e-${++dbNo}.db`) } : nullStore, writers, seconds, ratePerSec)

async function pinoPeer(seconds: number): Promise<{ perSec: number; rssMb: number }> {
  const peak = rssSampler()
  const destination = join(dir, `pino-${++dbNo}.log`)
  const stop = new Int32Array(new SharedArrayBuffer(4))
  const w = new Worker(boot, { workerData: { entry: peerEntry, role: 'pino', stop, counter: stop, destination } })
  const done = new Promise<{ written: number }>((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  })
  const t0 = performance.now()
  await sleep(seconds * 1000)
  Atomics.store(stop, 0, 1)
  await done
  const elapsed = (performance.now() - t0) / 1000
  await w.terminate()
  // What reached the file is what the transport moved; count its lines, a chunk at a time (the
  // file can be larger than the biggest string V8 makes).
  const lines = countLines(destination)
  rmSync(destination, { force: true })
  return { perSec: lines / elapsed, rssMb: peak() }
}

function countLines(path: string): number {
  const fd = openSync(path, 'r')
  const chunk = Buffer.allocUnsafe(8 << 20)
  let lines = 0
  try {
    for (let got = readSync(fd, chunk); got > 0; got = readSync(fd, chunk)) {
      for (let i = chunk.indexOf(10); i !== -1 && i < got; i = chunk.indexOf(10, i + 1)) lines++
    }
  } finally {
    closeSync(fd)
  }
  return lines
}

async function postMessagePeer(seconds: number): Promise<{ perSec: number; rssMb: number }> {
  const peak = rssSampler()
  const stop = new Int32Array(new SharedArrayBuffer(4))
  const counter = new Int32Array(new SharedArrayBuffer(4))
  const { port1, port2 } = new MessageChannel()
  const sink = new Worker(boot, { workerData: { entry: peerEntry, role: 'pm-sink', stop, counter, port: port2 }, transferList: [port2] })
  await new Promise((resolve) => sink.once('message', resolve))
  const app = new Worker(boot, { workerData: { entry: peerEntry, role: 'pm-app', stop, counter, port: port1 }, transferList: [port1] })
  const t0 = performance.now()
  await sleep(seconds * 1000)
  const received = Atomics.load(counter, 0)
  const elapsed = (performance.now() - t0) / 1000
  Atomics.store(stop, 0, 1)
  await Promise.all([app.terminate(), sink.terminate()])
  return { perSec: received / elapsed, rssMb: peak() }
}

/** The application's price per `ring.write` on the main thread while the pipeline drains the ring. */
async function appPrice(): Promise<{ idle: number; busy: number }> {
  const burst = (ring: RingBuffer) => {
    const xs: number[] = []
    for (let rep = 0; rep < 40; rep++) {
      const t = process.hrtime.bigint()
      for (let k = 0; k < 1000; k++) ring.write({ type: 'call', pid: '<0.123.0>', module: 'MyApp.Worker', function: 'handle_call', arity: 3, astNodeId: 'n_1234', data: { k: 'v', n: k } })
      xs.push(Number(process.hrtime.bigint() - t) / 1000)
    }
    return xs
  }
  const ring = RingBuffer.create({ size: 1 << 16 })
  const pipeline = await PipelineManager.start({ ring, store: nullStore, poolSize: 2 })
  const busy: number[] = []
  for (let i = 0; i < 20; i++) {
    busy.push(...burst(ring))
    await sleep(20)
  }
  await pipeline.stop()
  const alone = RingBuffer.create({ size: 1 << 20 })
  return { idle: median(burst(alone).concat(burst(alone))), busy: median(busy) }
}

/** Kill a writer; time until its replacement is ready and until it has stored a batch. */
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

const lines: string[] = []
lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`)
lines.push(
  `Command: \`npx tsx bench/pipeline.ts --seconds ${SECONDS} --runs ${RUNS} --sustained ${SUSTAINED}\`. The application is one worker thread ` +
    'writing as fast as it can (sleeping 1 ms whenever the ring is full); Ringside runs the `throughput` preset. Medians of the runs, spread in brackets.',
)
lines.push('', 'Peak RSS is the whole bench process (every thread) during each run; a process does not give freed memory back at once, so a later row also carries what earlier rows left. The figure for one pipeline alone is in BENCHMARKS.md\'s notes.')
lines.push('', `| pipeline (${SECONDS} s runs) | events/s stored | capture→commit p50 / p99 ms | peak RSS MB | balanced |`, '|---|---:|---:|---:|:---:|')
for (const [label, store, writers] of [
  ['Ringside → store that keeps nothing, 1 writer', 'null', 1],
  ['Ringside → store that keeps nothing, 2 writers', 'null', 2],
  ['Ringside → SQLite, 1 writer', 'sqlite', 1],
  ['Ringside → SQLite, 2 writers', 'sqlite', 2],
] as const) {
  const rs: RunResult[] = []
  for (let r = 0; r < RUNS; r++) rs.push(await ringside(store, writers, SECONDS))
  const per = rs.map((r) => r.perSec)
  lines.push(
    `| ${label} | ${fmt(median(per))} (${spread(per)}) | ${fmt(median(rs.map((r) => r.p50 ?? NaN)))} / ${fmt(median(rs.map((r) => r.p99 ?? NaN)))} | ${fmt(median(rs.map((r) => r.rssMb)))} | ${rs.every((r) => r.balanced) ? 'yes' : 'no'} |`,
  )
  console.error(`done ${label}`)
}
for (const [label, f] of [
  ['pino worker-thread transport → file (pino/file)', pinoPeer],
  ['postMessage, batches of 1000 → a thread that drops them', postMessagePeer],
] as const) {
  const rs: { perSec: number; rssMb: number }[] = []
  for (let r = 0; r < RUNS; r++) rs.push(await f(SECONDS))
  const per = rs.map((r) => r.perSec)
  lines.push(`| ${label} | ${fmt(median(per))} (${spread(per)}) | – | ${fmt(median(rs.map((r) => r.rssMb)))} | – |`)
  console.error(`done ${label}`)
}

const steady = await ringside('sqlite', 2, 10, 50_000)
lines.push('', `At a steady 50,000 events/s into SQLite (2 writers, 10 s): capture→commit p50 ${fmt(steady.p50)} ms, p99 ${fmt(steady.p99)} ms; accepted ${steady.accepted.toLocaleString('en-US')}, refused ${steady.refused.toLocaleString('en-US')}.`)
const price = await appPrice()
lines.push('', `Application's price per \`ring.write\` on the main thread: ${fmt(price.idle)} ns with no pipeline, ${fmt(price.busy)} ns while 2 writers drain the ring (medians of 800 bursts of 1000).`)
const rt = await restartTimes()
lines.push('', `Writer crash to replacement (terminate → ready): median ${fmt(median(rt.ready))} ms (${spread(rt.ready)}); to its first stored batch: median ${fmt(median(rt.working))} ms (${spread(rt.working)}), 7 kills under 50k events/s.`)
const sustained = await ringside('sqlite', 2, SUSTAINED)
const fives: number[] = []
for (let i = 0; i + 5 <= sustained.samples.length; i += 5) fives.push(sustained.samples.slice(i, i + 5).reduce((a, b) => a + b, 0) / 5)
lines.push('', `Sustained into SQLite, 2 writers, ${SUSTAINED} s: ${fmt(sustained.perSec)} events/s; per 5 s window: ${fives.map(fmt).join(', ')}. Peak RSS ${fmt(sustained.rssMb)} MB. Chart: [${CHART.replace(/^bench\//, '')}](${CHART.replace(/^bench\//, 'bench/')}).`)
writeFileSync(CHART, lineChart({ title: `Ringside → SQLite, 2 writers: events stored per second over ${SUSTAINED} s`, values: sustained.samples, yLabel: 'events/s', xLabel: 'seconds' }))
console.log(lines.join('\n'))
rmSync(dir, { recursive: true, force: true })
