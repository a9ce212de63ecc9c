// Sampling benchmark: the producer's price per write with and without a sampling policy, in one
// run: no policy, a policy below its level, a policy sampling 9 in 10 out, one keeping all, and
// ring.pressure() alone; ratios against the write without a policy.
// Usage: npx tsx bench/sampling.ts [--reps N]   (prints a Markdown report)
import { cpus, loadavg } from 'node:os'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { makeReferenceEvent } from './fixtures/reference-event.js'

const i = process.argv.indexOf('--reps')
const REPS = i === -1 ? 40 : Number(process.argv[i + 1])
const BATCH = 10_000

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const fmt = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1))

/** ns per call of `body` over BATCH calls, REPS times after 5 warm-up repetitions; `reset` runs between them. */
function measure(body: () => void, reset: () => void): number[] {
  const out: number[] = []
  for (let r = 0; r < REPS + 5; r++) {
    const t0 = process.hrtime.bigint()
    for (let k = 0; k < BATCH; k++) body()
    const ns = Number(process.hrtime.bigint() - t0) / BATCH
    reset()
    if (r >= 5) out.push(ns)
  }
  return out
}

function ringWith(sampling?: { above: number; keepOneIn: number; alwaysKeep?: string[] }) {
  const ring = RingBuffer.create({ size: 1 << 14, ...(sampling ? { sampling } : {}) })
  const consumer = ring.consumer(0)
  const drain = () => {
    for (let c = consumer.claim(1 << 14); c; c = consumer.claim(1 << 14)) consumer.commit(c)
  }
  return { ring, drain }
}

const none = ringWith()
const below = ringWith({ above: 0.99, keepOneIn: 10 }) // 10,000 writes never reach 99 % of 16,384
const sampled = ringWith({ above: 0, keepOneIn: 10, alwaysKeep: ['error'] })
const keepAll = ringWith({ above: 0, keepOneIn: 1 })
let sink = 0
const rows: [string, number[]][] = [
  ['`ring.write`, no sampling policy', measure(() => void none.ring.write(makeReferenceEvent()), none.drain)],
  ['`ring.write`, a policy below its level', measure(() => void below.ring.write(makeReferenceEvent()), below.drain)],
  ['`ring.write`, above the level, keepOneIn 10 (9 in 10 sampled out)', measure(() => void sampled.ring.write(makeReferenceEvent()), sampled.drain)],
  ['`ring.write`, above the level, keepOneIn 1 (all kept)', measure(() => void keepAll.ring.write(makeReferenceEvent()), keepAll.drain)],
  ['`ring.pressure()` alone', measure(() => void (sink += none.ring.pressure()), () => {})],
]
if (sampled.ring.stats().dropped.sampled === 0 || sink < 0) throw new Error('the sampling policy did not apply')
const base = median(rows[0]![1])
console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${loadavg().map((l) => l.toFixed(1)).join(', ')} at the end (the machine is shared).`)
console.log(`Command: \`npx tsx bench/sampling.ts --reps ${REPS}\`; the ring bench's reference event (type \`call\`).`)
console.log('')
console.log(`| producer price per call (main thread, ${REPS} reps of ${BATCH.toLocaleString('en-US')}) | median ns | ratio to no policy | spread |`)
console.log('|---|---:|---:|---:|')
for (const [name, xs] of rows) console.log(`| ${name} | ${fmt(median(xs))} | ${(median(xs) / base).toFixed(2)} | ${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))} |`)
