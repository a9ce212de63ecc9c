// Shared by the end-to-end benchmarks (pipeline.ts, servers.ts): one timed run of an application
// thread writing as fast as it can through the ring and a writer pool into a store, and the small
// statistics helpers the tables use.
import { Worker } from 'node:worker_threads'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineManager, type PipelineOptions } from '@ringside/pipeline-manager'
import type { StoreSpec } from '@ringside/storage'

export const boot = new URL('./fixtures/boot.mjs', import.meta.url)
export const producerEntry = new URL('./fixtures/app-producer.ts', import.meta.url).href
/** A `{ target }` store that keeps nothing: the pipeline's own ceiling. */
export const nullStore = { target: new URL('./fixtures/null-store.ts', import.meta.url).href }
export const fmt = (x: number | undefined) => (x === undefined ? '–' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2))
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)))
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
export const spread = (xs: number[]) => `${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))}`

/** Samples RSS (all threads of this process) until stopped; returns the peak in MB. */
export function rssSampler() {
  let peak = process.memoryUsage().rss
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100)
  return () => {
    clearInterval(t)
    return Math.max(peak, process.memoryUsage().rss) / 2 ** 20
  }
}

export interface RunResult {
  perSec: number
  samples: number[] // stored per second, one per second
  offered: number[] // offered to the ring per second (accepted or refused), one per second
  p50?: number
  p99?: number
  /** Capture→commit percentiles over the last ~10 s of the run (getMetrics().latency.recent). */
  recentP50?: number
  recentP99?: number
  accepted: number
  refused: number
  balanced: boolean
  rssMb: number
}

/**
 * One run: a pipeline (`throughput` preset, `writers` writers) into `spec`, an application worker
 * thread writing as fast as it can (or at `ratePerSec`) for `seconds`; events/s stored over the run.
 */
export async function runPipeline(spec: StoreSpec, writers: number, seconds: number, ratePerSec?: number, extra: Partial<PipelineOptions> = {}): Promise<RunResult> {
  const peak = rssSampler()
  const ring = RingBuffer.create({ size: 1 << 16 })
  const pipeline = await PipelineManager.start({ ring, store: spec, preset: 'throughput', poolSize: writers, maxRestarts: 100, ...extra })
  const control = new Int32Array(new SharedArrayBuffer(4))
  const app = new Worker(boot, { workerData: { entry: producerEntry, handle: ring.handle, control, ...(ratePerSec ? { ratePerSec } : {}) } })
  const done = new Promise<{ accepted: number; full: number }>((resolve) => app.once('message', resolve))
  const samples: number[] = []
  const offered: number[] = []
  const offeredNow = () => {
    const r = ring.stats()
    return r.totalWrites + Object.values(r.dropped).reduce((a, b) => a + b, 0)
  }
  let lastOffered = 0
  let last = 0
  const t0 = performance.now()
  for (let s = 1; s <= seconds; s++) {
    await sleep(t0 + s * 1000 - performance.now())
    const stored = pipeline.getMetrics().totals.eventsStored
    samples.push(stored - last)
    last = stored
    const o = offeredNow()
    offered.push(o - lastOffered)
    lastOffered = o
  }
  const elapsed = (performance.now() - t0) / 1000
  Atomics.store(control, 0, 1)
  Atomics.notify(control, 0)
  const produced = await done
  await app.terminate()
  const m = pipeline.getMetrics()
  const recent = m.latency.recent.captureToCommitMs
  const report = await pipeline.stop({ timeoutMs: 60_000 })
  return {
    perSec: last / elapsed,
    samples,
    offered,
    ...(recent.p50 === undefined ? {} : { recentP50: recent.p50 }),
    ...(recent.p99 === undefined ? {} : { recentP99: recent.p99 }),
    ...(m.latency.captureToCommitMs.p50 === undefined ? {} : { p50: m.latency.captureToCommitMs.p50 }),
    ...(m.latency.captureToCommitMs.p99 === undefined ? {} : { p99: m.latency.captureToCommitMs.p99 }),
    accepted: produced.accepted,
    refused: produced.full,
    balanced: report.balanced,
    rssMb: peak(),
  }
}
