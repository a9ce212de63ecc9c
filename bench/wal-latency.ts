// WAL checkpoints into SQLite, side by side in one run: SQLite's autocheckpoint inside the commit
// that crosses `--pages` (walCheckpointPages 0) against the writers' checkpoint outside their turn
// at `--outside` pages (walAutocheckpointPages left at its default). Per variant and repetition:
// events/s flat out (throughput preset, --full-seconds; skipped at 0), then capture→commit latency
// with the default preset at --rate events/s and (--half) at half of the flat-out rate just measured.
// The largest WAL file seen during each run is sampled every 50 ms. Repetitions rotate the order.
// Usage: npx tsx bench/wal-latency.ts [--seconds 20] [--pages 50000,4000,1000] [--outside 1000,4000]
//          [--rate 10000] [--writers 2] [--full-seconds 0] [--half] [--reps 1]
// (--rate 0 makes the latency run itself flat out, with the default preset.)
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fmt, median, runPipeline, type RunResult } from './e2e.js'

const arg = (name: string, d: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? (process.argv[i + 1] as string) : d
}
const list = (s: string): number[] => s.split(',').filter((x) => x !== '').map(Number)
const seconds = Number(arg('seconds', '20'))
const pages = list(arg('pages', '50000,4000,1000'))
const outside = list(arg('outside', ''))
const rate = Number(arg('rate', '10000'))
const writers = Number(arg('writers', '2'))
const fullSeconds = Number(arg('full-seconds', '0'))
const half = process.argv.includes('--half')
const reps = Number(arg('reps', '1'))
const load = () => loadavg().map((x) => x.toFixed(1)).join(' / ')

interface Variant { readonly label: string; readonly options: Record<string, number> }
const variants: Variant[] = [
  ...pages.map((p) => ({ label: `in the commit, walAutocheckpointPages ${p}`, options: { walAutocheckpointPages: p, walCheckpointPages: 0 } })),
  ...outside.map((p) => ({ label: `outside the turn, walCheckpointPages ${p}`, options: { walCheckpointPages: p } })),
]
const dir = mkdtempSync(join(tmpdir(), 'ringside-wal-latency-'))
let n = 0

/** One pipeline run into a fresh file; also the largest WAL file seen while it ran, in MiB. */
async function run(v: Variant, s: number, perSec: number | undefined, preset: 'throughput' | 'balanced'): Promise<RunResult & { walMiB: number }> {
  const path = join(dir, `w-${++n}.db`)
  let wal = 0
  const sample = setInterval(() => (wal = Math.max(wal, statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)), 50)
  try {
    const r = await runPipeline({ kind: 'sqlite', path, ...v.options }, writers, s, perSec, { preset })
    return { ...r, walMiB: wal / 2 ** 20 }
  } finally {
    clearInterval(sample)
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
  }
}

type Runs = { full: (RunResult & { walMiB: number })[]; at: (RunResult & { walMiB: number })[]; half: (RunResult & { walMiB: number })[] }
const results = variants.map((): Runs => ({ full: [], at: [], half: [] }))
console.log(`${writers} writer(s); ${reps} repetition(s), order rotated; load average at start ${load()}`)
for (let rep = 0; rep < reps; rep++) {
  for (let k = 0; k < variants.length; k++) {
    const i = (k + rep) % variants.length
    const v = variants[i] as Variant
    const r = results[i] as Runs
    if (fullSeconds > 0) r.full.push(await run(v, fullSeconds, undefined, 'throughput'))
    r.at.push(await run(v, seconds, rate === 0 ? undefined : rate, 'balanced'))
    const capacity = r.full.at(-1)?.perSec
    if (half && capacity !== undefined && capacity >= 200) r.half.push(await run(v, seconds, Math.round(capacity / 2), 'balanced'))
    console.error(`rep ${rep + 1}: done ${v.label} (load ${load()})`)
  }
}

const range = (xs: number[], f: (x: number) => string = fmt): string => (xs.length === 0 ? '–' : xs.length === 1 ? f(xs[0] as number) : `${f(median(xs))} (${f(Math.min(...xs))} – ${f(Math.max(...xs))})`)
const pq = (rs: RunResult[], f: (r: RunResult) => number | undefined): string => range(rs.map(f).filter((x): x is number => x !== undefined))
if (fullSeconds > 0) {
  const base = results[0]?.full ?? []
  console.log(`\nFlat out, throughput preset, ${fullSeconds} s runs; ratios against the first row within each repetition:\n`)
  console.log('| checkpoint | events/s stored | / first row | largest WAL MiB | balanced |')
  console.log('|---|---:|---:|---:|:---:|')
  variants.forEach((v, i) => {
    const rs = (results[i] as Runs).full
    const ratios = rs.map((r, k) => r.perSec / ((base[k] as RunResult).perSec || NaN))
    console.log(`| ${v.label} | ${range(rs.map((r) => r.perSec))} | ${range(ratios, (x) => x.toFixed(2))} | ${range(rs.map((r) => r.walMiB), (x) => x.toFixed(0))} | ${rs.every((r) => r.balanced) ? 'yes' : 'no'} |`)
  })
}
const latencyTable = (title: string, pick: (r: Runs) => (RunResult & { walMiB: number })[]): void => {
  console.log(`\n${title}\n`)
  console.log('| checkpoint | events/s stored | recent p50 / p99 ms | whole run p50 / p99 ms | largest WAL MiB | balanced |')
  console.log('|---|---:|---:|---:|---:|:---:|')
  variants.forEach((v, i) => {
    const rs = pick(results[i] as Runs)
    if (rs.length === 0) return
    console.log(
      `| ${v.label} | ${range(rs.map((r) => r.perSec))} | ${pq(rs, (r) => r.recentP50)} / ${pq(rs, (r) => r.recentP99)} | ${pq(rs, (r) => r.p50)} / ${pq(rs, (r) => r.p99)} | ${range(rs.map((r) => r.walMiB), (x) => x.toFixed(0))} | ${rs.every((r) => r.balanced) ? 'yes' : 'no'} |`,
    )
  })
}
latencyTable(`${rate === 0 ? 'As fast as the application can write' : `${rate.toLocaleString('en-US')} events/s offered`}, default preset, ${seconds} s runs:`, (r) => r.at)
if (half && fullSeconds > 0) latencyTable(`Half of each run's own flat-out rate just before it, default preset, ${seconds} s runs (events/s column: what was stored):`, (r) => r.half)
console.log(`\nLoad average at the end ${load()}.`)
rmSync(dir, { recursive: true, force: true })
