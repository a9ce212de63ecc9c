// Memory of one pipeline over a long run: runs bench/fixtures/memory-child.mjs in a plain `node`
// process on the built packages (2 writers into SQLite, an application thread writing as fast as
// the ring takes events), collects its RSS once a second and its final breakdown, and writes an
// SVG of RSS over time and a Markdown summary into bench/results.
// Usage: npx tsx bench/memory.ts [--seconds 600] [--from recorded.jsonl]
// (--from renders a run of the same child recorded earlier: `node bench/fixtures/memory-child.mjs 600 DIR > run.jsonl`.)
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

async function record(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-memory-'))
  const child = spawn(process.execPath, [new URL('./fixtures/memory-child.mjs', import.meta.url).pathname, String(SECONDS), dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  await new Promise((resolve) => child.once('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
  return out
}

const text = FROM ? readFileSync(FROM, 'utf8') : await record()
const rows = text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
const samples = rows.filter((r) => typeof r.s === 'number') as { s: number; rssMb: number; stored: number }[]
const breakdown = rows.find((r) => r.breakdown)?.breakdown as Record<string, unknown> | undefined
const rss = samples.map((r) => r.rssMb)
const minute = (from: number) => rss.slice(from, from + 60)
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
const n = samples.length
const stored = samples[n - 1]?.stored ?? 0
const lines = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; rendered ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average now ${loadavg().map((x) => x.toFixed(1)).join(' / ')}.`,
  `Command: \`node bench/fixtures/memory-child.mjs ${n} DIR\` (rendered by \`npx tsx bench/memory.ts\`): one pipeline, 2 writers, default preset, SQLite defaults, ring of 65,536 × 512 B, an application thread writing as fast as the ring takes events.`,
  '',
  `RSS: first minute ${avg(minute(0)).toFixed(0)} MB on average, last minute ${avg(minute(Math.max(0, n - 60))).toFixed(0)} MB, peak ${Math.max(...rss).toFixed(0)} MB; ${stored.toLocaleString('en-US')} events stored in ${n} s.`,
  '',
  `Breakdown at the end: ${JSON.stringify(breakdown)}`,
  '',
  'Chart: [memory-rss.svg](memory-rss.svg).',
]
writeFileSync('bench/results/memory.md', `${lines.join('\n')}\n`)
writeFileSync(
  'bench/results/memory-rss.svg',
  lineChart({
    title: `One pipeline, 2 writers into SQLite at full load: process RSS over ${n} s`,
    values: rss,
    yLabel: 'RSS, MB',
    xLabel: 'seconds',
    xTickEvery: 60,
    refs: [{ label: '150 MB target', value: 150, color: '#d62728' }],
    note: 'RSS of the whole process (main thread, the application thread, 2 writer threads, the ring, SQLite) sampled once a second in a plain node process on the built packages.',
  }),
)
console.log(lines.join('\n'))
