// Ring benchmark: the producer's price per event and events/s between threads, for Ringside's ring
// and, in the same run, worker.postMessage in batches of 1000 and pino's thread-stream transport.
// Usage: npx tsx bench/ring.ts [--runs N] [--events N]   (prints a Markdown report)
import { cpus } from 'node:os'
import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads'
import ThreadStream from 'thread-stream'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { REFERENCE_EVENT, makeReferenceEvent } from './fixtures/reference-event.js'

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? dflt : Number(process.argv[i + 1])
}
const RUNS = arg('runs', 5)
const EVENTS = arg('events', 2_000_000)
// --only ring,pm runs those throughput contenders only (ring, pm = postMessage, ts = thread-stream):
// on a busy machine the thread-stream runs take most of the time.
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : ['ring', 'pm', 'ts']

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const spread = (xs: number[]): string => `${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))}`
const fmt = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1))

// ---- producer price per event (main thread) ----------------------------------------------------

/** Wall-clock ns per event of each repetition; CPU time (process.cpuUsage) of the same ones in `cpu`. */
const cpu = new Map<number[], number[]>()
function perEvent(body: (k: number) => void, reset: () => void | Promise<void>, batch = 10_000, reps = 40) {
  return async (): Promise<number[]> => {
    const out: number[] = []
    const cpuOut: number[] = []
    for (let r = 0; r < reps + 5; r++) {
      const u0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      for (let k = 0; k < batch; k++) body(k)
      const ns = Number(process.hrtime.bigint() - t0) / batch
      const u = process.cpuUsage(u0)
      await reset()
      if (r >= 5) {
        // the first repetitions warm the JIT up
        out.push(ns)
        cpuOut.push(((u.user + u.system) * 1000) / batch)
      }
    }
    cpu.set(out, cpuOut)
    return out
  }
}

async function producerPrices(): Promise<[string, number[]][]> {
  const ring = RingBuffer.create({ size: 1 << 14 })
  const consumer = ring.consumer(0)
  const drain = () => {
    for (let c = consumer.claim(1 << 14); c; c = consumer.claim(1 << 14)) consumer.commit(c)
  }
  let sink = 0
  const { port1, port2 } = new MessageChannel()
  port2.on('message', () => {})
  let batch: unknown[] = []
  const stream = new ThreadStream({ filename: new URL('./fixtures/line-sink.mjs', import.meta.url).pathname, sync: false })
  await new Promise((resolve) => stream.once('ready', resolve))
  const results: [string, number[]][] = [
    ['building the event object (included in every row below)', await perEvent(() => void (sink += makeReferenceEvent().arity), () => {})()],
    ['Ringside `ring.write` (encode + reserve + publish)', await perEvent(() => void ring.write(makeReferenceEvent()), drain)()],
    ['`JSON.stringify` alone (for scale)', await perEvent(() => void (sink += JSON.stringify(makeReferenceEvent()).length), () => {})()],
    [
      'thread-stream `write(JSON.stringify(e) + "\\n")`',
      await perEvent(
        () => void stream.write(JSON.stringify(makeReferenceEvent()) + '\n'),
        () => new Promise<void>((resolve) => stream.flush(() => resolve())),
      )(),
    ],
    [
      '`postMessage` in batches of 1000 (push + amortised post)',
      await perEvent(
        () => {
          batch.push(makeReferenceEvent())
          if (batch.length === 1000) {
            port1.postMessage(batch)
            batch = []
          }
        },
        () => new Promise<void>((resolve) => setImmediate(resolve)),
      )(),
    ],
  ]
  // The consumer's side, single-threaded: claim 1000, decode into objects, commit.
  const big = RingBuffer.create({ size: 1 << 14 })
  const bigConsumer = big.consumer(0)
  for (let k = 0; k < 10_000; k++) big.write(makeReferenceEvent())
  results.push([
    'consumer side: `claim(1000)` + decode + `commit`, per event (single thread)',
    await perEvent(
      (k) => {
        if (k % 1000 === 0) bigConsumer.commit(bigConsumer.claim(1000)!)
      },
      () => {
        for (let k = 0; k < 10_000; k++) big.write(makeReferenceEvent())
      },
      10_000,
    )(),
  ])
  stream.end()
  port1.close()
  if (sink < 0) console.log(sink)
  return results
}

// ---- throughput between threads -----------------------------------------------------------------

const boot = new URL('./fixtures/boot.mjs', import.meta.url)
const entry = new URL('./fixtures/throughput-worker.ts', import.meta.url).href

function spawn(data: Record<string, unknown>, transfer: TransferListItem[] = []): { w: Worker; ready: Promise<void>; done: Promise<unknown> } {
  const w = new Worker(boot, { workerData: { entry, ...data }, transferList: transfer })
  let onReady!: () => void
  let onDone!: (m: unknown) => void
  const ready = new Promise<void>((r) => (onReady = r))
  const done = new Promise<unknown>((r, reject) => {
    onDone = r
    w.once('error', reject)
  })
  w.on('message', (m: unknown) => (m === 'ready' ? onReady() : onDone(m)))
  return { w, ready, done }
}

async function throughput(kind: 'ring' | 'pm' | 'ts', pairs: number): Promise<number> {
  const control = new Int32Array(new SharedArrayBuffer(8))
  const per = Math.floor(EVENTS / pairs)
  const total = per * pairs
  const threads: ReturnType<typeof spawn>[] = []
  if (kind === 'ring') {
    const ring = RingBuffer.create({ size: 1 << 16 })
    for (let p = 0; p < pairs; p++) threads.push(spawn({ role: 'ring-producer', handle: ring.handle, count: per, control }))
    for (let c = 0; c < pairs; c++) threads.push(spawn({ role: 'ring-consumer', handle: ring.handle, id: c, count: total, control }))
  } else if (kind === 'pm') {
    for (let p = 0; p < pairs; p++) {
      const { port1, port2 } = new MessageChannel()
      threads.push(spawn({ role: 'pm-producer', port: port1, count: per, control }, [port1]))
      threads.push(spawn({ role: 'pm-consumer', port: port2, count: per, control }, [port2]))
    }
  } else {
    const sink = new URL('./fixtures/line-sink.mjs', import.meta.url).pathname
    for (let p = 0; p < pairs; p++) threads.push(spawn({ role: 'ts-producer', sink, count: per, control }))
  }
  await Promise.all(threads.map((t) => t.ready))
  const t0 = performance.now()
  Atomics.store(control, 0, 1)
  Atomics.notify(control, 0)
  await Promise.all(threads.map((t) => t.done))
  const seconds = (performance.now() - t0) / 1000
  await Promise.all(threads.map((t) => t.w.terminate()))
  if (Atomics.load(control, 1) < total) throw new Error(`${kind}: only ${Atomics.load(control, 1)} of ${total} arrived`)
  return total / seconds
}

// ---- report ----------------------------------------------------------------------------------------

const prices = await producerPrices()
const lines: string[] = []
lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`)
lines.push(`Command: \`npx tsx bench/ring.ts ${process.argv.slice(2).join(' ')}\`; reference event ${JSON.stringify(REFERENCE_EVENT)}.`)
// CPU time beside wall-clock time: on a shared machine a descheduled repetition inflates the wall
// clock but not the CPU time this thread spent (process.cpuUsage counts the whole process; the
// other threads are idle while these rows run).
lines.push('', '| producer price per event (main thread) | median ns | spread (40 reps of 10,000) | median CPU ns | CPU spread |', '|---|---:|---:|---:|---:|')
for (const [name, xs] of prices) lines.push(`| ${name} | ${fmt(median(xs))} | ${spread(xs)} | ${fmt(median(cpu.get(xs)!))} | ${spread(cpu.get(xs)!)} |`)
const row = (a: string) => prices.find(([n]) => n.startsWith(a))![1]
const ratio = (f: (xs: number[]) => number[]) => (median(f(row('Ringside'))) / median(f(row('`JSON.stringify`')))).toFixed(2)
lines.push('', `\`ring.write\` / \`JSON.stringify\`, medians of the same run: ${ratio((xs) => xs)}x wall clock, ${ratio((xs) => cpu.get(xs)!)}x CPU time`)
console.error(lines.join('\n'))
lines.push('', `| events/s between threads (${EVENTS.toLocaleString('en-US')} events, ${RUNS} runs) | median | spread |`, '|---|---:|---:|')
for (const [kind, label] of [['ring', 'Ringside ring (claim 1000, decode, commit)'], ['pm', 'postMessage, batches of 1000'], ['ts', 'thread-stream (JSON lines, sink counts lines)']] as const) {
  if (!ONLY.includes(kind)) continue
  for (const pairs of [1, 2]) {
    const xs: number[] = []
    for (let r = 0; r < RUNS; r++) xs.push(await throughput(kind, pairs))
    lines.push(`| ${label}, ${pairs} → ${pairs} | ${fmt(median(xs))} | ${spread(xs)} |`)
    console.error(lines[lines.length - 1])
  }
}
console.log(lines.join('\n'))
