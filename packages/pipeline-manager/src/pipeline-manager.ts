// PipelineManager: the public API and the supervisor of the writer pool. It starts the pool,
// restarts it within its own intensity when the pool escalates, aggregates metrics, answers health
// probes, applies config changes live, and on stop drains the ring and reports every event's bucket.
// The application is never crashed by the pipeline: failures become events, logs and health.

import { EventEmitter } from 'eventemitter3'
import { pino, type Logger } from 'pino'
import type { PriorityRingStats, RingBuffer } from '@ringside/core-ringbuffer'
import { MemoryStore, type EventStore, type StoreSpec } from '@ringside/storage'
import { SharedBreaker, createBreakerBuffer, createMetricsBuffer, createStageMetricsBuffer, readStageMetrics, type FaultSwitch, type WriterConfig } from '@ringside/async-writer/protocol'
import type { StageSpec } from '@ringside/async-writer'
import { SUPERVISION_KEYS, applyPatch, resolveOptions, type PipelineOptions, type ResolvedConfig } from './config.js'
import { ConfigUpdateError, PipelineError } from './errors.js'
import { ExitJournal } from './exit-journal.js'
import { heldOpen, joinExitHooks } from './exit-hooks.js'
import { checkStoreAtStart } from './store-checks.js'
import { evaluateHealth, type HealthReport } from './health.js'
import type { HttpAddress, HttpServer } from './http/server.js'
import { LatencyWindow, latencyOf, offeredOf, RateWindow, StageWindow, stageViews, sumRows, writerViews, type PipelineMetrics, type StageRows } from './metrics.js'
import { addStoreCounts, addRouteCounts, buildReport, priorityAccounts, type AccountingReport, type StoreCount } from './report.js'
import { subRingsOf, type PipelineRing } from './ring-set.js'
import { registerRestart } from './supervisor/restart-policy.js'
import type { PipelineEvents, PipelineState, PipelineStatus } from './state.js'
import { LocalStore } from './local-store.js'
import { AsyncWriterPool, type WriterIntrospection } from './writer-pool.js'
import { StatsLog } from './stats-log.js'
import { History, type HistoryMarker, type HistorySample, type RecentDeadLetter } from './history.js'
import type { OtelPublisher } from './otel.js'
import { storeLockFor } from './supervisor/store-locks.js'
import { PressureWatch, type PressureReason } from './pressure.js'

/** How long a pipeline whose application left without stop() gets to drain when the event loop empties. */
export const LOOP_EMPTY_STOP_MS = 5_000


const POOL_EVENTS = ['writer_started', 'spare_started', 'writer_exited', 'writer_restarted', 'writer_hung', 'writer_killer_found', 'claims_handed_over', 'pool_scaled', 'batch'] as const
/** Reported as the OpenTelemetry meter's version. */
const VERSION = '0.1.0'
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function writerConfigOf(c: ResolvedConfig): WriterConfig {
  return {
    batchSize: c.batchSize,
    maxBatchBytes: c.maxBatchBytes,
    lingerMs: c.lingerMs,
    pollIntervalMs: c.pollIntervalMs,
    logBatches: c.logBatches,
    retryBaseMs: c.retryBaseMs,
    retryMaxMs: c.retryMaxMs,
    permanentAttempts: c.permanentAttempts,
    batchTimeoutMs: c.batchTimeoutMs,
    retry: c.retry,
  }
}

const storeLockOption = (spec: StoreSpec): { storeLock?: SharedArrayBuffer } => {
  const lock = storeLockFor(spec)
  return lock ? { storeLock: lock } : {}
}

/**
 * The pipeline, typed by the ring it drains (`R`, from `start`'s `ring`: a RingBuffer unless a
 * PriorityRing is given), so `pipeline.ring` is that ring.
 */
export class PipelineManager<R extends PipelineRing = PipelineRing> extends EventEmitter<PipelineEvents> {
  readonly #ring: R
  readonly #pool: AsyncWriterPool
  readonly #metricsBuffer: SharedArrayBuffer
  readonly #logger: Logger
  readonly #store: EventStore | undefined
  readonly #storeSpec: StoreSpec
  readonly #breaker: SharedBreaker
  readonly #startedAt = Date.now()
  readonly #rates = new RateWindow()
  readonly #stageWindow = new StageWindow()
  readonly #latencyWindow = new LatencyWindow()
  readonly #history = new History()
  #lastTrips: number | undefined
  #stageMetricsBuffer: SharedArrayBuffer | undefined
  /** Stages the rows of #stageMetricsBuffer are laid out for (the list in force once a swap is done). */
  #stageCount = 0
  readonly #statsLog: StatsLog
  readonly #pressure: PressureWatch
  #otel: OtelPublisher | undefined
  #config: ResolvedConfig
  #version = 1
  #status: PipelineStatus = 'running'
  #supervisorProblem: string | undefined
  #poolRestarts: number[] = []
  #poolRestartCount = 0
  #sampler: NodeJS.Timeout | undefined
  #stopping: Promise<AccountingReport> | undefined
  #journal: ExitJournal | undefined
  #leaveExitHooks: (() => void) | undefined
  /** The store as this thread sees it: the health probe and the count at stop (see LocalStore). */
  #local: LocalStore | undefined
  #http: HttpServer | undefined
  /** The tail of the queue of control calls (see #serialize); never rejects. */
  #control: Promise<unknown> = Promise.resolve()

  private constructor(
    ring: R,
    config: ResolvedConfig,
    pool: AsyncWriterPool,
    metricsBuffer: SharedArrayBuffer,
    logger: Logger,
    store: EventStore | undefined,
    storeSpec: StoreSpec,
    breaker: SharedBreaker,
  ) {
    super()
    this.#storeSpec = storeSpec
    this.#breaker = breaker
    this.#ring = ring
    this.#config = config
    this.#pool = pool
    this.#metricsBuffer = metricsBuffer
    this.#logger = logger
    this.#store = store
    this.#statsLog = new StatsLog(logger, this)
    this.#pressure = new PressureWatch(
      () => ({ ringFill: ring.pressure(), breakerOpen: breaker.state === 'open', writersTarget: pool.size, writersRunning: pool.running }),
      (e) => {
        this.#logger[e.rising ? 'warn' : 'info'](e, 'pipeline pressure')
        this.emit('pressure', e)
      },
      config.pressure,
    )
  }

  /**
   * Validates the options, starts the writers (and the HTTP server, with `http`) and resolves once
   * every writer is ready. Rejects with PipelineConfigError (a bad option, named), StoreOpenError
   * (a SQLite file that is not a Ringside store or cannot be written: `not_a_ringside_store`,
   * `not_a_database`, `store_read_only`, ...), JournalError (the journal path is refused; see its
   * codes), WriterStartError (a writer failed before ready) or PipelineError `http_listen_failed`
   * (the writers are stopped first).
   */
  static start<R extends PipelineRing = RingBuffer>(options: PipelineOptions & { ring: R }): Promise<PipelineManager<R>> {
    // The writers' threads do not hold the process open; an application awaiting start does.
    return heldOpen(PipelineManager.#start(options) as Promise<PipelineManager<R>>)
  }

  static async #start(options: PipelineOptions): Promise<PipelineManager<PipelineRing>> {
    const { config, ring, store, logger: given } = resolveOptions(options)
    const logger =
      given ?? (config.preset === 'debug' ? pino({ name: 'ringside', level: 'debug' }, pino.destination(2)) : pino({ level: 'silent' }))
    // The memory store lives in this thread; writers reach it through ports (see @ringside/storage).
    const hosted = (store as { kind?: string }).kind === 'memory' ? new MemoryStore() : undefined
    const metricsBuffer = createMetricsBuffer(config.maxPoolSize)
    const breakerBuffer = createBreakerBuffer(config.breaker)
    const stageMetricsBuffer = createStageMetricsBuffer(config.maxPoolSize, config.stages.length)
    const pool = new AsyncWriterPool({
      ring,
      store,
      stageMetricsBuffer,
      ...(hosted ? { hostedStore: hosted } : {}),
      stages: config.stages,
      writerConfig: writerConfigOf(config),
      supervision: {
        strategy: config.strategy,
        restart: config.restart,
        shutdown: config.shutdown,
        maxRestarts: config.maxRestarts,
        maxSeconds: config.maxSeconds,
        restartBackoffMs: config.restartBackoffMs,
        restartBackoffMaxMs: config.restartBackoffMaxMs,
      },
      writerMaxHeapMb: config.writerMaxHeapMb,
      metricsBuffer,
      breakerBuffer,
      maxPoolSize: config.maxPoolSize,
      abandonAfterMs: config.abandonAfterMs,
      spares: config.spares,
      ...(config.storeWriteLock && !hosted ? storeLockOption(store) : {}),
      logger,
    })
    const manager = new PipelineManager<PipelineRing>(ring, config, pool, metricsBuffer, logger, hosted, store, new SharedBreaker(breakerBuffer))
    manager.#stageMetricsBuffer = stageMetricsBuffer
    manager.#stageCount = config.stages.length
    // Refused here, typed, before any writer starts: a file that is not a Ringside store, a
    // read-only one; then the journal's checks and replay.
    const file = await checkStoreAtStart(store)
    manager.#local = new LocalStore({
      spec: store,
      hosted,
      file,
      logger,
      intervalMs: () => manager.#config.health.storeProbeMs,
      onLost: (reason) => manager.emit('error', new PipelineError('store_file_lost', reason)),
    })
    if (config.journal) manager.#journal = await manager.#openJournal(config.journal.path)
    manager.#wire()
    manager.#sample() // the windows start before the first event is processed
    try {
      await pool.start(config.poolSize)
    } catch (err) {
      manager.#journal?.finish()
      throw err
    }
    if (config.http) {
      try {
        // Loaded only when asked for: the HTTP server (with prom-client) and OpenTelemetry cost
        // the application's thread several MB of heap it should not pay without them.
        const { HttpServer } = await import('./http/server.js')
        manager.#http = await HttpServer.start({ pipeline: manager, rows: () => sumRows(metricsBuffer).rows, store: { spec: store, hosted } }, config.http, logger)
      } catch (err) {
        // Nothing outlives a failed start: the writers stop; the ring stays open for the caller.
        await pool.stopAll(5_000)
        manager.#journal?.finish()
        throw err
      }
    }
    manager.#statsLog.every(config.statsLogIntervalMs)
    manager.#pressure.start()
    if (config.otel) manager.#otel = new (await import('./otel.js')).OtelPublisher(manager, config.otel === true ? undefined : config.otel.meterProvider, VERSION)
    manager.#sampler = setInterval(() => manager.#sample(), 1_000)
    manager.#sampler.unref()
    manager.#sample()
    manager.#local.schedule(0)
    manager.#joinExitHooks()
    logger.info({ poolSize: config.poolSize, preset: config.preset }, 'pipeline started')
    return manager
  }

  /** Checks, replays and renews the exit journal (see ExitJournal), before any writer starts. */
  #openJournal(path: string): Promise<ExitJournal> {
    return ExitJournal.open({
      path,
      store: this.#storeSpec,
      ring: this.#ring,
      stages: this.#config.stages,
      hosted: this.#store,
      logger: this.#logger,
      onWriteFailed: (err) => this.emit('error', err),
    })
  }

  /**
   * Joins the process-wide exit hooks (exit-hooks.ts): with a journal, exit, SIGINT, SIGTERM,
   * SIGHUP, SIGQUIT and an uncaught exception write what the ring holds to it; with or without,
   * an event loop that runs dry stops the pipeline within LOOP_EMPTY_STOP_MS.
   */
  #joinExitHooks(): void {
    this.#leaveExitHooks = joinExitHooks({
      journaled: this.#journal !== undefined,
      onProcessExit: (reason) => {
        this.#journal?.write(reason)
        // A crash may be survived (the application's uncaughtException handler): keep the lock
        // until the process really exits.
        if (reason !== 'uncaught exception') this.#journal?.finish()
      },
      onLoopEmpty: () => this.stop({ timeoutMs: LOOP_EMPTY_STOP_MS }),
    })
  }

  /** The ring the pipeline drains (a RingBuffer or a PriorityRing, as given to start). */
  get ring(): R {
    return this.#ring
  }

  /** Where the HTTP server listens (`http` option), with the dashboard's URL; undefined without it. */
  get httpAddress(): HttpAddress | undefined {
    return this.#http?.address
  }

  /**
   * The pressure level in force (0: below every level; see the `pressure` option and event) and
   * the latest reading: its strongest signal and value.
   */
  get pressure(): { level: number; reason: PressureReason; value: number } {
    return this.#pressure.state
  }

  /** The memory store held by this thread (`store: { kind: 'memory' }` only); it stays readable after stop. */
  get memoryStore(): EventStore | undefined {
    return this.#store
  }

  #wire(): void {
    // Re-emit the pool's lifecycle events as the manager's own.
    const forward = this.emit.bind(this) as (name: string, e: unknown) => boolean
    const listen = this.#pool.on.bind(this.#pool) as (name: string, f: (e: unknown) => void) => unknown
    for (const name of POOL_EVENTS) listen(name, (e) => forward(name, e))
    this.#pool.on('batch', ({ id, report }) => this.#logger.debug({ writer: id, ...report }, 'batch'))
    this.#pool.on('error', (err) => this.emit('error', err))
    const mark = (kind: Parameters<History['mark']>[1], label: string) => this.#history.mark(Date.now(), kind, label)
    this.#pool.on('writer_restarted', (e) => mark('restart', `${e.id} restarted (${e.restarts})`))
    this.#pool.on('writer_hung', (e) => mark('hung', `${e.id} hung: a step outlived batchTimeoutMs`))
    this.#pool.on('writer_killer_found', (e) => mark('killer', `event ${e.seq} ${e.reason === 'timeout' ? 'hung' : 'killed'} ${e.id}`))
    this.#pool.on('pool_scaled', (e) => mark('scale', `pool ${e.from} → ${e.to}`))
    this.#pool.on('escalated', (e) => mark('escalated', `pool escalated: ${e.reason}`))
    this.#pool.on('quarantined', (e) => {
      this.#history.quarantined(Date.now(), e.id, e.items)
      this.emit('quarantined', e)
    })
    this.on('config_changed', (e) => mark('config', `config v${e.version}: ${e.changed.join(', ')}`))
    this.#pool.on('escalated', (e) => void this.#onEscalated(e))
  }

  async #onEscalated(e: { reason: string; restartsInWindow: number }): Promise<void> {
    this.emit('escalated', e)
    if (this.#status !== 'running') return
    const { history, exceeded } = registerRestart(this.#poolRestarts, Date.now(), this.#config.managerMaxRestarts, this.#config.managerMaxSeconds)
    this.#poolRestarts = history
    if (exceeded) {
      this.#status = 'failed'
      this.#supervisorProblem = `writer pool escalated and the manager's restart intensity is spent: ${e.reason}`
      this.#logger.error({ reason: e.reason }, 'pipeline failed')
      this.emit('error', new PipelineError('escalated', this.#supervisorProblem))
      return
    }
    this.#supervisorProblem = `restarting the writer pool after: ${e.reason}`
    try {
      // In turn with control calls: a scale in flight must not start writers into the fresh pool's slots.
      await this.#serialize(() => this.#pool.restartAll())
      this.#poolRestartCount++
      this.#supervisorProblem = undefined
      this.emit('pool_restarted', { restarts: this.#poolRestartCount })
    } catch (err) {
      this.#status = 'failed'
      this.#supervisorProblem = `the writer pool could not be restarted: ${(err as Error).message}`
      this.emit('error', new PipelineError('escalated', this.#supervisorProblem, { cause: err }))
    }
  }

  #sample(): void {
    const ring = this.#ring.stats()
    const now = Date.now()
    const { totals, rows } = sumRows(this.#metricsBuffer)
    this.#rates.add(now, offeredOf(ring), totals.eventsStored)
    this.#stageWindow.add(now, totals)
    const recent = this.#latencyWindow.recent(now, rows).captureToCommitMs
    this.#latencyWindow.add(now, rows)
    this.#history.sample(now, offeredOf(ring), totals.eventsStored, {
      ringFill: ring.utilization,
      writers: this.#pool.running,
      ...(recent.p50 !== undefined ? { p50Ms: recent.p50 } : {}),
      ...(recent.p99 !== undefined ? { p99Ms: recent.p99 } : {}),
      quarantined: totals.invalid + totals.poisoned + totals.stageErrors + totals.killers + totals.retriesExhausted,
      restarts: this.#pool.totalRestarts,
    })
    if (this.#lastTrips !== undefined && this.#breaker.trips > this.#lastTrips) this.#history.mark(now, 'breaker', `store breaker opened (trip ${this.#breaker.trips})`)
    this.#lastTrips = this.#breaker.trips
    this.#statsLog.watchBreaker(this.#breaker.state, this.#breaker.trips)
    this.#otel?.sample()
  }

  /** Config (with its version), pool members, restarts and uptime. */
  getState(): PipelineState {
    return {
      status: this.#status,
      config: { ...this.#config, version: this.#version },
      members: this.#pool.members(),
      spares: this.#pool.spares(),
      restarts: { total: this.#pool.totalRestarts, inWindow: this.#pool.restartsInWindow(), poolRestarts: this.#poolRestartCount },
      startedAt: this.#startedAt,
      uptimeMs: Date.now() - this.#startedAt,
      ...(this.#journal ? { journal: this.#journal.state } : {}),
    }
  }

  /** Per writer and totals, rates, latency percentiles, ring stats and drops by reason. */
  getMetrics(): PipelineMetrics {
    const now = performance.timeOrigin + performance.now()
    const { totals, rows } = sumRows(this.#metricsBuffer)
    const members = this.#pool.members()
    const ring = this.#ring.stats()
    const healthy = members.filter((m) => m.state === 'running').length
    return {
      uptimeMs: Date.now() - this.#startedAt,
      workerCount: members.length,
      healthyWorkers: healthy,
      failedWorkers: Math.max(0, this.#pool.size - healthy),
      writers: writerViews(members, rows, now, this.#stageRows()),
      totals,
      stages: stageViews(this.#stageRows()),
      rates: this.#rates.rates(),
      latency: latencyOf(rows, this.#latencyWindow.recent(Date.now(), rows)),
      ring,
      dropped: ring.dropped,
      breaker: { state: this.#breaker.state, trips: this.#breaker.trips, ...this.#breaker.window(), ...(this.#breaker.prober === undefined ? {} : { prober: this.#breaker.prober }) },
    }
  }

  /** Each writer slot ever used, with its raw latency histograms (for OpenTelemetry). */
  histogramRows(): { writer: string; writeLatency: readonly number[]; endToEnd: readonly number[] }[] {
    return sumRows(this.#metricsBuffer).rows.flatMap((r, slot) => (r.incarnation > 0 ? [{ writer: `writer-${slot + 1}`, writeLatency: r.writeLatency, endToEnd: r.endToEnd }] : []))
  }

  /**
   * The last ten minutes: one sample a second (rates, fill, writers, recent p50/p99, quarantined,
   * restarts) and markers (restarts, hangs, killers, scale changes, config versions, breaker trips),
   * newer than `since` (ms since the epoch).
   */
  history(since?: number): { samples: HistorySample[]; markers: HistoryMarker[] } {
    return this.#history.read(since)
  }

  /** The latest dead letters (newest first, up to 50) as the writers reported them. */
  recentDeadLetters(): RecentDeadLetter[] {
    return this.#history.deadLetters()
  }

  /** Every slot's per-stage rows, with the stages' names. */
  #stageRows(): StageRows {
    const n = this.#stageCount
    const names = this.#pool.stageNames ?? Array.from({ length: n }, (_, i) => `stages[${i}]`)
    const buffer = this.#stageMetricsBuffer
    const slots = n === 0 || !buffer ? [] : Array.from({ length: this.#config.maxPoolSize }, (_, slot) => readStageMetrics(buffer, slot, n))
    return { names, slots }
  }

  /** `healthy` / `degraded` / `unhealthy`, with each check's reason. */
  healthCheck(): HealthReport {
    const ring = this.#ring.stats()
    const now = performance.timeOrigin + performance.now()
    return evaluateHealth({
      targetWriters: this.#pool.size,
      runningWriters: this.#pool.running,
      restartsInWindow: this.#pool.restartsInWindow(),
      maxRestarts: this.#config.maxRestarts,
      maxSeconds: this.#config.maxSeconds,
      ringUtilization: ring.utilization,
      oldestUnstoredAgeMs: ring.oldestPendingAt === undefined ? undefined : now - ring.oldestPendingAt,
      supervisorProblem: this.#status === 'stopped' ? 'pipeline stopped' : this.#supervisorProblem,
      breaker: { state: this.#breaker.state, trips: this.#breaker.trips, openedAt: this.#breaker.openedAt },
      ...(this.#local?.health ? { store: { ...this.#local.health, intervalMs: this.#config.health.storeProbeMs } } : {}),
      ...(this.#config.stages.length > 0 ? { stages: this.#stageWindow.recent(Date.now(), sumRows(this.#metricsBuffer).totals) } : {}),
      ...(this.#journal ? { journal: this.#journal.health() } : {}),
      now: Date.now(),
      thresholds: this.#config.health,
    })
  }

  /**
   * Validates a patch (PipelineConfigError names the bad key; `not_live` for keys fixed at start)
   * and applies it whole or not at all: supervision, breaker, health, every writer's config, and
   * the pool's size (a patch with `poolSize` always brings the pool to it, even when unchanged).
   * Returns the effective config with its version. Control calls run one at a time in the order
   * they were made, so concurrent ones converge to the last. A change that fails midway (a writer
   * it starts fails before ready, the pool escalates meanwhile) is rolled back and rejects with
   * ConfigUpdateError, its cause saying why; the version moves only on success.
   */
  updateConfig(patch: Partial<PipelineOptions>): Promise<ResolvedConfig & { readonly version: number }> {
    return heldOpen(this.#serialize(() => this.#updateConfig(patch)))
  }

  async #updateConfig(patch: Partial<PipelineOptions>): Promise<ResolvedConfig & { readonly version: number }> {
    this.#assertRunning()
    const prev = this.#config
    const next = applyPatch(prev, patch)
    const changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined)
    try {
      await this.#applyConfig(prev, next)
      if (patch.poolSize !== undefined) await this.#pool.scale(next.poolSize)
      // Last, so nothing after it can fail: the pool's swap is all or nothing by itself.
      if (patch.stages !== undefined) await this.#swapStages(next.stages)
    } catch (err) {
      // The pool restores its own size; everything else goes back here.
      await this.#applyConfig(next, prev).catch((e: unknown) => this.#logger.error({ err: e }, 'could not roll a config change back'))
      this.#logger.warn({ err, changed }, 'config change rolled back')
      if (this.#status === 'stopping' || this.#status === 'stopped') throw new PipelineError('stopped', 'the pipeline stopped while a config change was applied', { cause: err })
      throw new ConfigUpdateError(changed, `the config change (${changed.join(', ')}) was rolled back: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    this.#version++
    this.emit('config_changed', { version: this.#version, changed })
    this.#logger.info({ version: this.#version, changed }, 'config changed')
    return { ...this.#config, version: this.#version }
  }

  /** Puts a new stage list in every writer (validated by loading it in each first); per-stage metrics start again. */
  async #swapStages(stages: readonly StageSpec[]): Promise<void> {
    const buffer = createStageMetricsBuffer(this.#config.maxPoolSize, stages.length)
    await this.#pool.swapStages(stages, buffer)
    this.#stageMetricsBuffer = buffer
    this.#stageCount = stages.length
  }

  /** Moves the config in force from `from` to `to`: supervision, breaker, store probe, writers. */
  async #applyConfig(from: ResolvedConfig, to: ResolvedConfig): Promise<void> {
    this.#config = to
    this.#pool.setSupervision(Object.fromEntries(SUPERVISION_KEYS.map((k) => [k, to[k]])))
    if (to.breaker !== from.breaker) this.#breaker.configure(to.breaker)
    if (to.statsLogIntervalMs !== from.statsLogIntervalMs) this.#statsLog.every(to.statsLogIntervalMs)
    if (to.pressure !== from.pressure) this.#pressure.configure(to.pressure)
    if (to.health.storeProbeMs !== from.health.storeProbeMs) this.#local?.intervalChanged()
    await this.#pool.configure(writerConfigOf(to))
  }

  /**
   * Runs control calls one at a time, in the order they were made: two scale-ups or config
   * changes interleaved would each act on a pool the other is changing.
   */
  #serialize<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#control.then(op)
    this.#control = run.catch(() => undefined)
    return run
  }

  /**
   * Grows or shrinks the pool at runtime (`updateConfig({ poolSize: n })`); retiring writers
   * finish and commit their batch first. Asked for the size in force, it starts writers up to it
   * again (after a temporary or transient writer left).
   */
  async scalePool(n: number): Promise<void> {
    await this.updateConfig({ poolSize: n })
  }

  /** Asks every running writer for its own config and metrics (over comlink): what it really applies. In turn with other control calls. */
  inspectWriters(): Promise<WriterIntrospection[]> {
    return heldOpen(this.#serialize(() => this.#pool.introspect()))
  }

  /** Crash drill: terminates the writer thread in `slot` as a crash would. */
  async killWriter(slot: number): Promise<void> {
    await heldOpen(this.#pool.kill(slot))
  }

  /** Crash drill: sets a fault switch on the writer in `slot` (crash, exit or hang at a point of its batch cycle). */
  async setWriterFault(slot: number, fault: FaultSwitch | undefined): Promise<void> {
    await heldOpen(this.#pool.setFault(slot, fault))
  }

  /**
   * Closes the HTTP server (if any; requests in flight get a short grace), then the ring's intake,
   * lets the writers drain it, stops them (two-phase), and reports every
   * event's bucket. Everything happens within `timeoutMs` (default 5000); what did not make it is
   * reported as in flight. Calling stop twice returns the same report.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<AccountingReport> {
    this.#stopping ??= heldOpen(this.#stop(options.timeoutMs ?? 5_000))
    return this.#stopping
  }

  async #stop(timeoutMs: number): Promise<AccountingReport> {
    const t0 = Date.now()
    const deadline = t0 + timeoutMs
    const wasFailed = this.#status === 'failed'
    this.#status = 'stopping'
    // HTTP first: no new requests; those in flight may still finish while the ring takes events.
    await this.#http?.close(Math.max(100, Math.min(2_000, timeoutMs / 4)))
    this.#ring.close()
    let drained = false
    while (Date.now() < deadline) {
      const s = this.#ring.stats()
      if (s.ready + s.claimed === 0) {
        drained = true
        break
      }
      if (wasFailed) break
      await delay(5)
    }
    await this.#pool.stopAll(Math.max(100, deadline - Date.now()))
    if (this.#sampler) clearInterval(this.#sampler)
    this.#statsLog.stop()
    this.#pressure.stop()
    this.#otel?.sample()
    this.#otel?.stop()
    this.#local?.end()
    const ring = this.#ring.stats()
    if (!drained) drained = ring.ready + ring.claimed === 0
    // What did not make it goes to the journal, if there is one.
    const journaled = !drained && this.#journal ? (this.#journal.write('stop deadline')?.events ?? 0) : 0
    this.#journal?.finish()
    this.#leaveExitHooks?.()
    // Counted per ring id: the ring's, or each sub-ring's of a priority ring (then added up).
    const subs = subRingsOf(this.#ring)
    const perRing: (StoreCount | { error: string } | undefined)[] = []
    const perRoute: Awaited<ReturnType<LocalStore['countPerRoute']>>[] = []
    for (const sub of subs) {
      const counted = await this.#local?.count(sub.ring.id)
      // Exact only with what of the ring's leftovers the store already holds; without it, the writers' counts.
      const pendingHeld = counted && !('error' in counted) ? await this.#local?.pendingHeld(sub.ring, counted.deadLetters) : undefined
      // A failed count stays a failure (the report is then not balanced and says why).
      perRing.push(counted === undefined ? undefined : 'error' in counted ? counted : pendingHeld !== undefined ? { ...counted, pendingHeld } : undefined)
      // A routed store: what each destination holds of the ring, beside what the routing sends there.
      const written = sub.priority === undefined ? ring.writePosition : (ring as PriorityRingStats).byPriority[sub.priority].writePosition
      perRoute.push(await this.#local?.countPerRoute(sub.ring.id, written))
    }
    await this.#local?.close()
    const inStore = addStoreCounts(perRing)
    const destinations = addRouteCounts(perRoute)
    const built = buildReport(ring, sumRows(this.#metricsBuffer).totals, inStore, !drained, Date.now() - t0, journaled, this.#journal?.state.error, destinations)
    const byPriority = (ring as Partial<PriorityRingStats>).byPriority
    const report = byPriority === undefined ? built : { ...built, priorities: priorityAccounts(byPriority, subs.map((sub, k) => [sub.priority!, perRing[k]] as const)) }
    this.#status = wasFailed ? 'failed' : 'stopped'
    this.#logger.info(report, 'pipeline stopped')
    this.emit('stopped', report)
    return report
  }

  #assertRunning(): void {
    if (this.#status === 'stopping' || this.#status === 'stopped') throw new PipelineError('stopped', 'the pipeline is stopped')
  }
}

