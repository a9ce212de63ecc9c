// One run of the ring stress (bench/ring-stress.ts): real producer and consumer threads on one ring,
// consumers killed at random and their claims taken over by a replacement in the same slot, stats
// sampled throughout; then a drain and the checks: nothing lost, nothing duplicated outside a
// handed-over claim, nothing corrupted, counters that add up, and progress all along.
import { Worker } from 'node:worker_threads'
import { RingBuffer, type OverflowStrategy, type RingStats } from '@ringside/core-ringbuffer'
import { viewsOf } from '../packages/core-ringbuffer/src/internal/views.js'
import * as L from '../packages/core-ringbuffer/src/layout.js'
import { CONTROL_WORDS, CORRUPT, GO, LOCK_TIMEOUTS, STOP_CONSUMERS, STOP_PRODUCERS, random, type ConsumerData, type ProducerData, type ProducerDone } from './fixtures/ring-stress-shared.js'

/** What a run does; everything follows from `seed`. */
export interface RunPlan {
  readonly seed: number
  readonly size: number
  readonly overflowStrategy: OverflowStrategy
  readonly producers: number
  readonly consumers: number
  readonly seconds: number
  /** Share of a consumer's preemption points at which it sleeps `pauseMs` (0: none). */
  readonly pauseChance: number
  readonly pauseMs: number
  /** Events per producer at most (the delivery maps are this long). */
  readonly cap: number
  readonly stallSeconds: number
}

export interface RunResult {
  readonly plan: RunPlan
  readonly accepted: number
  readonly refused: number
  readonly delivered: number
  readonly evicted: number
  readonly kills: number
  readonly handedOver: number
  readonly samples: number
  /** Every broken promise, in words; empty when the run passed. */
  readonly failures: string[]
}

/** A plan drawn from `seed`: ring size, strategy, thread counts, duration, pauses. */
export function planRun(seed: number, maxSeconds: number, stallSeconds: number): RunPlan {
  const r = random(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const paused = r() < 0.5
  return {
    seed,
    size: pick([16, 1024, 65536]),
    overflowStrategy: pick(['drop_newest', 'drop_oldest', 'block'] as const),
    producers: 1 + Math.floor(r() * 6),
    consumers: 1 + Math.floor(r() * 4),
    seconds: Math.max(2, Math.min(maxSeconds, 6 + Math.floor(r() * 15))),
    pauseChance: paused ? 0.002 : 0,
    pauseMs: 2,
    cap: 3_000_000,
    stallSeconds,
  }
}

const boot = new URL('./fixtures/boot.mjs', import.meta.url)
const entry = new URL('./fixtures/ring-stress-worker.ts', import.meta.url).href
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs one plan to the end and checks it. Never throws for a broken promise: it lists it. */
export async function runPlan(plan: RunPlan): Promise<RunResult> {
  const r = random(plan.seed ^ 0x9e3779b9)
  const failures: string[] = []
  const ring = RingBuffer.create({ size: plan.size, overflowStrategy: plan.overflowStrategy, maxConsumers: plan.consumers })
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4))
  const delivered = Array.from({ length: plan.producers }, () => new SharedArrayBuffer(2 * plan.cap))
  const errors: string[] = []
  let ready = 0
  const spawn = (data: ProducerData | ConsumerData): Worker => {
    const w = new Worker(boot, { workerData: { entry, ...data } })
    w.on('error', (e) => errors.push(`${data.role} thread failed: ${String(e)}`))
    w.on('message', (m: { kind: string }) => m.kind === 'ready' && ready++)
    return w
  }
  const startConsumer = (id: number): Worker =>
    spawn({ role: 'consumer', id, handle: ring.handle, control, seed: Math.floor(r() * 2 ** 32), delivered, cap: plan.cap, maxBatch: 512, pauseChance: plan.pauseChance, pauseMs: plan.pauseMs })
  const consumers = Array.from({ length: plan.consumers }, (_, id) => startConsumer(id))
  const produced: ProducerDone[] = []
  const producers = Array.from({ length: plan.producers }, (_, p) => {
    const w = spawn({ role: 'producer', p, handle: ring.handle, control, seed: Math.floor(r() * 2 ** 32), cap: plan.cap })
    w.on('message', (m: ProducerDone) => m.kind === 'produced' && produced.push(m))
    return w
  })
  // The clock starts once every thread is up: on a loaded machine starting a thread takes seconds.
  const startBy = performance.now() + 120_000
  while (ready < plan.producers + plan.consumers && errors.length === 0 && performance.now() < startBy) await sleep(20)
  Atomics.store(control, GO, 1)
  Atomics.notify(control, GO)
  const exited = (w: Worker) => new Promise<void>((resolve) => (w.threadId === -1 ? resolve() : w.once('exit', () => resolve())))

  // Watch: stats must always be possible; commits must keep coming while anything waits.
  let samples = 0
  let lastCommitted = -1
  let lastProgressAt = performance.now()
  let stalled = false
  const watch = (): RingStats => {
    const s = ring.stats()
    samples++
    const problem = impossible(s)
    if (problem !== undefined && failures.length < 20) failures.push(`impossible stats (${problem}): ${JSON.stringify(s)}`)
    const now = performance.now()
    if (s.totalCommitted !== lastCommitted || s.ready + s.claimed === 0) {
      lastCommitted = s.totalCommitted
      lastProgressAt = now
    } else if (!stalled && now - lastProgressAt > plan.stallSeconds * 1000) {
      stalled = true
      failures.push(`no progress for ${plan.stallSeconds} s: ${dumpCursors(ring, s)}`)
    }
    return s
  }

  // Main phase: kill a random consumer now and then, hand its claims to a replacement in its slot.
  let kills = 0
  let handedOver = 0
  const end = performance.now() + plan.seconds * 1000
  let nextKill = performance.now() + 200 + r() * 2800
  while (performance.now() < end && !stalled) {
    await sleep(50)
    watch()
    if (performance.now() < nextKill) continue
    const id = Math.floor(r() * plan.consumers)
    await consumers[id]!.terminate()
    handedOver += ring.takeOver(id, id)
    consumers[id] = startConsumer(id)
    kills++
    nextKill = performance.now() + 200 + r() * 2800
  }
  // Drain: producers stop, consumers empty the ring.
  Atomics.store(control, STOP_PRODUCERS, 1)
  await Promise.all(producers.map(exited))
  for (let s = watch(); !stalled && s.ready + s.claimed > 0; s = watch()) await sleep(50)
  Atomics.store(control, STOP_CONSUMERS, 1)
  await Promise.all(consumers.map((w) => (stalled ? w.terminate().then(() => undefined) : exited(w))))

  failures.push(...errors)
  const final = ring.stats()
  const counts = check(plan, produced, delivered, final, failures)
  if (Atomics.load(control, CORRUPT) > 0) failures.push(`${Atomics.load(control, CORRUPT)} corrupted records`)
  if (Atomics.load(control, LOCK_TIMEOUTS) > 0) failures.push(`${Atomics.load(control, LOCK_TIMEOUTS)} claims hit lock_timeout`)
  return { plan, ...counts, evicted: final.dropped.evicted, kills, handedOver, samples, failures }
}

/** Why a stats reading is impossible, or undefined. */
function impossible(s: RingStats): string | undefined {
  const used = s.size - s.available
  if (s.available < 0 || s.available > s.size) return 'available outside 0..size'
  if (!(s.utilization >= 0 && s.utilization <= 1)) return 'utilization outside 0..1'
  if (s.ready < 0 || s.claimed < 0 || s.ready + s.claimed > used) return 'ready + claimed above used slots'
  if (s.totalCommitted > s.totalReads || s.totalReads > s.totalWrites) return 'committed > reads or reads > writes'
  return undefined
}

/** Every producer's events against what consumers saw; adds a failure per broken promise. */
function check(plan: RunPlan, produced: ProducerDone[], delivered: SharedArrayBuffer[], s: RingStats, failures: string[]) {
  let accepted = 0
  let refused = 0
  let seen = 0
  let missing = 0
  let duplicated = 0
  let phantom = 0
  for (const { p, count, refused: byReason } of produced) {
    accepted += count
    for (const k of Object.values(byReason)) refused += k
    const fresh = new Uint8Array(delivered[p]!, 0, plan.cap)
    const handed = new Uint8Array(delivered[p]!, plan.cap, plan.cap)
    for (let n = 0; n < plan.cap; n++) {
      const f = fresh[n]!
      const h = handed[n]!
      if (n >= count) {
        if (f + h > 0) phantom++
        continue
      }
      if (f > 1) duplicated++
      if (f + h === 0) missing++
      else seen++
    }
  }
  if (produced.length !== plan.producers) failures.push(`${plan.producers - produced.length} producers never reported`)
  const evicted = s.dropped.evicted
  if (missing !== evicted) failures.push(`${missing} accepted events never delivered, ${evicted} evicted: ${missing - evicted} lost`)
  if (duplicated > 0) failures.push(`${duplicated} events delivered twice outside a handed-over claim`)
  if (phantom > 0) failures.push(`${phantom} events delivered that were never accepted`)
  if (s.totalWrites !== accepted) failures.push(`totalWrites ${s.totalWrites}, producers had ${accepted} accepted`)
  if (s.totalReads !== seen) failures.push(`totalReads ${s.totalReads}, ${seen} events read`)
  const refusedByRing = s.dropped.full + s.dropped.timeout
  if (refusedByRing !== refused) failures.push(`the ring counted ${refusedByRing} refusals, producers ${refused}`)
  if (s.ready !== 0 || s.claimed !== 0 || s.available !== s.size) failures.push(`not drained: ${JSON.stringify(s)}`)
  return { accepted, refused, delivered: seen }
}

/** The cursors, the lock and the first slots past TAIL, for a run that stopped making progress. */
function dumpCursors(ring: RingBuffer, s: RingStats): string {
  const v = viewsOf(ring.handle.buffer)
  const h = v.hdr
  const tail = h[L.H_TAIL]!
  const slots: string[] = []
  for (let k = 0; k < Math.min(v.size, 16); k++) {
    const p = (tail + k) | 0
    const i = p & v.mask
    slots.push(`${p >>> 0}:state=${(v.turn[i]! - p * 8) | 0},owner=${v.owner[i]},ownerPos=${v.ownerPos[i]! >>> 0}`)
  }
  return JSON.stringify({
    head: h[L.H_HEAD]! >>> 0,
    tail: tail >>> 0,
    claim: h[L.H_CLAIM]! >>> 0,
    lock: h[L.H_LOCK],
    claimFrom: h[L.H_CLAIM_FROM]! >>> 0,
    readsBase: h[L.H_READS_BASE],
    pending: Array.from(v.pending),
    stats: s,
    slots,
  })
}
