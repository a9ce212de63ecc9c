// Memory of one pipeline over a long run: runs bench/fixtures/memory-child.mjs in a plain `node`
// process on the built packages (2 writers into SQLite, an application thread writing as fast as
// the ring takes events), collects its RSS and stored count once a second, the RSS after each step
// of the start and its final breakdown, and writes SVGs of RSS and of the rate over time and a
// Markdown summary into bench/results.
// Usage: npx tsx bench/memory.ts [--seconds 600] [--from recorded.jsonl] [--out bench/results/memory]
//        [--ring <size>] [--cache <KiB>] [--writers <n>] [--producer thread|main] [--writer-max-heap <MB>]
// (the last five go to the child; without them it runs the library's defaults. --from renders a
// run of the child recorded earlier: `node bench/fixtures/memory-child.mjs 600 DIR > run.jsonl`.)
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { lineChart } from './chart.js'

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
const SECONDS = Number(argOf('seconds') ?? 600)
const FROM = argOf('from')
const OUT = argOf('out') ?? 'bench/results/memory'
const childFlags = ['ring', 'cache', 'writers', 'producer', 'writer-max-heap'].flatMap((f) => (argOf(f) === undefined ? [] : [`--${f}`, argOf(f)!]))
const loadAtStart = loadavg()

async function record(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-memory-'))
  const child = spawn(process.execPath, [new URL('./fixtures/memory-child.mjs', import.meta.url).pathname, String(SECONDS), dir, ...childFlags], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  await new Promise((resolve) => child.once('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
  return out
}

const text = FROM ? readFileSync(FROM, 'utf8') : await record()
if (!FROM) writeFileSync(`${OUT}-run.jsonl`, text)
const rows = text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
const samples = rows.filter((r) => typeof r.s === 'number') as { s: number; rssMb: number; stored: number }[]
const phases = rows.filter((r) => typeof r.phase === 'string') as { phase: string; rssMb: number }[]
const breakdown = rows.find((r) => r.breakdown)?.breakdown as Record<string, unknown> | undefined
const rss = samples.map((r) => r.rssMb)
const rate = samples.map((r, i) => r.stored - (samples[i - 1]?.stored ?? 0))
const n = samples.length
const window = Math.min(60, Math.max(1, Math.floor(n / 4)))
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
const first = (xs: number[]) => avg(xs.slice(0, window))
const last = (xs: number[]) => avg(xs.slice(Math.max(0, n - window)))
const stored = samples[n - 1]?.stored ?? 0
const f0 = (x: number) => x.toFixed(0)
const int = (x: number) => Math.round(x).toLocaleString('en-US')
const flagsText = FROM ? '' : childFlags.length ? ` ${childFlags.join(' ')}` : ''
const lines = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; rendered ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${FROM ? '' : `at the start ${loadAtStart.map((x) => x.toFixed(1)).join(' / ')}, `}now ${loadavg().map((x) => x.toFixed(1)).join(' / ')}.`,
  `Command: \`node bench/fixtures/memory-child.mjs ${n} DIR${flagsText}\` (rendered by \`npx tsx bench/memory.ts\`): one pipeline, ${String(breakdown?.producer ?? 'thread') === 'main' ? 'the application writing from the main thread' : 'an application thread'} writing as fast as the ring takes events into a ring of ${int(Number(breakdown?.ringSize ?? 0))} × 512 B, drained by the writers into SQLite.`,
  '',
  `RSS after each step of the start: ${phases.map((p) => `${p.phase} ${f0(p.rssMb)} MB`).join(', ')}.`,
  `RSS under load: first ${window} s ${f0(first(rss))} MB on average, last ${window} s ${f0(last(rss))} MB, peak ${f0(Math.max(...rss))} MB.`,
  `Stored: ${int(stored)} events in ${n} s (${int(stored / Math.max(1, n))}/s; first ${window} s ${int(first(rate))}/s, last ${window} s ${int(last(rate))}/s).`,
  '',
  `Breakdown at the end: ${JSON.stringify(breakdown, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(1)) : v))}`,
  '',
  `Charts: [${OUT.split('/').pop()}-rss.svg](${OUT.split('/').pop()}-rss.svg), [${OUT.split('/').pop()}-rate.svg](${OUT.split('/').pop()}-rate.svg).`,
]
writeFileSync(`${OUT}.md`, `${lines.join('\n')}\n`)
writeFileSync(
  `${OUT}-rss.svg`,
  lineChart({
    title: `One pipeline, ${String((breakdown?.writerHeapsMb as unknown[] | undefined)?.length ?? 2)} writers into SQLite at full load: process RSS over ${n} s`,
    values: rss,
    yLabel: 'RSS, MB',
    xLabel: 'seconds',
    xTickEvery: 60,
    refs: [{ label: '150 MB target', value: 150, color: '#d62728' }],
    note: 'RSS of the whole process (main thread, the application, the writer threads, the ring, SQLite) sampled once a second in a plain node process on the built packages.',
  }),
)
writeFileSync(
  `${OUT}-rate.svg`,
  lineChart({
    title: `The same run: events stored per second`,
    values: rate,
    window,
    yLabel: 'events/s',
    xLabel: 'seconds',
    xTickEvery: 60,
    note: `Events the writers committed to SQLite in each second of the run (steps: averages over ${window} s). The machine is shared: the rate follows its load.`,
  }),
)
console.log(lines.join('\n'))
