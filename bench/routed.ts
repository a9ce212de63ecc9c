// What routing costs: rows/s of storeEvents into one SQLite file beside a routed store over two
// files (errors, about 1 in 7 events, and everything) and over two catch-alls (every event twice),
// in one run, as medians with their spread; and the stop report's per-destination count.
// Usage: npx tsx bench/routed.ts [--reps N] [--rows N]   (prints a Markdown report)
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { RoutedStore, createStore, type EventRecord, type StoreSpec } from '@ringside/storage'

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name)
  return i === -1 ? dflt : Number(process.argv[i + 1])
}
const REPS = arg('--reps', 5)
const ROWS = arg('--rows', 50_000)
const BATCH = 500
const dir = mkdtempSync(join(tmpdir(), 'ringside-routed-bench-'))
let fileNo = 0
const file = (): string => join(dir, `f-${++fileNo}.db`)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const ringId = 'ab'.repeat(16)

const records: EventRecord[] = Array.from({ length: ROWS }, (_, seq) => ({
  key: `${ringId}:${seq}`,
  ringId,
  seq,
  capturedAt: 1_700_000_000_000 + seq,
  event: { type: seq % 7 === 3 ? 'error' : 'call', pid: `<0.${seq % 64}.0>`, module: 'Shop.Cart', function: 'add', arity: 2, n: seq, writerId: 'w-0', correlationId: `c-${seq}` },
}))

const contenders: [string, () => StoreSpec][] = [
  ['one SQLite file', () => ({ kind: 'sqlite', path: file() })],
  ['routed: errors (1 in 7) + all', () => ({ kind: 'routed', routes: [{ name: 'errors', when: { types: ['error'] }, store: { kind: 'sqlite', path: file() } }, { name: 'all', store: { kind: 'sqlite', path: file() } }] })],
  ['routed: all + copy (every event twice)', () => ({ kind: 'routed', routes: [{ name: 'all', store: { kind: 'sqlite', path: file() } }, { name: 'copy', store: { kind: 'sqlite', path: file() } }] })],
]

const rates = new Map<string, number[]>(contenders.map(([name]) => [name, []]))
const countMs: number[] = []
for (let r = 0; r < REPS; r++) {
  // Interleaved, so a noisy moment of the machine falls on every contender alike.
  for (const [name, spec] of contenders) {
    const store = await createStore(spec())
    const t0 = performance.now()
    for (let i = 0; i < ROWS; i += BATCH) await store.storeEvents(records.slice(i, i + BATCH))
    rates.get(name)!.push(ROWS / ((performance.now() - t0) / 1000))
    if (store instanceof RoutedStore && name.startsWith('routed: errors')) {
      const t1 = performance.now()
      const counts = await store.countByRingPerRoute(ringId, ROWS)
      countMs.push(performance.now() - t1)
      if (counts[0]!.held !== counts[0]!.expected) throw new Error('routed store lost or doubled events')
    }
    await store.close()
  }
}
rmSync(dir, { recursive: true, force: true })

const base = median(rates.get(contenders[0]![0])!)
const lines = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load average ${loadavg()[0]!.toFixed(1)} at the end. Command: \`npx tsx bench/routed.ts --reps ${REPS} --rows ${ROWS}\`.`,
  `${ROWS.toLocaleString('en-US')} events in batches of ${BATCH} into fresh files (synchronous NORMAL, WAL), ${REPS} runs each, interleaved.`,
  '',
  '| store | rows/s, median (min – max) | vs one file |',
  '|---|---:|---:|',
  ...contenders.map(([name]) => {
    const xs = rates.get(name)!
    return `| ${name} | ${Math.round(median(xs)).toLocaleString('en-US')} (${Math.round(Math.min(...xs)).toLocaleString('en-US')} – ${Math.round(Math.max(...xs)).toLocaleString('en-US')}) | ${(median(xs) / base).toFixed(2)} |`
  }),
  '',
  `The stop report's per-destination count (\`countByRingPerRoute\`, one getEvent per key of the ring) for ${ROWS.toLocaleString('en-US')} events: median ${median(countMs).toFixed(0)} ms (${Math.min(...countMs).toFixed(0)} – ${Math.max(...countMs).toFixed(0)}).`,
]
console.log(lines.join('\n'))
