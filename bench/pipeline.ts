// End-to-end benchmark: events/s from an application thread through the ring and the writer pool
// into SQLite (1 writer; 2 writers taking turns through the shared write lock; 2 writers left to
// SQLite's busy handler) beside the raw better-sqlite3 insert loop on the same schema and pragmas,
// and into a store that keeps nothing; with --peers, pino's worker-thread transport and postMessage
// too. Then capture-to-commit latency at steady rates with the default preset; the application's
// price per event; the stall after a writer crash with and without a warm spare; and 60-second
// runs (raw loop, 1 and 2 writers) sampled every second, the 2-writer one written as an SVG chart.
// Usage: npx tsx bench/pipeline.ts [--seconds N] [--runs N] [--sustained N] [--chart PATH] [--peers] [--latency-seconds N]
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { MessageChannel, Worker } from 'node:worker_threads'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineManager } from '@ringside/pipeline-manager'
import type { PipelineOptions } from '@ringside/pipeline-manager'
import { lineChart, mayWriteChart } from './chart.js'
import { boot, fmt, median, nullStore, producerEntry, rssSampler, runPipeline, sleep, spread, type RunResult } from './e2e.js'
import { openRaw } from './store-raw.js'
import { recordSource } from './store-data.js'

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
const SECONDS = Number(argOf('seconds') ?? 10)
const RUNS = Number(argOf('runs') ?? 3)
const SUSTAINED = Number(argOf('sustained') ?? 60)
const CHART = argOf('chart') ?? 'bench/results/sqlite-sustained.svg'
const PEERS = process.argv.includes('--peers')
/** Batch size of the raw loop: the throughput preset's, which the pipeline rows run. */
const RAW_BATCH = 2000
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

const ringside = (store: 'sqlite' | 'null', writers: number, seconds: number, ratePerSec?: number, extra: Partial<PipelineOptions> = {}): Promise<RunResult> =>
  runPipeline(store === 'sqlite' ? { kind: 'sqlite', path: join(dir, `e2e-${++dbNo}.db`) } : nullStore, writers, seconds, ratePerSec, extra)

/**
 * The raw insert loop (bench/store-raw.ts) on a fresh file in this thread for `seconds`: batches
 * of RAW_BATCH enriched reference events; rows/s counts only the time inside the inserts (making
 * the rows is not its cost). Per-second samples for the sustained table.
 */
async function rawLoop(seconds: number): Promise<{ perSec: number; samples: number[] }> {
  const src = recordSource(++dbNo)
  const raw = await openRaw(join(dir, `raw-${dbNo}.db`), src.ringId, { scratchPath: join(dir, `raw-schema-${dbNo}.db`) })
  let rows = 0
  let insideMs = 0
  const samples: number[] = []
  let secondRows = 0
  let secondMs = 0
  while (insideMs < seconds * 1000) {
    const batch = src.next(RAW_BATCH)
    const t0 = performance.now()
    raw.storeEvents(batch)
    const ms = performance.now() - t0
    insideMs += ms
    rows += batch.length
    secondRows += batch.length
    secondMs += ms
    if (secondMs >= 1000) {
      samples.push((secondRows / secondMs) * 1000)
      secondRows = 0
      secondMs = 0
    }
  }
  raw.close()
  return { perSec: (rows / insideMs) * 1000, samples }
}

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

/**
 * Kills a writer 7 times under 50k events/s (store that keeps nothing); per kill, the time until
 * its heir is ready (a spare is ready before the kill) and until the heir has stored a batch: how
 * long the dead writer's claims wait, the capture→commit stall a kill adds.
 */
async function restartTimes(spares: number): Promise<{ ready: number[]; working: number[] }> {
  const ring = RingBuffer.create({ size: 1 << 16 })
  const pipeline = await PipelineManager.start({ ring, store: nullStore, poolSize: 2, spares, maxRestarts: 100, maxSeconds: 1 })
  const control = new Int32Array(new SharedArrayBuffer(4))
  const app = new Worker(boot, { workerData: { entry: producerEntry, handle: ring.handle, control, ratePerSec: 50_000 } })
  const ready: number[] = []
  const working: number[] = []
  const batchesOf = (slot: number) => pipeline.getMetrics().writers.find((w) => w.slot === slot)?.batchesProcessed ?? 0
  for (let k = 0; k < 7; k++) {
    await sleep(1200)
    while (pipeline.getState().spares.filter((s) => s.state === 'running').length < spares) await sleep(5)
    const victim = pipeline.getState().members[0]!.slot
    const heir = spares > 0 ? pipeline.getState().spares[0]!.slot : victim
    const before = spares > 0 ? Number.POSITIVE_INFINITY : batchesOf(heir)
    const restarted = new Promise<void>((resolve) => pipeline.once('writer_restarted', () => resolve()))
    const t0 = performance.now()
    await pipeline.killWriter(victim)
    await restarted
    ready.push(performance.now() - t0)
    // A spare's row may hold counts of an earlier writer in its slot: compare from once it is a member.
    const from = before === Number.POSITIVE_INFINITY ? batchesOf(heir) : before
    while (batchesOf(heir) === from) await sleep(1)
    working.push(performance.now() - t0)
  }
  Atomics.store(control, 0, 1)
  await app.terminate()
  await pipeline.stop()
  return { ready, working }
}

const load = () => loadavg().map((x) => x.toFixed(1)).join(' / ')
const fives = (xs: readonly number[]): number[] => {
  const out: number[] = []
  for (let i = 0; i + 5 <= xs.length; i += 5) out.push(xs.slice(i, i + 5).reduce((a, b) => a + b, 0) / 5)
  return out
}
const lines: string[] = []
lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average (1 / 5 / 15 min) at start ${load()}.`)
lines.push(
  `Command: \`npx tsx bench/pipeline.ts --seconds ${SECONDS} --runs ${RUNS} --sustained ${SUSTAINED}${PEERS ? ' --peers' : ''}\`. The application is one worker thread ` +
    'writing as fast as it can (sleeping 1 ms whenever the ring is full); Ringside runs the `throughput` preset (batches of 2000). The contenders run in turn within each round; medians of the rounds, spread in brackets. ' +
    `The raw loop is better-sqlite3 inserting enriched reference events in batches of ${RAW_BATCH} into the store's schema with its pragmas, in one thread, counting only time inside its inserts.`,
)
lines.push('', 'Peak RSS is the whole bench process (every thread) during each run; a process does not give freed memory back at once, so a later row also carries what earlier rows left.')
type Contender = { label: string; run: () => Promise<{ perSec: number; p50?: number; p99?: number; rssMb?: number; balanced?: boolean }> }
const contenders: Contender[] = [
  { label: 'raw better-sqlite3 insert loop (one connection, no pipeline)', run: () => rawLoop(SECONDS) },
  { label: 'Ringside → SQLite, 1 writer', run: () => ringside('sqlite', 1, SECONDS) },
  { label: 'Ringside → SQLite, 2 writers, shared write lock (default)', run: () => ringside('sqlite', 2, SECONDS) },
  { label: "Ringside → SQLite, 2 writers, SQLite's busy handler (storeWriteLock: false)", run: () => ringside('sqlite', 2, SECONDS, undefined, { storeWriteLock: false }) },
  { label: 'Ringside → store that keeps nothing, 1 writer', run: () => ringside('null', 1, SECONDS) },
  { label: 'Ringside → store that keeps nothing, 2 writers', run: () => ringside('null', 2, SECONDS) },
]
const results = contenders.map(() => [] as Awaited<ReturnType<Contender['run']>>[])
for (let r = 0; r < RUNS; r++) {
  for (const [i, c] of contenders.entries()) {
    results[i]!.push(await c.run())
    console.error(`round ${r + 1}: done ${c.label}`)
  }
}
const raw = results[0]!.map((x) => x.perSec)
lines.push('', `| pipeline (${SECONDS} s runs) | events/s stored | / raw loop of the same round | capture→commit p50 / p99 ms | peak RSS MB | balanced |`, '|---|---:|---:|---:|---:|:---:|')
for (const [i, c] of contenders.entries()) {
  const rs = results[i]!
  const per = rs.map((x) => x.perSec)
  const ratios = rs.map((x, k) => x.perSec / raw[k]!)
  const ms = (f: (x: (typeof rs)[number]) => number | undefined) => (rs[0]!.p50 === undefined ? '–' : fmt(median(rs.map((x) => f(x) ?? NaN))))
  lines.push(
    `| ${c.label} | ${fmt(median(per))} (${spread(per)}) | ${i === 0 ? '1' : `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)} – ${Math.max(...ratios).toFixed(2)})`} | ${ms((x) => x.p50)} / ${ms((x) => x.p99)} | ${rs[0]!.rssMb === undefined ? '–' : fmt(median(rs.map((x) => x.rssMb!)))} | ${rs[0]!.balanced === undefined ? '–' : rs.every((x) => x.balanced) ? 'yes' : 'no'} |`,
  )
}
if (PEERS) {
  for (const [label, f] of [
    ['pino worker-thread transport → file (pino/file)', pinoPeer],
    ['postMessage, batches of 1000 → a thread that drops them', postMessagePeer],
  ] as const) {
    const rs: { perSec: number; rssMb: number }[] = []
    for (let r = 0; r < RUNS; r++) rs.push(await f(SECONDS))
    const per = rs.map((x) => x.perSec)
    lines.push(`| ${label} | ${fmt(median(per))} (${spread(per)}) | – | – | ${fmt(median(rs.map((x) => x.rssMb)))} | – |`)
    console.error(`done ${label}`)
  }
}
lines.push('', `Load average after the throughput rounds: ${load()}.`)

// Latency with the default preset (balanced: batches of 500, linger 10 ms, 2 writers) at steady
// rates: 10,000 events/s, and half of the 2-writer capacity measured above.
const capacity = median(results[2]!.map((x) => x.perSec))
const LAT_SECONDS = Number(argOf('latency-seconds') ?? 20)
lines.push('', `Capture→commit latency at steady rates, default preset, SQLite, ${LAT_SECONDS} s each; "recent" is getMetrics().latency.recent (the last 10 s of the run), "whole run" includes the start.`, '', '| offered events/s | writers | recent p50 / p99 ms | whole run p50 / p99 ms | refused | balanced |', '|---:|---:|---:|---:|---:|:---:|')
for (const [rate, writers] of [[10_000, 2], [10_000, 1], [Math.round(capacity / 2), 2], [Math.round(capacity / 2), 1]] as const) {
  // A capacity too small to halve (a starved run) would make the producer write flat out: say so instead.
  if (rate < 100) {
    lines.push(`| half of ${fmt(capacity)} | ${writers} | not run: no capacity measured | – | – | – |`)
    continue
  }
  const r = await ringside('sqlite', writers, LAT_SECONDS, rate, { preset: 'balanced' })
  lines.push(`| ${rate.toLocaleString('en-US')} | ${writers} | ${fmt(r.recentP50)} / ${fmt(r.recentP99)} | ${fmt(r.p50)} / ${fmt(r.p99)} | ${r.refused.toLocaleString('en-US')} | ${r.balanced ? 'yes' : 'no'} |`)
  console.error(`done latency ${rate} ${writers}`)
}

const price = await appPrice()
lines.push('', `Application's price per \`ring.write\` on the main thread: ${fmt(price.idle)} ns with no pipeline, ${fmt(price.busy)} ns while 2 writers drain the ring (medians of 800 bursts of 1000).`)
for (const spares of [0, 1]) {
  const rt = await restartTimes(spares)
  lines.push(
    '',
    `Writer crash ${spares === 0 ? 'without a spare (a new thread after the restart backoff)' : 'with `spares: 1` (the warm spare takes over)'}: kill → heir ready median ${fmt(median(rt.ready))} ms (${spread(rt.ready)}); kill → heir's first stored batch median ${fmt(median(rt.working))} ms (${spread(rt.working)}), 7 kills under 50k events/s.`,
  )
  console.error(`done restarts spares ${spares}`)
}

// Sustained: the raw loop, then 1 and 2 writers, SUSTAINED s each.
const rawLong = await rawLoop(SUSTAINED)
console.error('done sustained raw')
const one = await ringside('sqlite', 1, SUSTAINED)
console.error('done sustained 1 writer')
const two = await ringside('sqlite', 2, SUSTAINED)
console.error('done sustained 2 writers')
lines.push('', `Sustained, ${SUSTAINED} s each, one after the other (load average before: see above; after: ${load()}):`, '', '| contender | events/s over the run | / raw loop | per 5-s window |', '|---|---:|---:|---|')
lines.push(`| raw better-sqlite3 insert loop | ${fmt(rawLong.perSec)} | 1 | ${fives(rawLong.samples).map(fmt).join(', ')} |`)
for (const [label, r] of [['Ringside → SQLite, 1 writer', one], ['Ringside → SQLite, 2 writers', two]] as const) {
  lines.push(`| ${label} | ${fmt(r.perSec)} | ${(r.perSec / rawLong.perSec).toFixed(2)} | ${fives(r.samples).map(fmt).join(', ')} |`)
}
const offeredMedian = median(two.offered)
lines.push('', `Chart of the 2-writer run: [${CHART.replace(/^bench\//, '')}](${CHART.replace(/^bench\//, 'bench/')}). Peak RSS of the 2-writer run ${fmt(two.rssMb)} MB.`)
writeFileSync(
  CHART,
  lineChart({
    title: `Ringside → SQLite, 2 writers: events stored per second over ${SUSTAINED} s`,
    values: two.samples,
    window: 5,
    xTickEvery: 10,
    refs: [
      { label: `raw loop ${fmt(rawLong.perSec)}/s`, value: rawLong.perSec, color: '#2ca02c' },
      { label: `offered ${fmt(offeredMedian)}/s`, value: offeredMedian, color: '#7f7f7f' },
    ],
    yLabel: 'events/s',
    xLabel: 'seconds',
    note:
      'Blue: events stored in each second; red: 5-s averages (the figures in BENCHMARKS.md). Green: the raw insert loop of the same run, alone on the machine. Grey: events offered per second (the application writes as fast as the ring takes them, so this is what it tried, accepted or refused). ' +
      'A dip is a second in which fewer events were committed: a long SQLite commit or WAL checkpoint, or the machine giving the writers less CPU (it is shared); the ring absorbs it, nothing is lost.',
  }),
)
console.log(lines.join('\n'))
rmSync(dir, { recursive: true, force: true })
