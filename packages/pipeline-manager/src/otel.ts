// OpenTelemetry: the pipeline's figures as OTel instruments through @opentelemetry/api, for an app
// that already exports metrics that way. Counters and gauges are observed at collection time from
// one getMetrics() reading (like the Prometheus exporter); latency histograms are fed from the
// writers' shared-memory buckets once a second, recording each new count at its bucket's midpoint
// with the same bucket boundaries, so counts per bucket are exact and sums are estimates.

import { metrics as otelMetrics, type Attributes, type BatchObservableResult, type Histogram, type MeterProvider } from '@opentelemetry/api'
import { BUCKET_BOUNDS_MS } from '@ringside/async-writer'
import { STAGE_FIELDS } from '@ringside/async-writer/protocol'
import { DROP_REASONS } from '@ringside/core-ringbuffer'
import type { HealthReport } from './health.js'
import { offeredOf, type PipelineMetrics } from './metrics.js'
import type { OtelMeterProvider } from './config.js'

export interface OtelSource {
  getMetrics(): PipelineMetrics
  /** Each writer slot ever used: its writer id and its raw latency histograms. */
  histogramRows(): readonly { readonly writer: string; readonly writeLatency: readonly number[]; readonly endToEnd: readonly number[] }[]
  healthCheck(): HealthReport
  getState(): { readonly restarts: { readonly total: number; readonly poolRestarts: number }; readonly status: string }
}

const RANK = { healthy: 0, degraded: 1, unhealthy: 2 } as const
const MIDPOINTS = BUCKET_BOUNDS_MS.map((b, k) => (k === 0 ? b / 2 : ((BUCKET_BOUNDS_MS[k - 1] as number) + b) / 2))

/** Publishes the pipeline's metrics on the given provider (or the global one); returns a stop function. */
export class OtelPublisher {
  readonly #histograms: { readonly h: Histogram; readonly read: () => readonly { readonly attrs: Attributes; readonly counts: readonly number[] }[] }[]
  /** Bucket counts already recorded, per histogram and series. */
  readonly #seen = new Map<string, number[]>()
  readonly #stop: () => void

  constructor(source: OtelSource, provider: OtelMeterProvider | undefined, version: string) {
    const meter = ((provider as MeterProvider | undefined) ?? otelMetrics.getMeterProvider()).getMeter('ringside', version)
    const counter = (name: string, description: string, unit = '{event}') => meter.createObservableCounter(name, { description, unit })
    const gauge = (name: string, description: string, unit = '1') => meter.createObservableGauge(name, { description, unit })
    const offered = counter('ringside.events.offered', 'Events offered to the ring: accepted plus refused at the door.')
    const accepted = counter('ringside.events.accepted', 'Events the ring accepted.')
    const dropped = counter('ringside.events.dropped', 'Events refused or discarded by the ring, by reason.')
    const stored = counter('ringside.events.stored', 'Events the store took as new rows.')
    const duplicates = counter('ringside.events.duplicate', 'Re-stored events the store already held.')
    const filtered = counter('ringside.events.filtered', 'Events dropped by a user stage.')
    const quarantined = counter('ringside.events.quarantined', 'Events sent to dead letters, by reason.')
    const batches = counter('ringside.batches', 'Batches stored and committed.', '{batch}')
    const storeErrors = counter('ringside.store.errors', 'Failed store attempts.', '{error}')
    const restarts = counter('ringside.writer.restarts', 'Writer restarts by the supervisor.', '{restart}')
    const trips = counter('ringside.breaker.trips', 'Times the store circuit breaker opened.', '{trip}')
    const stageEvents = counter('ringside.stage.events', 'Events through each user stage, by outcome.')
    const fill = gauge('ringside.ring.utilization', 'Share of the ring in use (0..1).')
    const writers = gauge('ringside.writers', 'Running writers.', '{writer}')
    const health = gauge('ringside.health.status', 'Overall health: 0 healthy, 1 degraded, 2 unhealthy.')
    const batch = (result: BatchObservableResult) => {
      const m = source.getMetrics()
      const s = source.getState()
      const t = m.totals
      result.observe(offered, offeredOf(m.ring))
      result.observe(accepted, m.ring.totalWrites)
      for (const reason of DROP_REASONS) result.observe(dropped, m.dropped[reason] ?? 0, { reason })
      result.observe(stored, t.eventsStored)
      result.observe(duplicates, t.duplicates)
      result.observe(filtered, t.filtered)
      result.observe(quarantined, t.invalid, { reason: 'invalid_event' })
      result.observe(quarantined, t.stageErrors, { reason: 'stage_error' })
      result.observe(quarantined, t.poisoned, { reason: 'permanent_error' })
      result.observe(quarantined, t.retriesExhausted, { reason: 'retries_exhausted' })
      result.observe(quarantined, t.killers, { reason: 'killer' })
      result.observe(batches, t.batchesProcessed)
      result.observe(storeErrors, t.errorCount)
      result.observe(restarts, s.restarts.total)
      result.observe(trips, m.breaker.trips)
      for (const st of m.stages) for (const outcome of STAGE_FIELDS) result.observe(stageEvents, st[outcome], { stage: st.name, outcome })
      result.observe(fill, m.ring.utilization)
      result.observe(writers, m.healthyWorkers)
      result.observe(health, RANK[source.healthCheck().status])
    }
    const observables = [offered, accepted, dropped, stored, duplicates, filtered, quarantined, batches, storeErrors, restarts, trips, stageEvents, fill, writers, health]
    meter.addBatchObservableCallback(batch as never, observables)
    const advice = { explicitBucketBoundaries: [...BUCKET_BOUNDS_MS] }
    const histogram = (name: string, description: string) => meter.createHistogram(name, { description, unit: 'ms', advice })
    this.#histograms = [
      { h: histogram('ringside.batch.write.duration', 'Time to store one batch (storeEvents).'), read: () => source.histogramRows().map((r) => ({ attrs: { writer: r.writer }, counts: r.writeLatency })) },
      {
        h: histogram('ringside.capture_to_commit.duration', 'Time from capture in the ring to the commit of its batch, per event.'),
        read: () => source.histogramRows().map((r) => ({ attrs: { writer: r.writer }, counts: r.endToEnd })),
      },
      { h: histogram('ringside.stage.duration', 'Time one event spent in a user stage.'), read: () => source.getMetrics().stages.map((st) => ({ attrs: { stage: st.name }, counts: st.timeHistogram })) },
    ]
    this.#stop = () => meter.removeBatchObservableCallback(batch as never, observables)
  }

  /** Records what the writers' histograms gained since the last call (called once a second). */
  sample(): void {
    for (const [i, { h, read }] of this.#histograms.entries()) {
      for (const { attrs, counts } of read()) {
        const key = `${i}:${JSON.stringify(attrs)}`
        const seen = this.#seen.get(key) ?? new Array<number>(counts.length).fill(0)
        for (let k = 0; k < counts.length; k++) {
          const d = (counts[k] as number) - (seen[k] as number)
          for (let n = 0; n < d; n++) h.record(MIDPOINTS[k] as number, attrs)
        }
        this.#seen.set(key, [...counts])
      }
    }
  }

  stop(): void {
    this.#stop()
  }
}
