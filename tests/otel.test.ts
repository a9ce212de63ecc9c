import { describe, expect, it } from 'vitest'
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { BUCKET_BOUNDS_MS } from '@ringside/async-writer'
import { PipelineManager } from '@ringside/pipeline-manager'
import { until, untilAsync } from './fixtures/until.js'

// With `otel`, the pipeline publishes its figures as OpenTelemetry instruments; read here through
// the SDK's own MeterProvider and a pull reader, as an app's exporter would.

class PullReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

const metricsOf = (r: ResourceMetrics) => new Map(r.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]))

describe('otel', () => {
  it('publishes counters, gauges and histograms with the writers\' bucket boundaries on the given MeterProvider', async () => {
    const reader = new PullReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const ring = RingBuffer.create({ size: 1024 })
    const p = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 2, otel: { meterProvider } })
    try {
      for (let n = 0; n < 500; n++) ring.write({ type: 'call', n })
      ring.write({ pid: 'no type: invalid' })
      await until(() => p.getMetrics().totals.eventsStored === 500, 30_000, 'every event stored')
      const read = async () => metricsOf((await reader.collect()).resourceMetrics)
      const sumOf = (m: ReturnType<typeof metricsOf>, name: string, attrs?: Record<string, string>) =>
        (m.get(name)?.dataPoints ?? [])
          .filter((d) => !attrs || Object.entries(attrs).every(([k, v]) => d.attributes[k] === v))
          .reduce((n, d) => n + (d.value as number), 0)
      // The histogram is fed once a second from the writers' buckets.
      await untilAsync(async () => {
        const h = (await read()).get('ringside.capture_to_commit.duration')
        // Every committed event, the invalid one (a dead letter) included.
        return (h?.dataPoints ?? []).reduce((n, d) => n + (d.value as { count: number }).count, 0) === 501
      }, 30_000, 'every event in the capture-to-commit histogram')

      const m = await read()
      expect(sumOf(m, 'ringside.events.accepted')).toBe(501)
      expect(sumOf(m, 'ringside.events.stored')).toBe(500)
      expect(sumOf(m, 'ringside.events.quarantined', { reason: 'invalid_event' })).toBe(1)
      expect(sumOf(m, 'ringside.writers')).toBe(2)
      expect(sumOf(m, 'ringside.health.status')).toBe(0)
      const h = m.get('ringside.capture_to_commit.duration')!
      expect(h.dataPointType).toBe(DataPointType.HISTOGRAM)
      expect(h.descriptor.unit).toBe('ms')
      const point = h.dataPoints[0]!.value as { buckets: { boundaries: number[] } }
      expect(point.buckets.boundaries).toEqual([...BUCKET_BOUNDS_MS])
    } finally {
      await p.stop()
      await meterProvider.shutdown()
    }
  })

  it('publishes nothing without the option', async () => {
    const reader = new PullReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const p = await PipelineManager.start({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'memory' }, poolSize: 1 })
    try {
      expect((await reader.collect()).resourceMetrics.scopeMetrics).toEqual([])
    } finally {
      await p.stop()
      await meterProvider.shutdown()
    }
  })

  it('refuses an otel option that is not a MeterProvider', async () => {
    await expect(PipelineManager.start({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'memory' }, otel: { meterProvider: {} } as never })).rejects.toMatchObject({
      code: 'invalid_option',
      option: 'otel',
    })
  })
})
