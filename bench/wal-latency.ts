// Capture→commit latency at 10,000 events/s into SQLite (default preset, 2 writers) with the WAL
// checkpointed at different sizes, side by side in one run: how much of the p99 is checkpoints.
// With --rate 0 the application writes as fast as it can: what each checkpoint size costs in events/s.
// Usage: npx tsx bench/wal-latency.ts [--seconds 20] [--pages 50000,4000,1000] [--rate 10000] [--writers 2]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runPipeline } from './e2e.js'

const arg = (name: string, d: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? (process.argv[i + 1] as string) : d
}
const seconds = Number(arg('seconds', '20'))
const pages = arg('pages', '50000,4000,1000').split(',').map(Number)
const rate = Number(arg('rate', '10000'))
const writers = Number(arg('writers', '2'))
const dir = mkdtempSync(join(tmpdir(), 'ringside-wal-latency-'))
let n = 0
console.log(`${rate === 0 ? 'as fast as the application can write' : `${rate} events/s offered`}, ${writers} writer(s), default preset, ${seconds} s each`)
console.log('| walAutocheckpointPages | events/s stored | recent p50 / p99 ms | whole run p50 / p99 ms | balanced |')
console.log('|---:|---:|---:|---:|:---:|')
try {
  for (const p of pages) {
    const r = await runPipeline({ kind: 'sqlite', path: join(dir, `w-${++n}.db`), walAutocheckpointPages: p }, writers, seconds, rate === 0 ? undefined : rate, { preset: 'balanced' })
    console.log(`| ${p} | ${Math.round(r.perSec).toLocaleString('en-US')} | ${r.recentP50?.toFixed(2)} / ${r.recentP99?.toFixed(1)} | ${r.p50?.toFixed(2)} / ${r.p99?.toFixed(1)} | ${r.balanced ? 'yes' : 'no'} |`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
