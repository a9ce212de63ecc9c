// Pipeline options in three parts (piscina's shape): the all-optional user type, presets and
// defaults, and a resolve step that checks one field at a time and throws PipelineConfigError
// naming the option path. updateConfig patches go through the same checks, plus "is it live".

import type { PriorityRing, RingBuffer } from '@ringside/core-ringbuffer'
import { resolveStoreSpec, type StoreSpec } from '@ringside/storage'
import { BREAKER_DEFAULTS, checkStageSpec, type BreakerConfig, type StageSpec, type WriterConfig } from '@ringside/async-writer'
import type { Logger } from 'pino'
import { PipelineConfigError } from './errors.js'
import { resolveHttpOptions } from './http/options.js'
import { resolveRetry, type RetryOption } from './retry-option.js'
import { bad, boolean, fraction, given, integer, oneOf, onlyKnownKeys, record } from './option-checks.js'
import { PRESSURE_DEFAULTS, type PressureConfig } from './pressure.js'
import { RESTART_TYPES, STRATEGIES, type RestartType, type Strategy } from './supervisor/restart-policy.js'
import { isPipelineRing, subRingsOf, type PipelineRing } from './ring-set.js'

export type Preset = 'throughput' | 'balanced' | 'debug'
export const PRESETS: readonly Preset[] = ['throughput', 'balanced', 'debug']

/** Health thresholds. */
export interface HealthThresholds {
  /** Ring utilization (0..1) from which health is degraded. Defaults to 0.8. */
  ringFillDegraded: number
  /** Ring utilization from which health is unhealthy. Defaults to 0.98. */
  ringFillUnhealthy: number
  /** Age of the oldest unstored event (ms) from which health is degraded. Defaults to 5000. */
  oldestUnstoredMs: number
  /** Share of the restart budget (restarts in the window / maxRestarts) from which health is degraded. Defaults to 0.66. */
  restartBudgetDegraded: number
  /** Share of events (over the last 10 s, at least 20 events) that user stages failed on, from which health is degraded. Defaults to 0.5. */
  stageErrorsDegraded: number
  /**
   * How often (ms) the manager asks the store for the condition of its backend, for stores that
   * can tell (PostgreSQL, JetStream: `EventStore.health`); 0 never asks. Defaults to 2000.
   */
  storeProbeMs: number
}

/** The HTTP server's options. Fixed at start. */
export interface HttpOptions {
  /** TCP port, 0 .. 65535; 0 takes any free port. Defaults to 0. */
  port?: number
  /**
   * Address to bind. Defaults to `127.0.0.1` (loopback only). Any other address needs `ingestToken`
   * (or `allowUnauthenticated: true`), else the start is refused.
   */
  host?: string
  /** Largest request body, bytes, 1 KiB .. 256 MiB; larger ones get 413. Defaults to 1 MiB. */
  bodyLimitBytes?: number
  /** Most events in one `POST /ingest`, 1 .. 100000; more get 413 `too_many_events` and none is written. Defaults to 1000. */
  maxEventsPerRequest?: number
  /** Bearer token that enables `POST /config`; without it that endpoint does not exist. Defaults to none. */
  configToken?: string
  /** Bearer token that `POST /ingest` requires; without it ingest is open to whoever reaches the port. Defaults to none. */
  ingestToken?: string
  /**
   * Host names served besides loopback names, IP addresses and `host` (the Host header is checked
   * against DNS rebinding; others get 421). `.example.com` stands for the domain and every subdomain.
   * Defaults to none.
   */
  allowedHosts?: string[]
  /** Serve a non-loopback `host` without `ingestToken`. Defaults to false. */
  allowUnauthenticated?: boolean
}

/** HTTP options after defaults; the tokens are not enumerable, so JSON, logs and spreads of the config never carry them. */
export interface ResolvedHttpOptions {
  readonly port: number
  readonly host: string
  readonly bodyLimitBytes: number
  readonly maxEventsPerRequest: number
  readonly allowedHosts: readonly string[]
  readonly allowUnauthenticated: boolean
  readonly configToken?: string
  readonly ingestToken?: string
}

/** Everything `PipelineManager.start` takes. Only `ring` and `store` are required. */
export interface PipelineOptions {
  /**
   * The ring the application writes to: a RingBuffer, or a PriorityRing (writers claim its high
   * events before normal before low; the report accounts each priority).
   */
  ring: RingBuffer | PriorityRing
  /** Where writers store events: `{ kind: 'sqlite', path }`, `{ kind: 'memory' }` or `{ target, options }`. */
  store: StoreSpec
  /** Sensible batch size, linger, poll interval and pool size; explicit options override it. Defaults to `balanced`. */
  preset?: Preset
  /** Writers to run. 1 .. maxPoolSize. */
  poolSize?: number
  /** Upper bound of poolSize (and of scalePool); sizes shared memory. 1 .. ring.maxConsumers. Defaults to 16. */
  maxPoolSize?: number
  /**
   * Warm spare writers, 0 .. 4: started and ready (store open, stages loaded) but claiming nothing.
   * When a writer dies, a spare takes its claims at once instead of a new thread starting after the
   * restart backoff, and another spare starts in the background. It counts as a restart (budget,
   * `writer_restarted`). `one_for_one` only; poolSize + spares must fit in maxPoolSize. Fixed at start. Defaults to 0.
   */
  spares?: number
  /**
   * Writers of a SQLite file take turns through a lock in shared memory around each store
   * transaction (handoff instead of SQLite's sleeping busy handler); other stores ignore it. Fixed
   * at start. Defaults to true.
   */
  storeWriteLock?: boolean
  /** Most events per stored batch, 1 .. 100000. */
  batchSize?: number
  /** About this many encoded bytes per batch, 1 KiB .. 256 MiB. Defaults to 4 MiB. */
  maxBatchBytes?: number
  /** Longest wait for a batch to fill before a partial one is written, ms, 0 .. 60000. */
  lingerMs?: number
  /** Longest idle sleep of a writer, ms, 1 .. 60000. */
  pollIntervalMs?: number
  /** Log every batch (the debug preset turns it on). */
  logBatches?: boolean
  /** First delay after a store error, ms. Defaults to 50. */
  retryBaseMs?: number
  /** Longest delay between store attempts, ms. Defaults to 5000. */
  retryMaxMs?: number
  /** Attempts of a batch failing with a permanent store error before it is split to isolate the poison. Defaults to 2. */
  permanentAttempts?: number
  /**
   * The store retry policy: `{ maxAttempts?, baseMs?, maxMs?, multiplier?, shouldRetry? }` (see the
   * README's "Retry policy"); `null` in updateConfig turns it off. Defaults to none: transient store
   * errors are retried without limit (retryBaseMs doubling to retryMaxMs) while the ring absorbs.
   */
  retry?: RetryOption | null
  /** The pool's store circuit breaker. Defaults: failureRateThreshold 0.5, minRequests 10, windowMs 10000, coolDownMs 1000, probeLeaseMs 5000. */
  breaker?: Partial<BreakerConfig>
  /** The user's stage modules, run in order after validation and enrichment. Defaults to none. */
  stages?: StageSpec[]
  /** Supervision strategy of the writer pool. Defaults to `one_for_one`. */
  strategy?: Strategy
  /** Restart type of every writer. Defaults to `permanent`. */
  restart?: RestartType
  /** How long a stopping writer may take before it is terminated: ms or `brutal_kill`. Defaults to 5000. */
  shutdown?: number | 'brutal_kill'
  /** Restart intensity: more than maxRestarts restarts within maxSeconds escalates. Defaults to 3 and 5 (OTP). */
  maxRestarts?: number
  maxSeconds?: number
  /** Jittered restart backoff: first delay and cap, ms. Default 20 and 2000. */
  restartBackoffMs?: number
  restartBackoffMaxMs?: number
  /**
   * Deadline of each step of a writer's work on a claim (its stages, each store attempt), ms. Past
   * it the writer is judged hung, terminated and replaced, and its claim goes to the heir; an
   * asynchronous store call fails as a transient error at 90 % of it. Waits do not count (linger,
   * retry backoff, an open breaker). Defaults to 35000 (beyond the stores' own 30 s timeouts).
   */
  batchTimeoutMs?: number
  /**
   * Heap limit of each writer thread (V8 old generation), MB. A stage that runs out of memory kills
   * its writer, not the application. Defaults to 256.
   */
  writerMaxHeapMb?: number
  /** The manager's own intensity for restarting an escalated pool. Defaults to 3 in 60 s. */
  managerMaxRestarts?: number
  managerMaxSeconds?: number
  /** Slots reserved by a dead producer are given up after this long, ms. Defaults to 2000. */
  abandonAfterMs?: number
  health?: Partial<HealthThresholds>
  /**
   * 'pressure' events: the ring's fill, an open store breaker or writers down, reported when they
   * cross `levels` (with `hysteresis` on the way down), sampled every `intervalMs`. Live.
   * Defaults: levels [0.5, 0.8, 0.95], hysteresis 0.05, intervalMs 250.
   */
  pressure?: Partial<PressureConfig>
  /**
   * Publish the pipeline's metrics as OpenTelemetry instruments: `true` on the global MeterProvider
   * (registered before start), or `{ meterProvider }`. Fixed at start. Defaults to off.
   */
  otel?: boolean | { meterProvider: OtelMeterProvider }
  /** Logs a stats line (rates, fill, writers, restarts, p99, breaker) at info level every this many ms; 0 never. Live. Defaults to 0. */
  statsLogIntervalMs?: number
  /**
   * An exit journal: on process exit, SIGINT, SIGTERM, SIGHUP, SIGQUIT or an uncaught exception,
   * and when stop() runs out of time, what the ring still holds unstored is appended to this file;
   * the next start with the same path replays it into the store first. The path must be free or
   * hold a journal of this store, and is locked while the pipeline runs. Defaults to none.
   */
  journal?: { path: string }
  /**
   * An HTTP server for probes, metrics, ingest and the dashboard (see the README's "HTTP endpoints").
   * Defaults to none; `{}` serves on 127.0.0.1 at a free port (`pipeline.httpAddress` tells which).
   */
  http?: HttpOptions
  /** A pino logger (or any with the same methods). Defaults to a silent one. */
  logger?: Logger
}

/**
 * An OpenTelemetry MeterProvider, typed by the one method used, so a provider from any
 * @opentelemetry/api 1.x version the app has is accepted.
 */
export interface OtelMeterProvider {
  getMeter(name: string, version?: string): unknown
}

/** Options after presets, defaults and validation; the writer's own keys are its WriterConfig. */
export interface ResolvedConfig extends WriterConfig {
  readonly preset: Preset
  readonly poolSize: number
  readonly maxPoolSize: number
  readonly spares: number
  readonly storeWriteLock: boolean
  readonly breaker: Readonly<BreakerConfig>
  readonly stages: readonly StageSpec[]
  readonly strategy: Strategy
  readonly restart: RestartType
  readonly shutdown: number | 'brutal_kill'
  readonly maxRestarts: number
  readonly maxSeconds: number
  readonly restartBackoffMs: number
  readonly restartBackoffMaxMs: number
  readonly writerMaxHeapMb: number
  readonly managerMaxRestarts: number
  readonly managerMaxSeconds: number
  readonly abandonAfterMs: number
  readonly health: Readonly<HealthThresholds>
  readonly pressure: Readonly<PressureConfig>
  readonly statsLogIntervalMs: number
  readonly otel: false | true | { readonly meterProvider: OtelMeterProvider }
  readonly journal: { readonly path: string } | undefined
  readonly http: ResolvedHttpOptions | undefined
}

/** Preset values; anything not named here comes from DEFAULTS. */
export const PRESET_VALUES: Readonly<Record<Preset, Readonly<Partial<ResolvedConfig>>>> = Object.freeze({
  throughput: { poolSize: 2, batchSize: 2000, lingerMs: 50, pollIntervalMs: 50, logBatches: false },
  balanced: { poolSize: 2, batchSize: 500, lingerMs: 5, pollIntervalMs: 20, logBatches: false },
  debug: { poolSize: 1, batchSize: 50, lingerMs: 5, pollIntervalMs: 10, logBatches: true },
})

export const DEFAULTS: ResolvedConfig = Object.freeze({
  preset: 'balanced',
  ...PRESET_VALUES.balanced,
  maxPoolSize: 16,
  spares: 0,
  storeWriteLock: true,
  maxBatchBytes: 4 << 20,
  retryBaseMs: 50,
  retryMaxMs: 5_000,
  permanentAttempts: 2,
  breaker: BREAKER_DEFAULTS,
  stages: [],
  strategy: 'one_for_one',
  restart: 'permanent',
  shutdown: 5_000,
  maxRestarts: 3,
  maxSeconds: 5,
  restartBackoffMs: 20,
  restartBackoffMaxMs: 2_000,
  batchTimeoutMs: 35_000,
  writerMaxHeapMb: 256,
  managerMaxRestarts: 3,
  managerMaxSeconds: 60,
  abandonAfterMs: 2_000,
  statsLogIntervalMs: 0,
  otel: false,
  journal: undefined,
  http: undefined,
  pressure: PRESSURE_DEFAULTS,
  health: Object.freeze({ ringFillDegraded: 0.8, ringFillUnhealthy: 0.98, oldestUnstoredMs: 5_000, restartBudgetDegraded: 0.66, storeProbeMs: 2_000, stageErrorsDegraded: 0.5 }),
} as ResolvedConfig)

/** Refuses to compile unless a list names every key of T (a stranger is refused by the element type). */
type NoneMissing<T, K extends readonly PropertyKey[]> = [Exclude<keyof T, K[number]>] extends [never] ? unknown : { missingKeys: Exclude<keyof T, K[number]> }
const keyList = <T>() => <const K extends readonly (keyof T)[]>(keys: K & NoneMissing<T, K>): K => keys

// The one list of each group's keys. Validation checks own keys against them (never with `in`,
// which finds inherited names such as `constructor`); the compiler checks them against the types.

/** The writer's own keys (async-writer's WriterConfig), sent to every writer when they change. Live. */
export const WRITER_KEYS = keyList<WriterConfig>()(['batchSize', 'maxBatchBytes', 'lingerMs', 'pollIntervalMs', 'logBatches', 'retryBaseMs', 'retryMaxMs', 'permanentAttempts', 'batchTimeoutMs', 'retry'])
/** The pool supervisor's restart settings, applied with setSupervision. Live. */
export const SUPERVISION_KEYS = ['maxRestarts', 'maxSeconds', 'restartBackoffMs', 'restartBackoffMaxMs'] as const satisfies readonly (keyof PipelineOptions)[]
/** Keys of the `breaker` option. */
export const BREAKER_KEYS = keyList<BreakerConfig>()(['failureRateThreshold', 'minRequests', 'windowMs', 'coolDownMs', 'probeLeaseMs'])
/** Keys of the `health` option. */
export const HEALTH_KEYS = keyList<HealthThresholds>()(['ringFillDegraded', 'ringFillUnhealthy', 'oldestUnstoredMs', 'restartBudgetDegraded', 'storeProbeMs', 'stageErrorsDegraded'])
/** Keys of the `pressure` option. */
export const PRESSURE_KEYS = keyList<PressureConfig>()(['levels', 'hysteresis', 'intervalMs'])
/** Keys of the `http` option. */
export const HTTP_KEYS = keyList<HttpOptions>()(['port', 'host', 'bodyLimitBytes', 'maxEventsPerRequest', 'configToken', 'ingestToken', 'allowedHosts', 'allowUnauthenticated'])
/** Keys of the `journal` option. */
export const JOURNAL_KEYS = keyList<{ path: string }>()(['path'])
/** Options fixed at start: updateConfig refuses them with `not_live`. */
export const START_ONLY_KEYS = [
  'ring', 'store', 'logger', 'preset', 'maxPoolSize', 'strategy', 'restart', 'shutdown',
  'managerMaxRestarts', 'managerMaxSeconds', 'abandonAfterMs', 'journal', 'http', 'writerMaxHeapMb', 'otel',
  'spares', 'storeWriteLock',
] as const satisfies readonly (keyof PipelineOptions)[]
/** Keys updateConfig applies to a running pipeline. */
export const LIVE_KEYS: ReadonlySet<string> = new Set<string>(['poolSize', ...WRITER_KEYS, 'breaker', ...SUPERVISION_KEYS, 'health', 'statsLogIntervalMs', 'stages', 'pressure'])
/** Every key of PipelineOptions: the live ones, then the start-only ones. */
export const OPTION_KEYS = keyList<PipelineOptions>()(['poolSize', ...WRITER_KEYS, 'breaker', ...SUPERVISION_KEYS, 'health', 'statsLogIntervalMs', 'stages', 'pressure', ...START_ONLY_KEYS] as const)

const OPTION_SET: ReadonlySet<string> = new Set(OPTION_KEYS)
const BREAKER_SET: ReadonlySet<string> = new Set(BREAKER_KEYS)
const HEALTH_SET: ReadonlySet<string> = new Set(HEALTH_KEYS)
const HTTP_SET: ReadonlySet<string> = new Set(HTTP_KEYS)
const PRESSURE_SET: ReadonlySet<string> = new Set(PRESSURE_KEYS)
const JOURNAL_SET: ReadonlySet<string> = new Set(JOURNAL_KEYS)

/** Checks the fields of `o` that are present and returns them resolved (no defaults applied). */
function checkFields(o: Record<string, unknown>, base: ResolvedConfig): Partial<Record<keyof ResolvedConfig, unknown>> {
  const out: Partial<Record<keyof ResolvedConfig, unknown>> = {}
  const has = (k: string) => given(o, k)
  const maxPool = has('maxPoolSize') ? integer('maxPoolSize', o.maxPoolSize, 1, 1024) : base.maxPoolSize
  if (has('maxPoolSize')) out.maxPoolSize = maxPool
  if (has('preset')) out.preset = oneOf('preset', o.preset, PRESETS)
  if (has('poolSize')) out.poolSize = integer('poolSize', o.poolSize, 1, maxPool)
  if (has('spares')) out.spares = integer('spares', o.spares, 0, 4)
  if (has('storeWriteLock')) out.storeWriteLock = boolean('storeWriteLock', o.storeWriteLock)
  if (has('batchSize')) out.batchSize = integer('batchSize', o.batchSize, 1, 100_000)
  if (has('maxBatchBytes')) out.maxBatchBytes = integer('maxBatchBytes', o.maxBatchBytes, 1024, 256 << 20)
  if (has('lingerMs')) out.lingerMs = integer('lingerMs', o.lingerMs, 0, 60_000)
  if (has('pollIntervalMs')) out.pollIntervalMs = integer('pollIntervalMs', o.pollIntervalMs, 1, 60_000)
  if (has('logBatches')) out.logBatches = boolean('logBatches', o.logBatches)
  if (has('retryBaseMs')) out.retryBaseMs = integer('retryBaseMs', o.retryBaseMs, 1, 600_000)
  if (has('retryMaxMs')) out.retryMaxMs = integer('retryMaxMs', o.retryMaxMs, 1, 600_000)
  if (Object.hasOwn(o, 'retry') && o.retry !== undefined) out.retry = resolveRetry(o.retry, { retryBaseMs: (out.retryBaseMs as number | undefined) ?? base.retryBaseMs, retryMaxMs: (out.retryMaxMs as number | undefined) ?? base.retryMaxMs })
  if (has('permanentAttempts')) out.permanentAttempts = integer('permanentAttempts', o.permanentAttempts, 1, 100)
  if (has('breaker')) {
    const bv = record('breaker', o.breaker)
    onlyKnownKeys(bv, BREAKER_SET, 'breaker.')
    const next: Record<string, number> = { ...base.breaker }
    for (const key of BREAKER_KEYS) {
      if (!given(bv, key)) continue
      if (key === 'failureRateThreshold') next[key] = fraction('breaker.failureRateThreshold', bv[key])
      else if (key === 'windowMs') next[key] = integer('breaker.windowMs', bv[key], 1_000, 60_000)
      else next[key] = integer(`breaker.${key}`, bv[key], key === 'minRequests' || key === 'probeLeaseMs' ? 1 : 0, 86_400_000)
    }
    out.breaker = Object.freeze(next as unknown as BreakerConfig)
  }
  if (has('strategy')) out.strategy = oneOf('strategy', o.strategy, STRATEGIES)
  if (has('restart')) out.restart = oneOf('restart', o.restart, RESTART_TYPES)
  if (has('shutdown')) out.shutdown = o.shutdown === 'brutal_kill' ? 'brutal_kill' : integer('shutdown', o.shutdown, 0, 600_000)
  if (has('maxRestarts')) out.maxRestarts = integer('maxRestarts', o.maxRestarts, 0, 1_000_000)
  if (has('maxSeconds')) out.maxSeconds = integer('maxSeconds', o.maxSeconds, 1, 86_400)
  if (has('restartBackoffMs')) out.restartBackoffMs = integer('restartBackoffMs', o.restartBackoffMs, 0, 600_000)
  if (has('restartBackoffMaxMs')) out.restartBackoffMaxMs = integer('restartBackoffMaxMs', o.restartBackoffMaxMs, 0, 600_000)
  if (has('batchTimeoutMs')) out.batchTimeoutMs = integer('batchTimeoutMs', o.batchTimeoutMs, 100, 3_600_000)
  if (has('otel')) {
    const v = o.otel as { meterProvider?: { getMeter?: unknown } } | boolean | null
    if (typeof v === 'boolean') out.otel = v
    else if (v !== null && typeof v === 'object' && typeof v.meterProvider?.getMeter === 'function') out.otel = Object.freeze({ meterProvider: v.meterProvider as OtelMeterProvider })
    else bad('otel', 'a boolean or { meterProvider } (an OpenTelemetry MeterProvider)', v)
  }
  if (has('statsLogIntervalMs')) out.statsLogIntervalMs = integer('statsLogIntervalMs', o.statsLogIntervalMs, 0, 86_400_000)
  if (has('writerMaxHeapMb')) out.writerMaxHeapMb = integer('writerMaxHeapMb', o.writerMaxHeapMb, 16, 65_536)
  if (has('managerMaxRestarts')) out.managerMaxRestarts = integer('managerMaxRestarts', o.managerMaxRestarts, 0, 1_000_000)
  if (has('managerMaxSeconds')) out.managerMaxSeconds = integer('managerMaxSeconds', o.managerMaxSeconds, 1, 86_400)
  if (has('abandonAfterMs')) out.abandonAfterMs = integer('abandonAfterMs', o.abandonAfterMs, 10, 600_000)
  if (has('stages')) {
    if (!Array.isArray(o.stages)) bad('stages', 'an array of stage specs ({ target, options }, { when, stage }, { parallel })', o.stages)
    ;(o.stages as unknown[]).forEach((s, i) => {
      const problem = checkStageSpec(s, `stages[${i}]`)
      if (problem) bad(problem.path, problem.want, problem.got)
    })
    out.stages = Object.freeze((o.stages as StageSpec[]).map((s) => Object.freeze({ ...s })))
  }
  if (has('journal')) {
    const j = record('journal', o.journal)
    onlyKnownKeys(j, JOURNAL_SET, 'journal.')
    if (!Object.hasOwn(j, 'path') || typeof j.path !== 'string' || j.path === '') bad('journal.path', 'a non-empty file path', j.path)
    out.journal = Object.freeze({ path: j.path as string })
  }
  if (has('http')) {
    const h = record('http', o.http)
    onlyKnownKeys(h, HTTP_SET, 'http.')
    out.http = resolveHttpOptions(h)
  }
  if (has('health')) {
    const hv = record('health', o.health)
    onlyKnownKeys(hv, HEALTH_SET, 'health.')
    const health: HealthThresholds = { ...base.health }
    for (const key of HEALTH_KEYS) {
      if (!given(hv, key)) continue
      if (key === 'oldestUnstoredMs') health.oldestUnstoredMs = integer('health.oldestUnstoredMs', hv[key], 1, 86_400_000)
      else if (key === 'storeProbeMs') health.storeProbeMs = integer('health.storeProbeMs', hv[key], 0, 3_600_000)
      else health[key] = fraction(`health.${key}`, hv[key])
    }
    out.health = Object.freeze(health)
  }
  if (has('pressure')) out.pressure = pressureOf(record('pressure', o.pressure), base.pressure)
  return out
}

/** The `pressure` option over `base`: levels increasing in (0, 1], hysteresis below the lowest level. */
function pressureOf(pv: Record<string, unknown>, base: Readonly<PressureConfig>): Readonly<PressureConfig> {
  onlyKnownKeys(pv, PRESSURE_SET, 'pressure.')
  let levels = base.levels
  if (given(pv, 'levels')) {
    const lv = pv.levels
    if (!Array.isArray(lv) || lv.length < 1 || lv.length > 8) bad('pressure.levels', 'an array of 1 to 8 levels', lv)
    ;(lv as unknown[]).forEach((l, i) => {
      fraction(`pressure.levels[${i}]`, l)
      if (i > 0 && (l as number) <= (lv as number[])[i - 1]!) bad(`pressure.levels[${i}]`, `above the level before it (${(lv as number[])[i - 1]})`, l)
    })
    levels = Object.freeze([...(lv as number[])])
  }
  let hysteresis = base.hysteresis
  if (given(pv, 'hysteresis')) {
    hysteresis = pv.hysteresis as number
    if (typeof hysteresis !== 'number' || !(hysteresis >= 0 && hysteresis < 1)) bad('pressure.hysteresis', 'a number from 0 to below 1', pv.hysteresis)
  }
  // Else the lowest level could never be left: the value cannot fall below 0.
  if (hysteresis >= levels[0]!) bad('pressure.hysteresis', `below the lowest level (${levels[0]})`, hysteresis)
  const intervalMs = given(pv, 'intervalMs') ? integer('pressure.intervalMs', pv.intervalMs, 0, 60_000) : base.intervalMs
  if (intervalMs > 0 && intervalMs < 10) bad('pressure.intervalMs', '0 (off) or an integer from 10 to 60000', intervalMs)
  return Object.freeze({ levels, hysteresis, intervalMs })
}

/** Resolves start options; throws PipelineConfigError naming the first bad option. */
export function resolveOptions(options: unknown): { config: ResolvedConfig; ring: PipelineRing; store: StoreSpec; logger: Logger | undefined } {
  const o = record('options', options)
  onlyKnownKeys(o, OPTION_SET)
  if (!Object.hasOwn(o, 'ring') || !isPipelineRing(o.ring)) bad('ring', 'a RingBuffer or a PriorityRing (create or attach)', o.ring)
  const ring = o.ring as PipelineRing
  const maxConsumers = subRingsOf(ring)[0]!.ring.options.maxConsumers
  try {
    resolveStoreSpec(Object.hasOwn(o, 'store') ? o.store : undefined)
  } catch (e) {
    const field = (e as { field?: string }).field
    throw new PipelineConfigError('invalid_option', field ? `store.${field}` : 'store', `option 'store': ${(e as Error).message}`)
  }
  const logger = Object.hasOwn(o, 'logger') ? (o.logger as Logger | undefined) : undefined
  if (logger !== undefined && (logger === null || typeof (logger as { info?: unknown }).info !== 'function')) bad('logger', 'a pino logger', logger)
  const preset = given(o, 'preset') ? oneOf('preset', o.preset, PRESETS) : DEFAULTS.preset
  const base = { ...DEFAULTS, ...PRESET_VALUES[preset], preset } as ResolvedConfig
  const fields = checkFields(o, base)
  const config = Object.freeze({ ...base, ...fields }) as ResolvedConfig
  if (config.poolSize > config.maxPoolSize) bad('poolSize', `at most maxPoolSize (${config.maxPoolSize})`, config.poolSize)
  if (config.poolSize + config.spares > config.maxPoolSize) bad('spares', `at most maxPoolSize - poolSize (${config.maxPoolSize - config.poolSize})`, config.spares)
  if (config.maxPoolSize > maxConsumers) {
    bad('maxPoolSize', `at most the ring's maxConsumers (${maxConsumers})`, config.maxPoolSize)
  }
  if (config.retryMaxMs < config.retryBaseMs) bad('retryMaxMs', `at least retryBaseMs (${config.retryBaseMs})`, config.retryMaxMs)
  return { config, ring, store: o.store as StoreSpec, logger }
}

/** Validates an updateConfig patch against the current config; returns the new config. */
export function applyPatch(current: ResolvedConfig, patch: unknown): ResolvedConfig {
  const p = record('patch', patch)
  onlyKnownKeys(p, OPTION_SET)
  for (const key of Object.keys(p)) {
    if (!LIVE_KEYS.has(key)) throw new PipelineConfigError('not_live', key, `option '${key}' is fixed at start and cannot be changed on a running pipeline`)
  }
  const next = Object.freeze({ ...current, ...checkFields(p, current) }) as ResolvedConfig
  if (next.poolSize + next.spares > next.maxPoolSize) bad('poolSize', `at most maxPoolSize - spares (${next.maxPoolSize - next.spares})`, next.poolSize)
  if (next.retryMaxMs < next.retryBaseMs) bad('retryMaxMs', `at least retryBaseMs (${next.retryBaseMs})`, next.retryMaxMs)
  return next
}
