// The pipeline's log of itself: a periodic stats line (statsLogIntervalMs, off by default, live)
// and a warning when the store breaker trips. The hung-writer and escalation warnings are logged
// where they happen (the pool, the manager).

import type { Logger } from 'pino'
import type { PipelineMetrics } from './metrics.js'

export interface StatsSource {
  getMetrics(): PipelineMetrics
  getState(): { readonly restarts: { readonly total: number }; readonly config: { readonly poolSize: number } }
}

export class StatsLog {
  readonly #logger: Logger
  readonly #source: StatsSource
  #timer: NodeJS.Timeout | undefined
  #trips: number | undefined

  constructor(logger: Logger, source: StatsSource) {
    this.#logger = logger
    this.#source = source
  }

  /** (Re)starts the periodic line every `ms`; 0 stops it. */
  every(ms: number): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    if (ms <= 0) return
    this.#timer = setInterval(() => this.line(), ms)
    this.#timer.unref()
  }

  /** One stats line at info level. */
  line(): void {
    const m = this.#source.getMetrics()
    const s = this.#source.getState()
    this.#logger.info(
      {
        offeredPerSec: m.rates.offeredPerSec,
        storedPerSec: m.rates.storedPerSec,
        stored: m.totals.eventsStored,
        quarantined: m.totals.invalid + m.totals.poisoned + m.totals.stageErrors + m.totals.killers + m.totals.retriesExhausted,
        dropped: Object.values(m.dropped).reduce((a, b) => a + b, 0),
        ringFill: Math.round(m.ring.utilization * 1000) / 1000,
        writers: `${m.healthyWorkers}/${s.config.poolSize}`,
        restarts: s.restarts.total,
        captureToCommitP99Ms: m.latency.captureToCommitMs.p99,
        breaker: m.breaker.state,
      },
      'pipeline stats',
    )
  }

  /** Called on every sample: warns once per trip of the store breaker. */
  watchBreaker(state: 'closed' | 'open' | 'half_open', trips: number): void {
    if (this.#trips !== undefined && trips > this.#trips) {
      this.#logger.warn({ breaker: state, trips }, 'store circuit breaker opened: writers hold off and the ring absorbs')
    }
    this.#trips = trips
  }

  stop(): void {
    this.every(0)
  }
}
