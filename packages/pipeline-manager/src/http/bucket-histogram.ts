// A real Prometheus histogram from histograms that are already bucketed: each writer's 64 geometric
// latency buckets in shared memory (BUCKET_BOUNDS_MS, ratio 1.25 from 0.05 ms). prom-client's
// Histogram only observes one value at a time, so this collector hands the registry finished
// series instead: cumulative `_bucket{le}` in seconds, `_count`, and `_sum` estimated from the buckets.

import type { Metric, Registry } from 'prom-client'
import { BUCKET_BOUNDS_MS } from '@ringside/async-writer'

/** One labelled histogram: counts per bucket, in BUCKET_BOUNDS_MS order. */
export interface BucketSeries {
  readonly labels: Readonly<Record<string, string>>
  readonly counts: readonly number[]
}

interface SeriesValue {
  readonly metricName: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/**
 * Upper bounds in seconds as label values. The last bucket also holds everything above its bound
 * (see bucketOf), so it is exposed only as `+Inf`.
 */
const LE: readonly string[] = BUCKET_BOUNDS_MS.slice(0, -1).map((ms) => String(Number((ms / 1000).toPrecision(6))))

/**
 * A value standing for each bucket in the estimated `_sum`: the geometric middle of its bounds
 * (half the bound for the first). A bucket spans a factor of 1.25, so each value is off by at most
 * about 12 %, and so is the sum (except for what sits in the first and the last bucket).
 */
const MIDDLE_S: readonly number[] = BUCKET_BOUNDS_MS.map((hi, k) => (k === 0 ? hi / 2 : Math.sqrt(hi * BUCKET_BOUNDS_MS[k - 1]!)) / 1000)

export class BucketHistogram {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #read: () => Iterable<BucketSeries>

  constructor(options: { name: string; help: string; registry: Registry; read: () => Iterable<BucketSeries> }) {
    this.name = options.name
    this.help = options.help
    this.#read = options.read
    // The registry only calls name, help, type, aggregator and get() (and reset() on resetMetrics).
    options.registry.registerMetric(this as unknown as Metric)
  }

  /** The series as prom-client's registry formats them. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: SeriesValue[] }> {
    const values: SeriesValue[] = []
    for (const { labels, counts } of this.#read()) {
      let cumulative = 0
      let sum = 0
      for (let k = 0; k < counts.length; k++) {
        const c = counts[k]!
        cumulative += c
        sum += c * MIDDLE_S[k]!
        if (k < LE.length) values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: LE[k]! }, value: cumulative })
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative })
      values.push({ metricName: `${this.name}_sum`, labels, value: sum })
      values.push({ metricName: `${this.name}_count`, labels, value: cumulative })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** Nothing to reset: the counts live in the writers' shared memory. */
  reset(): void {}
}
