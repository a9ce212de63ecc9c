// Metrics aggregation: the writers' shared-memory rows summed (every row, so a retired or dead
// writer's counts stay in the totals and nothing is counted twice), latency percentiles from the
// merged histograms, and rates over a sliding window of one-second samples (ring-buffer-ts).

import rbts from 'ring-buffer-ts'
import type { RingStats } from '@ringside/core-ringbuffer'
import { mergeHistograms, percentile, readWriterMetrics, rowsOf, type WriterMetricsSnapshot } from '@ringside/async-writer'
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
  readonly batchesProcessed: number
  readonly errorCount: number
}

export interface WriterView extends MemberInfo, Totals {
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
  /** Per second over the last `windowSeconds` (up to 10) of one-second samples. */
  readonly rates: { readonly offeredPerSec: number; readonly storedPerSec: number; readonly windowSeconds: number }
  readonly latency: { readonly batchWriteMs: Percentiles; readonly captureToCommitMs: Percentiles }
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

/** Offered = accepted + refused at the door; the rate sampler and the report share this. */
export function offeredOf(ring: RingStats): number {
  const d = ring.dropped
  return ring.totalWrites + d.full + d.too_large + d.not_serializable + d.invalid_event + d.closed + d.timeout
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

export function writerViews(members: readonly MemberInfo[], rows: readonly WriterMetricsSnapshot[], now: number): WriterView[] {
  return members.map((m) => {
    const r = rows[m.slot]!
    return {
      ...m,
      ...countersOf(r),
      heldEvents: r.heldEvents,
      heartbeatAgeMs: r.heartbeatAt > 0 ? Math.round(now - r.heartbeatAt) : undefined,
      batchWriteMs: pct(r.writeLatency),
      captureToCommitMs: pct(r.endToEnd),
    }
  })
}

export function latencyOf(rows: readonly WriterMetricsSnapshot[]): PipelineMetrics['latency'] {
  return {
    batchWriteMs: pct(mergeHistograms(rows.map((r) => r.writeLatency))),
    captureToCommitMs: pct(mergeHistograms(rows.map((r) => r.endToEnd))),
  }
}
