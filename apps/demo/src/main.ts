// Ring demo: three producer threads write events into one SharedArrayBuffer ring while the main
// thread claims, checks and commits them in batches; then it prints what moved and the ring's stats.
// (The full pipeline demo with writers and SQLite replaces this in a later step.)
import { Worker } from 'node:worker_threads'
import { RingBuffer } from '@ringside/core-ringbuffer'

const producers = 3
const perProducer = Number(process.env.RINGSIDE_DEMO_EVENTS ?? 200_000)
const ring = RingBuffer.create({ size: 1 << 14, overflowStrategy: 'drop_newest' })
console.log(`ring ${ring.id}: ${ring.options.size} slots x ${ring.options.maxEventBytes} B, ${producers} producer threads x ${perProducer} events`)

const boot = new URL('./boot.mjs', import.meta.url)
const entry = new URL('./producer.ts', import.meta.url).href
const t0 = performance.now()
const done = Array.from({ length: producers }, (_, producer) =>
  new Promise<{ producer: number; accepted: number; dropped: Record<string, number> }>((resolve, reject) => {
    const w = new Worker(boot, { workerData: { entry, handle: ring.handle, producer, count: perProducer } })
    w.once('message', resolve)
    w.once('error', reject)
  }),
)

const consumer = ring.consumer(0)
const nextN = new Array<number>(producers).fill(0)
let received = 0
let batches = 0
let finished = 0
void Promise.all(done).then(() => (finished = 1))
while (received < producers * perProducer) {
  const claim = consumer.claim(1000)
  if (claim === null) {
    await consumer.waitForDataAsync(50)
    continue
  }
  for (const r of claim.records) {
    const p = r.event.producer as number
    if (r.event.n !== nextN[p]) throw new Error(`producer ${p}: expected n=${nextN[p]}, got ${String(r.event.n)}`)
    nextN[p]! += 1
  }
  consumer.commit(claim)
  received += claim.records.length
  batches++
  if (batches % 200 === 0) {
    const line = `  received ${received.toLocaleString()} events in ${batches} batches`
    if (process.stdout.isTTY) process.stdout.write(`\r${line}`)
    else console.log(line)
  }
}
const results = await Promise.all(done)
const seconds = (performance.now() - t0) / 1000
console.log(`${process.stdout.isTTY ? '\r' : ''}  received ${received.toLocaleString()} events in ${batches} batches${finished ? ', producers done' : ''}`)
for (const r of results) console.log(`  producer ${r.producer}: accepted ${r.accepted}, retried after a full ring ${r.dropped.full ?? 0} times`)
console.log(`every event arrived once, in per-producer order: ${nextN.every((n) => n === perProducer)}`)
console.log(`throughput: ${Math.round(received / seconds).toLocaleString()} events/s over ${seconds.toFixed(2)} s`)
const s = ring.stats()
console.log(`ring stats: writes ${s.totalWrites}, reads ${s.totalReads}, committed ${s.totalCommitted}, in flight ${s.claimed}, dropped ${JSON.stringify(s.dropped)}`)
