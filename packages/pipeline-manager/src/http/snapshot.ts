// One consistent reading of the pipeline per request: getMetrics(), getState() and healthCheck()
// taken together, plus the writers' raw histogram rows (for real Prometheus histograms). /stats,
// /readyz and the Prometheus collectors are all built from it.

import type { HistoryMarker, HistorySample, RecentDeadLetter } from '../history.js'
import type { PipelineRing } from '../ring-set.js'
import type { WriterMetricsSnapshot } from '@ringside/async-writer'
import type { StoreSource } from './store-reader.js'
import type { PipelineOptions, ResolvedConfig } from '../config.js'
import type { HealthReport } from '../health.js'
import { offeredOf, type PipelineMetrics } from '../metrics.js'
import type { PipelineState } from '../state.js'

/** What the server needs from the manager (PipelineManager has it all). */
export interface HttpPipeline {
  readonly ring: PipelineRing
  getState(): PipelineState
  getMetrics(): PipelineMetrics
  healthCheck(): HealthReport
  updateConfig(patch: Partial<PipelineOptions>): Promise<ResolvedConfig & { readonly version: number }>
  history(since?: number): { samples: HistorySample[]; markers: HistoryMarker[] }
  recentDeadLetters(): RecentDeadLetter[]
}

/** The pipeline, and a reader of the writers' shared-memory rows by slot (every row ever used). */
export interface HttpSources {
  readonly pipeline: HttpPipeline
  readonly rows: () => readonly WriterMetricsSnapshot[]
  /** The store the writers write, for the dashboard's reads (recent requests, call trees). */
  readonly store?: StoreSource
}

export interface Snapshot {
  /** ms since the epoch. */
  readonly time: number
  readonly metrics: PipelineMetrics
  readonly state: PipelineState
  readonly health: HealthReport
  readonly rows: readonly WriterMetricsSnapshot[]
}

export function takeSnapshot(s: HttpSources): Snapshot {
  return { time: Date.now(), metrics: s.pipeline.getMetrics(), state: s.pipeline.getState(), health: s.pipeline.healthCheck(), rows: s.rows() }
}

/** Writer id of a metrics row; the same as the pool's member ids. */
export { writerId as writerOfSlot } from '../writer-id.js'

/** GET /stats: the metrics as JSON, with the pipeline's status, restarts and health beside them. */
export function statsOf(s: Snapshot) {
  return {
    time: s.time,
    status: s.state.status,
    configVersion: s.state.config.version,
    poolSize: s.state.config.poolSize,
    restarts: s.state.restarts,
    health: s.health,
    offered: offeredOf(s.metrics.ring),
    ...s.metrics,
  }
}

/**
 * GET /readyz: ready while the pipeline runs and its health is not `unhealthy` (a degraded pipeline
 * still takes and stores events). The reasons are the checks that are not healthy.
 */
export function readinessOf(s: Snapshot): { ready: boolean; body: Record<string, unknown> } {
  const running = s.state.status === 'running'
  const ready = running && s.health.status !== 'unhealthy'
  const reasons = s.health.checks.filter((c) => c.status !== 'healthy').map((c) => `${c.name}: ${c.reason}`)
  if (!running) reasons.unshift(`pipeline: ${s.state.status}`)
  return { ready, body: { ready, status: s.health.status, pipeline: s.state.status, reasons, checks: s.health.checks } }
}
