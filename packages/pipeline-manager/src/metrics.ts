// Metrics aggregation: the writers' shared-memory rows summed (every row, so a retired or dead
// writer's counts stay in the totals and nothing is counted twice), latency percentiles from the
// merged histograms, and rates over a sliding window of one-second samples (ring-buffer-ts).

import rbts from 'ring-buffer-ts'
import type { RingStats } from '@ringside/core-ringbuffer'
import { mergeHistograms, percentile, readWriterMetrics, rowsOf, type StageField, type StageSnapshot, type WriterMetricsSnapshot } from '@ringside/async-writer/protocol'
import type { MemberInfo } from './writer-pool.js'

const { RingBuffer: WindowBuffer } = rbts

export interface Percentiles {
  readonly p50?: number
  readonly p90?: number
  readonly p99?: number
}

/** The writers' counters, per writer and summed. */
export interface Totals {
  readonly eventsRead: number
  readonly eventsProcessed: number
  readonly eventsStored: number
  readonly duplicates: number
  readonly filtered: number
  readonly invalid: number
  readonly poisoned: number
  /** Events a user stage threw on or rejected (dead letters `stage_error`). */
  readonly stageErrors: number
  /** Events that killed or hung their writer when processed alone (dead letters `crashed_writer`, `timeout`). */
  readonly killers: number
  /** Events the store retry policy gave up on (dead letters `retries_exhausted`). */
  readonly retriesExhausted: number
  /** Times a user stage asked to retry an event later (requests, not events: not a bucket). */
  readonly retriedLater: number
  /** Events waiting for a retry a stage asked for (a gauge: claimed, not yet committed). */
  readonly deferred: number
  readonly batchesProcessed: number
  readonly errorCount: number
}

/** One user stage's figures (per writer, or summed over every slot ever used). */
export interface StageView {
  /** The stage's `name`, or `stages[i]`. */
  readonly name: string
  readonly index: number
  /** Events that entered the stage. */
  readonly in: number
  /** Returned as the same object (possibly changed in place). */
  readonly passed: number
  /** Returned as another object. */
  readonly changed: number
  /** Dropped (returned null or undefined). */
  readonly filtered: number
  /** Threw or rejected (the event went to the dead letters, reason stage_error). */
  readonly failed: number
  /** Put off by `retryLater()` (each request; the event comes back to the stage later). */
  readonly deferred: number
  /** failed / in (0 when nothing came in). */
  readonly errorRate: number
  /** Time one event spent in the stage, ms. */
  readonly timePerEventMs: Percentiles
  /** The time histogram's counts (the writers' 64 geometric buckets). */
  readonly timeHistogram: readonly number[]
}

/** Per-stage rows of every slot, and the stages' names. */
export interface StageRows {
  readonly names: readonly string[]
  /** slots[slot][stage] */
  readonly slots: readonly (readonly StageSnapshot[])[]
}

export interface WriterView extends MemberInfo, Totals {
  /** This writer's slot, per user stage. */
  readonly stages: readonly StageView[]
  readonly heldEvents: number
  readonly heartbeatAgeMs: number | undefined
  readonly batchWriteMs: Percentiles
  readonly captureToCommitMs: Percentiles
}

export interface PipelineMetrics {
  readonly uptimeMs: number
  readonly workerCount: number
  readonly healthyWorkers: number
  readonly failedWorkers: number
  readonly writers: readonly WriterView[]
  readonly totals: Totals
  /** Per user stage, summed over every writer slot ever used. */
  readonly stages: readonly StageView[]
  /** Per second over the last `windowSeconds` (up to 10) of one-second samples. */
  readonly rates: { readonly offeredPerSec: number; readonly storedPerSec: number; readonly windowSeconds: number }
  /**
   * Latency percentiles since start, and over the recent window (the last ~10 s of one-second
   * histogram samples; a spike leaves it once it is older than that).
   */
  readonly latency: {
    readonly batchWriteMs: Percentiles
    readonly captureToCommitMs: Percentiles
    readonly recent: { readonly windowSeconds: number; readonly batchWriteMs: Percentiles; readonly captureToCommitMs: Percentiles }
  }
  readonly ring: RingStats
  readonly dropped: RingStats['dropped']
  /** The store circuit breaker: state, trips so far, the attempts in its window, and the slot holding the half-open probe. */
  readonly breaker: { readonly state: 'closed' | 'open' | 'half_open'; readonly trips: number; readonly successes: number; readonly failures: number; readonly prober?: number }
}

const pct = (hist: readonly number[]): Percentiles => {
  const out: Record<string, number> = {}
  for (const p of [50, 90, 99] as const) {
    const v = percentile(hist, p)
    if (v !== undefined) out[`p${p}`] = Math.round(v * 1000) / 1000
  }
  return out
}

/** A row's counters under their public names. */
function countersOf(r: WriterMetricsSnapshot): Totals {
  return {
    eventsRead: r.eventsRead,
    eventsProcessed: r.eventsProcessed,
    eventsStored: r.eventsStored,
    duplicates: r.duplicates,
    filtered: r.filtered,
    invalid: r.invalid,
    poisoned: r.poisoned,
    stageErrors: r.stageErrors,
    killers: r.killers,
    retriesExhausted: r.retriesExhausted,
    retriedLater: r.retriedLater,
    deferred: r.deferred,
    batchesProcessed: r.batches,
    errorCount: r.errors,
  }
}

export function sumRows(buffer: SharedArrayBuffer): { totals: Totals; rows: WriterMetricsSnapshot[] } {
  const rows = Array.from({ length: rowsOf(buffer) }, (_, slot) => readWriterMetrics(buffer, slot))
  const totals = countersOf(rows[0]!)
  for (const r of rows.slice(1)) {
    const c = countersOf(r)
    for (const k of Object.keys(totals) as (keyof Totals)[]) (totals as Record<keyof Totals, number>)[k] += c[k]
  }
  return { rows, totals }
}

/** Offered = accepted + refused at the door (sampled out among them); the rate sampler and the report share this. */
export function offeredOf(ring: RingStats): number {
  const d = ring.dropped
  return ring.totalWrites + d.full + d.too_large + d.not_serializable + d.invalid_event + d.closed + d.timeout + d.sampled
}

interface Sample {
  readonly t: number
  readonly offered: number
  readonly stored: number
}

export class RateWindow {
  readonly #samples = new WindowBuffer<Sample>(11)

  add(t: number, offered: number, stored: number): void {
    this.#samples.add({ t, offered, stored })
  }

  rates(): PipelineMetrics['rates'] {
    const first = this.#samples.getFirst()
    const last = this.#samples.getLast()
    if (!first || !last || last.t <= first.t) return { offeredPerSec: 0, storedPerSec: 0, windowSeconds: 0 }
    const s = (last.t - first.t) / 1000
    return { offeredPerSec: Math.round((last.offered - first.offered) / s), storedPerSec: Math.round((last.stored - first.stored) / s), windowSeconds: Math.round(s * 10) / 10 }
  }
}

/** User stages' failures over the last 10 s of one-second samples, up to now. */
export class StageWindow {
  readonly #samples = new WindowBuffer<{ readonly t: number; readonly processed: number; readonly failed: number }>(11)

  add(t: number, totals: Totals): void {
    this.#samples.add({ t, processed: totals.eventsProcessed, failed: totals.stageErrors })
  }

  recent(now: number, totals: Totals): { failed: number; processed: number; windowSeconds: number } {
    const first = this.#samples.getFirst()
    if (!first) return { failed: 0, processed: 0, windowSeconds: 0 }
    return { failed: totals.stageErrors - first.failed, processed: totals.eventsProcessed - first.processed, windowSeconds: (now - first.t) / 1000 }
  }
}

function stageView(name: string, index: number, rows: readonly StageSnapshot[]): StageView {
  const sum = (f: StageField) => rows.reduce((n, r) => n + r[f], 0)
  const hist = mergeHistograms(rows.map((r) => r.timeHistogram))
  const n = sum('in')
  const failed = sum('failed')
  return { name, index, in: n, passed: sum('passed'), changed: sum('changed'), filtered: sum('filtered'), failed, deferred: sum('deferred'), errorRate: n === 0 ? 0 : failed / n, timePerEventMs: pct(hist), timeHistogram: hist }
}

/** Every stage summed over all slots. */
export function stageViews(s: StageRows): StageView[] {
  return s.names.map((name, i) => stageView(name, i, s.slots.map((slot) => slot[i]!).filter((r) => r !== undefined)))
}

export function writerViews(members: readonly MemberInfo[], rows: readonly WriterMetricsSnapshot[], now: number, stages: StageRows): WriterView[] {
  return members.map((m) => {
    const r = rows[m.slot]!
    const mine = stages.slots[m.slot]
    return {
      ...m,
      ...countersOf(r),
      stages: mine ? stages.names.map((name, i) => stageView(name, i, [mine[i]!])) : [],
      heldEvents: r.heldEvents,
      heartbeatAgeMs: r.heartbeatAt > 0 ? Math.round(now - r.heartbeatAt) : undefined,
      batchWriteMs: pct(r.writeLatency),
      captureToCommitMs: pct(r.endToEnd),
    }
  })
}

/** The writers' merged latency histograms once a second, for percentiles over a recent window. */
export class LatencyWindow {
  readonly #samples = new WindowBuffer<{ readonly t: number; readonly write: number[]; readonly e2e: number[] }>(11)

  add(t: number, rows: readonly WriterMetricsSnapshot[]): void {
    this.#samples.add({ t, write: mergeHistograms(rows.map((r) => r.writeLatency)), e2e: mergeHistograms(rows.map((r) => r.endToEnd)) })
  }

  /** Percentiles of what the histograms gained between the oldest sample in the window and `rows` now. */
  recent(now: number, rows: readonly WriterMetricsSnapshot[]): PipelineMetrics['latency']['recent'] {
    const first = this.#samples.getFirst()
    const write = mergeHistograms(rows.map((r) => r.writeLatency))
    const e2e = mergeHistograms(rows.map((r) => r.endToEnd))
    if (!first) return { windowSeconds: 0, batchWriteMs: pct(write), captureToCommitMs: pct(e2e) }
    const minus = (a: number[], b: readonly number[]) => a.map((v, k) => v - (b[k] as number))
    return { windowSeconds: Math.round((now - first.t) / 100) / 10, batchWriteMs: pct(minus(write, first.write)), captureToCommitMs: pct(minus(e2e, first.e2e)) }
  }
}

export function latencyOf(rows: readonly WriterMetricsSnapshot[], recent: PipelineMetrics['latency']['recent']): PipelineMetrics['latency'] {
  return {
    batchWriteMs: pct(mergeHistograms(rows.map((r) => r.writeLatency))),
    captureToCommitMs: pct(mergeHistograms(rows.map((r) => r.endToEnd))),
    recent,
  }
}
