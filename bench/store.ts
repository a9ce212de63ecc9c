// Store benchmark: rows/s of the SQLite adapter's storeEvents against raw better-sqlite3 inserting
// the same rows into the same schema, at batches of 100, 1000 and 10000, in one run; then
// sustained runs at batch 1000 reporting rows/s per window, so any decay as the file grows shows.
// Usage: npx tsx bench/store.ts [--reps 5] [--rows 300000] [--duration 60] [--window 5]
//          [--sustained adapter,adapter-ckpt,raw,naive,v2] [--sustained-reps 1] [--variants] [--variant-duration 30]
//          [--skip-batches] [--index-stats]
//          [--profile writer|uuid|uuid-v7|varied] [--db file|memory] [--checkpoint PAGES]
// (STORE_BENCH_DURATION=<s> also sets --duration.) Prints a Markdown report.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SQLITE_DEFAULTS, SqliteStore, type EventRecord } from '@ringside/storage'
import { recordSource, type Profile } from './store-data.js'
import { openNaive, type NaiveFixes } from './store-naive.js'
import { openRaw } from './store-raw.js'
import { openV2 } from './store-v2.js'

const argv = process.argv.slice(2)
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? dflt : (argv[i + 1] ?? dflt)
}
const flag = (name: string): boolean => argv.includes(`--${name}`)
const REPS = Number(opt('reps', '5'))
const ROWS = Number(opt('rows', '300000'))
const DURATION_S = Number(opt('duration', process.env.STORE_BENCH_DURATION ?? '60'))
const WINDOW_S = Number(opt('window', '5'))
const SUSTAINED = opt('sustained', 'adapter,raw,naive').split(',').filter((s) => s.length > 0)
const VARIANT_S = Number(opt('variant-duration', '30'))
const SUSTAINED_REPS = Number(opt('sustained-reps', '1'))
const PROFILE = opt('profile', 'writer') as Profile
const IN_MEMORY = opt('db', 'file') === 'memory'
const CHECKPOINT = Number(opt('checkpoint', String(SQLITE_DEFAULTS.walAutocheckpointPages)))
const BATCH_SIZES = [100, 1_000, 10_000]

const dir = mkdtempSync(join(tmpdir(), 'ringside-store-bench-'))
let fileNo = 0
const freshPath = (): string => join(dir, `bench-${++fileNo}.db`)
const fileBytes = (path: string): number => {
  const size = (p: string): number => statSync(p, { throwIfNoEntry: false })?.size ?? 0
  return size(path) + size(`${path}-wal`)
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')

/** A contender: opens a fresh file, writes batches, closes. */
interface Writer {
  storeEvents(batch: readonly EventRecord[]): Promise<unknown> | unknown
  close(): Promise<void> | void
}


function openAdapter(path: string): Writer {
  return SqliteStore.open({ path, walAutocheckpointPages: CHECKPOINT })
}

/**
 * The adapter called as a pipeline's writer calls it: `checkpoint()` after every batch, its time
 * counted with the batch's (one connection: nothing overlaps it here, as another writer's commit
 * does in a pipeline), so the WAL is copied every walCheckpointPages pages instead of in the commit
 * that crosses walAutocheckpointPages.
 */
function openAdapterCheckpointing(path: string): Writer {
  const store = SqliteStore.open({ path, walAutocheckpointPages: CHECKPOINT })
  return {
    storeEvents: async (b) => {
      await store.storeEvents(b)
      await store.checkpoint()
    },
    close: () => store.close(),
  }
}

async function openRawWriter(path: string, ringId: string): Promise<Writer> {
  return openRaw(path, ringId, { scratchPath: freshPath(), walAutocheckpointPages: CHECKPOINT })
}

function openNaiveWriter(path: string, fixes: NaiveFixes = {}): Writer {
  const n = openNaive(path, fixes)
  return { storeEvents: (b) => n.storeEvents(b), close: () => n.close() }
}

type Kind = 'adapter' | 'adapter-ckpt' | 'raw' | 'naive' | 'v2'
async function open(kind: Kind, path: string, ringId: string): Promise<Writer> {
  if (kind === 'adapter') return openAdapter(path)
  if (kind === 'adapter-ckpt') return openAdapterCheckpointing(path)
  if (kind === 'v2') {
    const v2 = openV2(path, CHECKPOINT)
    return { storeEvents: (b) => v2.storeEvents(b), close: () => v2.close() }
  }
  if (kind === 'raw') return openRawWriter(path, ringId)
  return openNaiveWriter(path)
}

/** rows/s of one contender writing ROWS rows in batches of `size` into a fresh file. */
async function batchRun(kind: Kind, size: number): Promise<number> {
  const src = recordSource(42, PROFILE)
  const batches: EventRecord[][] = []
  for (let left = ROWS; left > 0; left -= size) batches.push(src.next(Math.min(size, left)))
  const path = IN_MEMORY ? ':memory:' : freshPath()
  const w = await open(kind, path, src.ringId)
  const t0 = performance.now()
  for (const b of batches) await w.storeEvents(b)
  const ms = performance.now() - t0
  await w.close()
  if (!IN_MEMORY) for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
  return (ROWS / ms) * 1000
}

interface Window { readonly endS: number; readonly rowsPerS: number; readonly totalRows: number; readonly fileMiB: number }

/** Writes batches of 1000 for `seconds`; rows/s per window counts only time inside storeEvents. */
async function sustained(w: Writer, path: string, seconds: number, seed: number): Promise<Window[]> {
  const src = recordSource(seed, PROFILE)
  const windows: Window[] = []
  const start = performance.now()
  let windowEnd = start + WINDOW_S * 1000
  let rows = 0
  let total = 0
  let storeMs = 0
  for (;;) {
    const batch = src.next(1_000)
    const t0 = performance.now()
    await w.storeEvents(batch)
    const t1 = performance.now()
    storeMs += t1 - t0
    rows += batch.length
    total += batch.length
    if (t1 >= windowEnd) {
      windows.push({ endS: (t1 - start) / 1000, rowsPerS: (rows / storeMs) * 1000, totalRows: total, fileMiB: fileBytes(path) / 2 ** 20 })
      rows = 0
      storeMs = 0
      windowEnd += WINDOW_S * 1000
      if (t1 - start >= seconds * 1000) break
    }
  }
  return windows
}

/** Single windows are noisy (a checkpoint lands in one of them): also compare the first two and the last two. */
function summary(ws: readonly Window[]): { first: number; last: number; head: number; tail: number; min: number; max: number } {
  const rates = ws.map((w) => w.rowsPerS)
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  return {
    first: rates[0] ?? 0,
    last: rates.at(-1) ?? 0,
    head: mean(rates.slice(0, 2)),
    tail: mean(rates.slice(-2)),
    min: Math.min(...rates),
    max: Math.max(...rates),
  }
}

function printWindows(name: string, ws: readonly Window[]): void {
  console.log(`\n#### ${name}\n`)
  console.log('| window end (s) | rows/s | rows so far | file + WAL (MiB) |')
  console.log('|---:|---:|---:|---:|')
  for (const w of ws) console.log(`| ${w.endS.toFixed(1)} | ${fmt(w.rowsPerS)} | ${fmt(w.totalRows)} | ${w.fileMiB.toFixed(0)} |`)
  const s = summary(ws)
  console.log(`\nfirst window ${fmt(s.first)}, last ${fmt(s.last)}; first two ${fmt(s.head)}, last two ${fmt(s.tail)} (last two / first two ${(s.tail / s.head).toFixed(2)}); min ${fmt(s.min)}, max ${fmt(s.max)}`)
}

console.log('## Store benchmark\n')
console.log(`- machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, better-sqlite3 ${(await import('better-sqlite3/package.json', { with: { type: 'json' } })).default.version}, SQLite ${(new Database(':memory:').prepare('select sqlite_version() v').get() as { v: string }).v}`)
console.log(`- date: ${new Date().toISOString()}`)
console.log(`- command: npx tsx bench/store.ts ${argv.join(' ')}`.trimEnd())
console.log(`- data profile: ${PROFILE} (see bench/store-data.ts)`)
console.log(`- files in ${tmpdir()}; adapter defaults ${JSON.stringify(SQLITE_DEFAULTS)}; walAutocheckpointPages used: ${CHECKPOINT}`)

if (!flag('skip-batches')) {
  const where = IN_MEMORY ? 'a fresh :memory: database' : 'a fresh file'
  console.log(`\n### rows/s by batch size (${ROWS.toLocaleString('en-US')} rows into ${where} per run, ${REPS} runs each, median and min-max)\n`)
  console.log('| batch | adapter storeEvents | raw better-sqlite3 | adapter / raw |')
  console.log('|---:|---:|---:|---:|')
  for (const size of BATCH_SIZES) {
    const a: number[] = []
    const r: number[] = []
    await batchRun('adapter', size) // warm-up, not counted
    for (let rep = 0; rep < REPS; rep++) {
      // Alternate who goes first so drift (page cache, CPU frequency) does not favour one side.
      if (rep % 2 === 0) {
        a.push(await batchRun('adapter', size))
        r.push(await batchRun('raw', size))
      } else {
        r.push(await batchRun('raw', size))
        a.push(await batchRun('adapter', size))
      }
    }
    const ratios = a.map((x, i) => x / (r[i] as number))
    console.log(
      `| ${fmt(size)} | ${fmt(median(a))} (${fmt(Math.min(...a))}-${fmt(Math.max(...a))}) | ${fmt(median(r))} (${fmt(Math.min(...r))}-${fmt(Math.max(...r))}) | ${(median(ratios) * 100).toFixed(1)} % (${(Math.min(...ratios) * 100).toFixed(0)}-${(Math.max(...ratios) * 100).toFixed(0)} %) |`,
    )
  }
}

if (SUSTAINED.length > 0 && DURATION_S > 0) {
  console.log(`\n### sustained: batches of 1000 for ${DURATION_S} s, rows/s per ${WINDOW_S}-s window${SUSTAINED_REPS > 1 ? `, median of ${SUSTAINED_REPS} runs per window (min-max)` : ''}`)
  const runs = new Map<Kind, Window[][]>()
  for (let rep = 0; rep < SUSTAINED_REPS; rep++) {
    // Rotate the order each repetition so no contender always runs first (or after the others).
    const order = SUSTAINED.map((_, i) => SUSTAINED[(i + rep) % SUSTAINED.length] as Kind)
    for (const kind of order) {
      const path = freshPath()
      const src = recordSource(7, PROFILE)
      const w = await open(kind, path, src.ringId)
      const ws = await sustained(w, path, DURATION_S, 7)
      await w.close()
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
      runs.set(kind, [...(runs.get(kind) ?? []), ws])
    }
  }
  // Over the whole run: rows / seconds spent inside storeEvents; and the last 10 s against the first 10 s.
  const overall = (ws: readonly Window[]): number => {
    let secs = 0
    let prev = 0
    for (const w of ws) {
      secs += (w.totalRows - prev) / w.rowsPerS
      prev = w.totalRows
    }
    return prev / secs
  }
  const tenS = Math.max(1, Math.round(10 / WINDOW_S))
  const ends = (ws: readonly Window[]): number => {
    const rates = ws.map((w) => w.rowsPerS)
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
    return mean(rates.slice(-tenS)) / mean(rates.slice(0, tenS))
  }
  const naiveRuns = runs.get('naive')
  console.log(`\n| contender | rows/s over the run, median (min-max) | / naive, median of runs (min-max) | last 10 s / first 10 s, median (min-max) |`)
  console.log('|---|---:|---:|---:|')
  const spread = (xs: number[], f: (x: number) => string): string => `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`
  for (const [kind, all] of runs) {
    const rates = all.map(overall)
    const vsNaive = naiveRuns === undefined ? [] : rates.map((r, i) => r / overall(naiveRuns[i] as Window[]))
    console.log(`| ${kind} | ${spread(rates, fmt)} | ${vsNaive.length === 0 ? '-' : spread(vsNaive, (x) => x.toFixed(2))} | ${spread(all.map(ends), (x) => x.toFixed(2))} |`)
  }
  for (const [kind, all] of runs) {
    if (all.length === 1) {
      printWindows(kind, all[0] as Window[])
      continue
    }
    const n = Math.min(...all.map((ws) => ws.length))
    const merged: Window[] = []
    const spreads: string[] = []
    for (let i = 0; i < n; i++) {
      const at = all.map((ws) => ws[i] as Window)
      const rates = at.map((w) => w.rowsPerS)
      merged.push({ endS: median(at.map((w) => w.endS)), rowsPerS: median(rates), totalRows: median(at.map((w) => w.totalRows)), fileMiB: median(at.map((w) => w.fileMiB)) })
      spreads.push(`${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))}`)
    }
    console.log(`\n#### ${kind}\n`)
    console.log('| window end (s) | rows/s, median | min-max | rows so far | file + WAL (MiB) |')
    console.log('|---:|---:|---:|---:|---:|')
    merged.forEach((w, i) => console.log(`| ${w.endS.toFixed(1)} | ${fmt(w.rowsPerS)} | ${spreads[i]} | ${fmt(w.totalRows)} | ${w.fileMiB.toFixed(0)} |`))
    const sm = summary(merged)
    console.log(`\nmedians: first two windows ${fmt(sm.head)}, last two ${fmt(sm.tail)} (last two / first two ${(sm.tail / sm.head).toFixed(2)}); rows in a run, median ${fmt(median(all.map((ws) => (ws.at(-1) as Window).totalRows)))}`)
  }
}

if (flag('variants')) {
  const variants: [string, NaiveFixes][] = [
    ['naive', {}],
    ['naive as first measured: json() bodies, one index per field', { sqliteJson: true, perFieldIndexes: true }],
    ['naive + 64 MiB cache', { cache: true }],
    ['naive + checkpoint every 50000 pages', { checkpoint: true }],
    ['naive + integer (ring_no, seq) key', { intKey: true }],
    ['naive + composite partial indexes', { indexes: true }],
    ['naive + key + indexes', { intKey: true, indexes: true }],
    ['naive + key + indexes + cache', { intKey: true, indexes: true, cache: true }],
    ['all fixes', { intKey: true, indexes: true, cache: true, checkpoint: true }],
    ['diagnosis: all fixes, no correlation_id index', { intKey: true, indexes: true, cache: true, checkpoint: true, noCorrelationIndex: true }],
    ['diagnosis: all fixes, synchronous=OFF', { intKey: true, indexes: true, cache: true, checkpoint: true, syncOff: true }],
  ]
  console.log(`\n### one fix at a time: batches of 1000 for ${VARIANT_S} s each\n`)
  console.log('| variant | first two windows, rows/s | last two windows, rows/s | last / first | rows in the run | file + WAL (MiB) |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const [name, fixes] of variants) {
    const path = freshPath()
    const w = openNaiveWriter(path, fixes)
    const ws = await sustained(w, path, VARIANT_S, 7)
    w.close()
    const sm = summary(ws)
    const last = ws.at(-1) as Window
    console.log(`| ${name} | ${fmt(sm.head)} | ${fmt(sm.tail)} | ${(sm.tail / sm.head).toFixed(2)} | ${fmt(last.totalRows)} | ${last.fileMiB.toFixed(0)} |`)
    rmSync(path, { force: true })
    rmSync(`${path}-wal`, { force: true })
    rmSync(`${path}-shm`, { force: true })
  }
}

if (flag('index-stats')) {
  // Where the pages go: leaf pages per table and index after ROWS rows in batches of 1000, and
  // how full they are (SQLite's dbstat). In-order inserts pack pages full; inserts that land in
  // the middle of a b-tree split pages and leave them about half full.
  console.log(`\n### b-tree leaf pages after ${fmt(ROWS)} rows in batches of 1000\n`)
  console.log('| design | table or index | leaf pages | MiB | average fill |')
  console.log('|---|---|---:|---:|---:|')
  for (const kind of ['naive', 'adapter'] as const) {
    const path = freshPath()
    const src = recordSource(7, PROFILE)
    const w = await open(kind, path, src.ringId)
    for (let left = ROWS; left > 0; left -= 1_000) await w.storeEvents(src.next(Math.min(1_000, left)))
    await w.close()
    const db = new Database(path, { readonly: true })
    const rows = db
      .prepare(
        `SELECT name, count(*) AS pages, sum(pgsize) AS bytes, 1.0 - sum(unused) * 1.0 / sum(pgsize) AS fill
         FROM dbstat WHERE pagetype = 'leaf' GROUP BY name ORDER BY pages DESC`,
      )
      .all() as { name: string; pages: number; bytes: number; fill: number }[]
    db.close()
    for (const r of rows) {
      if (r.pages < 2) continue
      console.log(`| ${kind} | ${r.name} | ${fmt(r.pages)} | ${(r.bytes / 2 ** 20).toFixed(1)} | ${(r.fill * 100).toFixed(0)} % |`)
    }
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
  }
}

rmSync(dir, { recursive: true, force: true })
