// Retention's price and effect on the SQLite store. Part 1, side by side in one run: the writers'
// rate (app thread writing as fast as the ring takes events) and p99 capture->commit (at a steady
// rate) into a store already at its limit, with `retention.maxEvents` running and without it,
// alternating the order per round. Part 2: a sustained run at a steady rate with maxEvents, the
// file (database + WAL) sampled every 5 s, written as an SVG; the file must stop growing.
// Usage: npx tsx bench/retention.ts [--seconds 10] [--runs 3] [--limit 200000] [--rate 20000]
//        [--sustained-minutes 10] [--sustained-rate 5000] [--sustained-limit 1000000] [--chart bench/results/retention-file-size.svg]
// Prints its report as markdown on stdout (bench/run.ts keeps it as bench/results/retention.md).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineManager } from '@ringside/pipeline-manager'
import { SqliteStore, type EventRecord, type StoreSpec } from '@ringside/storage'
import { lineChart, mayWriteChart } from './chart.js'
import { boot, fmt, median, producerEntry, runPipeline, sleep, spread, type RunResult } from './e2e.js'

const argOf = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? d : Number(process.argv[i + 1])
}
const SECONDS = argOf('seconds', 10)
const RUNS = argOf('runs', 3)
const LIMIT = argOf('limit', 200_000)
const RATE = argOf('rate', 20_000)
const S_MINUTES = argOf('sustained-minutes', 10)
const S_RATE = argOf('sustained-rate', 5_000)
const S_LIMIT = argOf('sustained-limit', 1_000_000)
const CHART = (() => {
  const i = process.argv.indexOf('--chart')
  return i === -1 ? 'bench/results/retention-file-size.svg' : (process.argv[i + 1] as string)
})()
// --chart names a file of the user's: refuse at once to write over anything but a chart of ours.
if (!mayWriteChart(CHART, (p) => (existsSync(p) ? readFileSync(p, 'utf8').slice(0, 4096) : undefined))) {
  console.error(`bench/retention.ts: --chart ${CHART} exists and is not a chart written by a benchmark; it is left as it is: choose another path`)
  process.exit(2)
}
const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-retention-'))
const sizeOf = (p: string): number => statSync(p, { throwIfNoEntry: false })?.size ?? 0
const size = (p: string): number => sizeOf(p) + sizeOf(`${p}-wal`)

/** A new file with auto_vacuum = INCREMENTAL, as new stores get it (SQLite takes it only before the first table). */
function incrementalFile(path: string): void {
  const db = new Database(path)
  db.pragma('auto_vacuum = INCREMENTAL')
  db.exec('VACUUM')
  db.close()
}

/** A store holding `n` events shaped like the producer's, captured before now. */
async function prefilled(n: number): Promise<string> {
  const path = join(dir, 'template.db')
  incrementalFile(path)
  const store = SqliteStore.open({ path })
  const ringId = 'feedfacefeedfacefeedfacefeedface'
  const t0 = Date.now() - n
  for (let from = 0; from < n; from += 5_000) {
    const batch: EventRecord[] = []
    for (let seq = from; seq < Math.min(n, from + 5_000); seq++) {
      batch.push({ key: `${ringId}:${seq}`, ringId, seq, capturedAt: t0 + seq, event: { type: 'call', pid: '<0.123.0>', module: 'MyApp.Worker', function: 'handle_call', arity: 3, astNodeId: `n_${seq % 1000}`, data: { k: 'v', n: seq } } })
    }
    await store.storeEvents(batch)
  }
  await store.close()
  return path
}

let fileNo = 0
async function abRun(template: string, retention: boolean, rate?: number): Promise<RunResult> {
  const path = join(dir, `run-${++fileNo}.db`)
  copyFileSync(template, path)
  const spec: StoreSpec = { kind: 'sqlite', path, ...(retention ? { retention: { maxEvents: LIMIT } } : {}) }
  try {
    return await runPipeline(spec, 2, SECONDS, rate)
  } finally {
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true })
  }
}

async function sustained(): Promise<{ sizes: number[]; dbSizes: number[]; counts: number[]; atLimit?: { t: number; size: number }; final: { size: number; count: number }; storedPerSec: number }> {
  const path = join(dir, 'sustained.db')
  incrementalFile(path)
  const ring = RingBuffer.create({ size: 1 << 16 })
  const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path, retention: { maxEvents: S_LIMIT } }, preset: 'throughput', poolSize: 2 })
  const control = new Int32Array(new SharedArrayBuffer(4))
  const app = new Worker(boot, { workerData: { entry: producerEntry, handle: ring.handle, control, ratePerSec: S_RATE } })
  const done = new Promise<unknown>((resolve) => app.once('message', resolve))
  const counter = new Database(path, { readonly: true })
  const count = (): number => counter.prepare("SELECT value FROM counters WHERE name = 'events'").pluck().get() as number
  const sizes: number[] = []
  const dbSizes: number[] = []
  const counts: number[] = []
  let atLimit: { t: number; size: number } | undefined
  const t0 = performance.now()
  for (let s = 5; s <= S_MINUTES * 60; s += 5) {
    await sleep(t0 + s * 1000 - performance.now())
    sizes.push(size(path))
    dbSizes.push(sizeOf(path))
    counts.push(count())
    if (atLimit === undefined && pipeline.getMetrics().totals.eventsStored >= S_LIMIT) atLimit = { t: s, size: size(path) }
  }
  const stored = pipeline.getMetrics().totals.eventsStored
  Atomics.store(control, 0, 1)
  await done
  await app.terminate()
  counter.close()
  await pipeline.stop({ timeoutMs: 60_000 })
  const db = new Database(path, { readonly: true })
  const final = { size: size(path), count: db.prepare('SELECT count(*) FROM events').pluck().get() as number }
  db.close()
  return { sizes, dbSizes, counts, ...(atLimit ? { atLimit } : {}), final, storedPerSec: stored / (S_MINUTES * 60) }
}

const say = (s = ''): void => console.log(s)
const started = new Date().toISOString()
say(`# Retention on the SQLite store`)
say()
say(`Run ${started}; ${cpus().length} × ${cpus()[0]?.model.trim()}; Node ${process.version}; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`)
say(`Command: \`npx tsx bench/retention.ts ${process.argv.slice(2).join(' ')}\``)
say()
const template = await prefilled(LIMIT)
say(`## Part 1: writers with and without retention, store at its limit (${fmt(LIMIT)} events), 2 writers, ${SECONDS} s per run, ${RUNS} rounds`)
say()
const rate = { off: [] as number[], on: [] as number[] }
const p99 = { off: [] as number[], on: [] as number[] }
for (let r = 0; r < RUNS; r++) {
  // Alternate which goes first, so a drift of the machine's load does not favour one side.
  const order: ('off' | 'on')[] = r % 2 === 0 ? ['off', 'on'] : ['on', 'off']
  for (const mode of order) {
    const sat = await abRun(template, mode === 'on')
    const paced = await abRun(template, mode === 'on', RATE)
    rate[mode].push(sat.perSec)
    p99[mode].push(paced.p99 ?? NaN)
    console.error(`round ${r + 1} ${mode}: ${fmt(sat.perSec)} events/s saturated; p99 ${fmt(paced.p99)} ms at ${fmt(RATE)}/s (balanced ${sat.balanced}/${paced.balanced})`)
  }
}
const ratios = rate.on.map((x, i) => x / (rate.off[i] as number))
say(`| | without retention | with retention (maxEvents ${fmt(LIMIT)}) | with / without |`)
say(`|---|---|---|---|`)
say(`| writers' rate, events/s (median; spread) | ${fmt(median(rate.off))} (${spread(rate.off)}) | ${fmt(median(rate.on))} (${spread(rate.on)}) | ${median(ratios).toFixed(2)}× (per round ${ratios.map((x) => x.toFixed(2)).join(', ')}) |`)
say(`| p99 capture→commit at ${fmt(RATE)} events/s, ms (median; spread) | ${fmt(median(p99.off))} (${spread(p99.off)}) | ${fmt(median(p99.on))} (${spread(p99.on)}) | ${(median(p99.on) / median(p99.off)).toFixed(2)}× |`)
say()
say(`Load average after part 1: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`)
say()
say(`## Part 2: ${S_MINUTES} minutes at ${fmt(S_RATE)} events/s with maxEvents ${fmt(S_LIMIT)} (file with auto_vacuum = INCREMENTAL)`)
say()
const s = await sustained()
say(`Stored ${fmt(s.storedPerSec)} events/s on average. The store reached ${fmt(S_LIMIT)} events at ${s.atLimit ? `${s.atLimit.t} s, when the file (database + WAL) was ${(s.atLimit.size / 1e6).toFixed(1)} MB` : '(never)'}.`)
say(`Largest file seen after that: ${(Math.max(...s.sizes.slice(s.atLimit ? s.atLimit.t / 5 - 1 : 0)) / 1e6).toFixed(1)} MB; events held at the end: ${fmt(s.final.count)}; file at the end (after stop's checkpoint): ${(s.final.size / 1e6).toFixed(1)} MB.`)
say()
const after = s.atLimit ? s.atLimit.t / 5 - 1 : 0
say(`Database file alone: ${((s.dbSizes[after] ?? 0) / 1e6).toFixed(1)} MB when the limit was reached, at most ${(Math.max(...s.dbSizes.slice(after)) / 1e6).toFixed(1)} MB after, ${((s.dbSizes[s.dbSizes.length - 1] ?? 0) / 1e6).toFixed(1)} MB at the last sample.`)
say()
say(`| t (s) | database + WAL, MB | database, MB | events (counter) |`)
say(`|---|---|---|---|`)
for (let i = 0; i < s.sizes.length; i += Math.max(1, Math.floor(s.sizes.length / 24))) say(`| ${(i + 1) * 5} | ${((s.sizes[i] as number) / 1e6).toFixed(1)} | ${((s.dbSizes[i] as number) / 1e6).toFixed(1)} | ${fmt(s.counts[i])} |`)
say()
say(`Load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`)
// The database file is what retention bounds; the WAL beside it cycles up to walAutocheckpointPages whatever the limit.
writeFileSync(CHART, lineChart({ title: `SQLite database file, retention maxEvents ${fmt(S_LIMIT)}, ${fmt(S_RATE)} events/s`, values: s.dbSizes.map((b) => b / 1e6), xLabel: 'sample (every 5 s)', yLabel: 'MB' }))
say()
say(`Chart: ${CHART}`)
rmSync(dir, { recursive: true, force: true })
