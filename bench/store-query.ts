// Store query and size benchmark: the SQLite store against its schema-2 layout and the naive
// layout, side by side in one run. (1) Bytes per stored event on disk (file after a TRUNCATE
// checkpoint, indexes included) for the reference event as the writer enriches it, for the
// `varied` mix, and for the events of a demo store if one is given. (2) Query latency on a store
// of --events events of the `varied` profile: 10,000 events by pid, by time range, by
// module/function/arity, by AST node, by correlation id, stats() and getEvent; median of --reps,
// as wall time and as the process's CPU time (which the machine's load inflates far less).
// --base names another build of @ringside/storage (its dist/index.js, e.g. one of the main branch):
// it reads the same store file, interleaved with this one, for before/after ratios in one run.
// Usage: npx tsx bench/store-query.ts [--events 1000000] [--reps 21] [--size-events 200000]
//          [--demo-db path/to/ringside-events.db] [--skip-queries] [--base path/to/dist/index.js]
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { SqliteStore, type EventRecord } from '@ringside/storage'
import { recordSource, type Profile } from './store-data.js'
import { openNaive } from './store-naive.js'
import { openV2 } from './store-v2.js'

const argv = process.argv.slice(2)
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? dflt : (argv[i + 1] ?? dflt)
}
const EVENTS = Number(opt('events', '1000000'))
const REPS = Number(opt('reps', '21'))
const SIZE_EVENTS = Number(opt('size-events', '200000'))
const DEMO_DB = opt('demo-db', '')
const SKIP_QUERIES = argv.includes('--skip-queries')
const BASE = opt('base', '')

const dir = mkdtempSync(join(tmpdir(), 'ringside-store-query-'))
let fileNo = 0
const freshPath = (): string => join(dir, `q-${++fileNo}.db`)
const drop = (path: string): void => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

type Layout = 'store' | 'v2' | 'naive'
const LAYOUTS: readonly Layout[] = ['store', 'v2', 'naive']

/** Writes `batches` into a fresh file in `layout`; returns its path, closed and checkpointed. */
async function build(layout: Layout, batches: readonly (readonly EventRecord[])[]): Promise<string> {
  const path = freshPath()
  if (layout === 'store') {
    const s = SqliteStore.open({ path })
    for (const b of batches) await s.storeEvents(b)
    await s.close()
  } else {
    const w = layout === 'v2' ? openV2(path) : openNaive(path)
    for (const b of batches) w.storeEvents(b)
    w.close()
  }
  const db = new Database(path)
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return path
}

function bytesPerEvent(path: string, events: number): number {
  return (statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / events
}

/** Bytes per event by table or index (SQLite's dbstat), the largest first. */
function breakdown(path: string, events: number): string {
  const db = new Database(path, { readonly: true })
  const rows = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as { name: string; bytes: number }[]
  db.close()
  return rows.filter((r) => r.bytes / events >= 0.5).map((r) => `${r.name} ${fmt(r.bytes / events, 1)}`).join(', ')
}

function batchesOf(records: readonly EventRecord[]): EventRecord[][] {
  const out: EventRecord[][] = []
  for (let i = 0; i < records.length; i += 1_000) out.push(records.slice(i, i + 1_000))
  return out
}

function generated(profile: Profile, count: number): EventRecord[][] {
  const src = recordSource(7, profile)
  const out: EventRecord[][] = []
  for (let left = count; left > 0; left -= 1_000) out.push(src.next(Math.min(1_000, left)))
  return out
}

console.log('## Store queries and size\n')
console.log(`- machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}; load average at start ${loadavg().map((x) => x.toFixed(1)).join(', ')}`)
console.log(`- date: ${new Date().toISOString()}`)
console.log(`- command: npx tsx bench/store-query.ts ${argv.join(' ')}`.trimEnd())
console.log('- layouts: store = the SQLite store (schema 3); v2 = its schema-2 layout (bench/store-v2.ts); naive = bench/store-naive.ts\n')

console.log('### bytes per stored event (file after a TRUNCATE checkpoint, indexes included)\n')
console.log('| events | count | store | v2 | naive | store: where the bytes go (per event) |')
console.log('|---|---:|---:|---:|---:|---|')
const sizeSets: [string, () => Promise<EventRecord[][]>][] = [
  ['reference event, writer enrichment (profile writer)', async () => generated('writer', SIZE_EVENTS)],
  ['varied mix (profile varied)', async () => generated('varied', SIZE_EVENTS)],
]
if (DEMO_DB !== '') {
  sizeSets.push([
    `the demo's events (${DEMO_DB})`,
    async () => {
      const s = SqliteStore.open({ path: DEMO_DB, readOnly: true })
      const all = await s.query({ order: 'asc' })
      await s.close()
      return batchesOf(all)
    },
  ])
}
for (const [name, make] of sizeSets) {
  const batches = await make()
  const count = batches.reduce((n, b) => n + b.length, 0)
  const sizes: number[] = []
  let detail = ''
  for (const layout of LAYOUTS) {
    const path = await build(layout, batches)
    sizes.push(bytesPerEvent(path, count))
    if (layout === 'store') detail = breakdown(path, count)
    drop(path)
  }
  console.log(`| ${name} | ${fmt(count)} | ${sizes.map((b) => `${fmt(b)} B`).join(' | ')} | ${detail} |`)
}

if (!SKIP_QUERIES) {
  // The schema-2 and naive layouts read as the store did before schema 3: rows plus JSON.parse.
  const readV2 = (db: Database.Database, where: string, params: unknown[], limit: number): EventRecord[] => {
    const rows = db
      .prepare(
        `SELECT r.ring_id AS ringId, e.seq AS seq, e.captured_at AS capturedAt, e.body AS body FROM events AS e CROSS JOIN rings AS r ON r.ring_no = e.ring_no
         WHERE ${where} ORDER BY e.captured_at DESC, r.ring_id DESC, e.seq DESC LIMIT ?`,
      )
      .all(...params, limit) as { ringId: string; seq: number; capturedAt: number; body: string }[]
    return rows.map((r) => ({ key: `${r.ringId}:${r.seq}`, ringId: r.ringId, seq: r.seq, capturedAt: r.capturedAt, event: JSON.parse(r.body) as Record<string, unknown> }))
  }
  const readNaive = (db: Database.Database, where: string, params: unknown[], limit: number): EventRecord[] => {
    const rows = db
      .prepare(`SELECT key, ring_id AS ringId, seq, captured_at AS capturedAt, body FROM events AS e WHERE ${where} ORDER BY captured_at DESC, ring_id DESC, seq DESC LIMIT ?`)
      .all(...params, limit) as { key: string; ringId: string; seq: number; capturedAt: number; body: string }[]
    return rows.map((r) => ({ key: r.key, ringId: r.ringId, seq: r.seq, capturedAt: r.capturedAt, event: JSON.parse(r.body) as Record<string, unknown> }))
  }

  let batches: EventRecord[][] = generated('varied', EVENTS)
  const mid = batches[Math.floor(batches.length / 2)]?.[500] as EventRecord
  const t0 = mid.capturedAt
  const e = mid.event as Record<string, string | number>
  const LIMIT = 10_000
  interface Q {
    name: string
    store: (s: SqliteStore) => Promise<unknown>
    sql: [where: string, params: unknown[]]
  }
  const qs: Q[] = [
    { name: `by pid (${e.pid}), limit ${LIMIT}`, store: (s) => s.query({ pid: e.pid as string, limit: LIMIT }), sql: ['e.pid = ?', [e.pid]] },
    { name: `by time range (100 ms = ~10,000 events), limit ${LIMIT}`, store: (s) => s.query({ since: t0, until: t0 + 100, limit: LIMIT }), sql: ['e.captured_at >= ? AND e.captured_at <= ?', [t0, t0 + 100]] },
    {
      name: `by module/function/arity (${e.module}.${e.function}/${e.arity})`,
      store: (s) => s.query({ module: e.module as string, function: e.function as string, arity: e.arity as number, limit: LIMIT }),
      sql: ['e.module = ? AND e.function = ? AND e.arity = ?', [e.module, e.function, e.arity]],
    },
    { name: 'by AST node (n_1234)', store: (s) => s.query({ astNodeId: 'n_1234', limit: LIMIT }), sql: ['e.ast_node_id = ?', ['n_1234']] },
    { name: 'by correlation id', store: (s) => s.query({ correlationId: e.correlationId as string, limit: LIMIT }), sql: ['e.correlation_id = ?', [e.correlationId]] },
  ]

  const paths = new Map<Layout, string>()
  for (const layout of LAYOUTS) paths.set(layout, await build(layout, batches))
  // Let the million generated events go: kept alive, they made every contender's queries pay for
  // collecting a heap of a gigabyte (process CPU time counts V8's marking threads too).
  batches = []
  const store = SqliteStore.open({ path: paths.get('store') as string })
  const base: SqliteStore | undefined =
    BASE === '' ? undefined : ((await import(pathToFileURL(resolvePath(BASE)).href)) as { SqliteStore: typeof SqliteStore }).SqliteStore.open({ path: paths.get('store') as string, readOnly: true })
  const v2 = new Database(paths.get('v2') as string, { readonly: true })
  const naive = new Database(paths.get('naive') as string, { readonly: true })
  for (const db of [v2, naive]) {
    db.pragma('cache_size = -65536')
    db.pragma('temp_store = MEMORY')
  }
  console.log(`\n### queries on ${fmt(EVENTS)} events (profile varied; ${REPS} runs each after 2 warm-up runs; ms, median (min-max); CPU: ms of process CPU time, median)${base === undefined ? '' : `; base = ${BASE}`}\n`)
  type Timed = { ms: number[]; cpu: number[]; n: number }
  const timeOnce = async (f: () => unknown): Promise<{ ms: number; cpu: number; n: number }> => {
    const c = process.cpuUsage()
    const t = performance.now()
    const out = await f()
    const ms = performance.now() - t
    const used = process.cpuUsage(c)
    return { ms, cpu: (used.user + used.system) / 1000, n: Array.isArray(out) ? out.length : 1 }
  }
  /** Runs each of `fs` REPS + 2 times, rep by rep in turn (first one, then the other), so they meet the same load; the first 2 reps are warm-up. */
  const timeEach = async (...fs: (() => unknown)[]): Promise<Timed[]> => {
    const out = fs.map((): Timed => ({ ms: [], cpu: [], n: 0 }))
    for (let rep = 0; rep < REPS + 2; rep++) {
      for (let k = 0; k < fs.length; k++) {
        const i = rep % 2 === 0 ? k : fs.length - 1 - k
        const one = await timeOnce(fs[i] as () => unknown)
        const into = out[i] as Timed
        if (rep >= 2) {
          into.ms.push(one.ms)
          into.cpu.push(one.cpu)
        }
        into.n = one.n
      }
    }
    return out
  }
  const time = async (f: () => unknown): Promise<Timed> => (await timeEach(f))[0] as Timed
  const NONE: Timed = { ms: [NaN], cpu: [NaN], n: 0 }
  const timePair = async (f: () => unknown, g: () => unknown): Promise<[Timed, Timed]> =>
    base === undefined ? [await time(f), NONE] : ((await timeEach(f, g)) as [Timed, Timed])
  const cell = (r: { ms: number[] }): string => `${fmt(median(r.ms), 2)} (${fmt(Math.min(...r.ms), 2)}-${fmt(Math.max(...r.ms), 2)})`
  const cpuCell = (r: { cpu: number[] }): string => fmt(median(r.cpu), 2)
  const baseCells = (a: Timed, b: Timed): string =>
    base === undefined ? '' : ` ${cell(b)} | ${cpuCell(b)} | ${(median(a.ms) / median(b.ms)).toFixed(2)} | ${(median(a.cpu) / median(b.cpu)).toFixed(2)} |`
  console.log(`| query | events returned | store | store CPU |${base === undefined ? '' : ' base | base CPU | store / base | store / base, CPU |'} v2 | naive | store / v2 |`)
  console.log(`|---|---:|---:|---:|${base === undefined ? '' : '---:|---:|---:|---:|'}---:|---:|---:|`)
  for (const q of qs) {
    const [a, ab] = await timePair(() => q.store(store), () => q.store(base as SqliteStore))
    const b = await time(() => readV2(v2, q.sql[0], q.sql[1], LIMIT))
    const c = await time(() => readNaive(naive, q.sql[0], q.sql[1], LIMIT))
    console.log(`| ${q.name} | ${fmt(a.n)} | ${cell(a)} | ${cpuCell(a)} |${baseCells(a, ab)} ${cell(b)} | ${cell(c)} | ${(median(a.ms) / median(b.ms)).toFixed(2)} |`)
  }
  const statsV2 = (db: Database.Database): unknown =>
    db.prepare(`SELECT (SELECT value FROM counters WHERE name = 'events') AS total, (SELECT min(captured_at) FROM events) AS oldest, (SELECT max(captured_at) FROM events) AS newest`).get()
  const [st, stB] = await timePair(() => store.stats(), () => (base as SqliteStore).stats())
  const st2 = await time(() => statsV2(v2))
  const stN = await time(() => naive.prepare('SELECT count(*), min(captured_at), max(captured_at) FROM events').get())
  console.log(`| stats() (naive: count(*)) | - | ${cell(st)} | ${cpuCell(st)} |${baseCells(st, stB)} ${cell(st2)} | ${cell(stN)} | ${(median(st.ms) / median(st2.ms)).toFixed(2)} |`)
  const key = mid.key
  const [g, gB] = await timePair(() => store.getEvent(key), () => (base as SqliteStore).getEvent(key))
  const g2 = await time(() => readV2(v2, 'e.ring_no = (SELECT ring_no FROM rings WHERE ring_id = ?) AND e.seq = ?', [mid.ringId, mid.seq], 1))
  const gN = await time(() => readNaive(naive, 'key = ?', [key], 1))
  console.log(`| getEvent | 1 | ${cell(g)} | ${cpuCell(g)} |${baseCells(g, gB)} ${cell(g2)} | ${cell(gN)} | ${(median(g.ms) / median(g2.ms)).toFixed(2)} |`)
  if (base !== undefined) {
    // The same events, in the same order, from both builds.
    for (const q of qs) {
      if (JSON.stringify(await q.store(store)) !== JSON.stringify(await q.store(base))) throw new Error(`${q.name}: this build and --base return different events`)
    }
    await base.close()
  }
  await store.close()
  v2.close()
  naive.close()
  console.log(`\nfile sizes after building: ${LAYOUTS.map((l) => `${l} ${fmt(bytesPerEvent(paths.get(l) as string, EVENTS))} B/event`).join(', ')}`)
  console.log(`load average at end ${loadavg().map((x) => x.toFixed(1)).join(', ')}`)
}

rmSync(dir, { recursive: true, force: true })
