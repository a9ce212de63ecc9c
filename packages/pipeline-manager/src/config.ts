// Pipeline options in three parts (piscina's shape): the all-optional user type, presets and
// defaults, and a resolve step that checks one field at a time and throws PipelineConfigError
// naming the option path. updateConfig patches go through the same checks, plus "is it live".

import { RingBuffer } from '@ringside/core-ringbuffer'
import { resolveStoreSpec, type StoreSpec } from '@ringside/storage'
import { BREAKER_DEFAULTS, type BreakerConfig, type StageSpec, type WriterConfig } from '@ringside/async-writer'
import type { Logger } from 'pino'
import { PipelineConfigError } from './errors.js'
import { RESTART_TYPES, STRATEGIES, type RestartType, type Strategy } from './supervisor/restart-policy.js'

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
  /** Address to bind. Defaults to `127.0.0.1` (loopback only). */
  host?: string
  /** Largest request body, bytes, 1 KiB .. 256 MiB; larger ones get 413. Defaults to 1 MiB. */
  bodyLimitBytes?: number
  /** Bearer token that enables `POST /config`; without it that endpoint does not exist. Defaults to none. */
  configToken?: string
}

/** HTTP options after defaults; `configToken` is not enumerable, so JSON, logs and spreads of the config never carry it. */
export interface ResolvedHttpOptions {
  readonly port: number
  readonly host: string
  readonly bodyLimitBytes: number
  readonly configToken?: string
}

/** Everything `PipelineManager.start` takes. Only `ring` and `store` are required. */
export interface PipelineOptions {
  /** The ring the application writes to. */
  ring: RingBuffer
  /** Where writers store events: `{ kind: 'sqlite', path }`, `{ kind: 'memory' }` or `{ target, options }`. */
  store: StoreSpec
  /** Sensible batch size, linger, poll interval and pool size; explicit options override it. Defaults to `balanced`. */
  preset?: Preset
  /** Writers to run. 1 .. maxPoolSize. */
  poolSize?: number
  /** Upper bound of poolSize (and of scalePool); sizes shared memory. 1 .. ring.maxConsumers. Defaults to 16. */
  maxPoolSize?: number
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
  /** The pool's store circuit breaker. Defaults: failureRateThreshold 0.5, minRequests 10, windowMs 10000, coolDownMs 1000. */
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
  /** A writer holding a claim whose heartbeat is older than this is terminated as crashed, ms. Defaults to 5000. */
  heartbeatTimeoutMs?: number
  /** The manager's own intensity for restarting an escalated pool. Defaults to 3 in 60 s. */
  managerMaxRestarts?: number
  managerMaxSeconds?: number
  /** Slots reserved by a dead producer are given up after this long, ms. Defaults to 2000. */
  abandonAfterMs?: number
  health?: Partial<HealthThresholds>
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

/** Options after presets, defaults and validation; the writer's own keys are its WriterConfig. */
export interface ResolvedConfig extends WriterConfig {
  readonly preset: Preset
  readonly poolSize: number
  readonly maxPoolSize: number
  readonly breaker: Readonly<BreakerConfig>
  readonly stages: readonly StageSpec[]
  readonly strategy: Strategy
  readonly restart: RestartType
  readonly shutdown: number | 'brutal_kill'
  readonly maxRestarts: number
  readonly maxSeconds: number
  readonly restartBackoffMs: number
  readonly restartBackoffMaxMs: number
  readonly heartbeatTimeoutMs: number
  readonly managerMaxRestarts: number
  readonly managerMaxSeconds: number
  readonly abandonAfterMs: number
  readonly health: Readonly<HealthThresholds>
  readonly journal: { readonly path: string } | undefined
  readonly http: ResolvedHttpOptions | undefined
}

/** Preset values; anything not named here comes from DEFAULTS. */
export const PRESET_VALUES: Readonly<Record<Preset, Readonly<Partial<ResolvedConfig>>>> = Object.freeze({
  throughput: { poolSize: 2, batchSize: 2000, lingerMs: 50, pollIntervalMs: 50, logBatches: false },
  balanced: { poolSize: 2, batchSize: 500, lingerMs: 10, pollIntervalMs: 20, logBatches: false },
  debug: { poolSize: 1, batchSize: 50, lingerMs: 5, pollIntervalMs: 10, logBatches: true },
})

export const DEFAULTS: ResolvedConfig = Object.freeze({
  preset: 'balanced',
  ...PRESET_VALUES.balanced,
  maxPoolSize: 16,
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
  heartbeatTimeoutMs: 5_000,
  managerMaxRestarts: 3,
  managerMaxSeconds: 60,
  abandonAfterMs: 2_000,
  journal: undefined,
  http: undefined,
  health: Object.freeze({ ringFillDegraded: 0.8, ringFillUnhealthy: 0.98, oldestUnstoredMs: 5_000, restartBudgetDegraded: 0.66, storeProbeMs: 2_000 }),
} as ResolvedConfig)

/** Keys updateConfig applies to a running pipeline. */
export const LIVE_KEYS = new Set([
  'poolSize',
  'batchSize',
  'maxBatchBytes',
  'lingerMs',
  'pollIntervalMs',
  'logBatches',
  'retryBaseMs',
  'retryMaxMs',
  'permanentAttempts',
  'breaker',
  'maxRestarts',
  'maxSeconds',
  'restartBackoffMs',
  'restartBackoffMaxMs',
  'heartbeatTimeoutMs',
  'health',
])

const describe = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? `${v}n` : v === null || typeof v !== 'object' ? String(v) : Array.isArray(v) ? 'an array' : 'an object'

const bad = (option: string, want: string, got: unknown): never => {
  throw new PipelineConfigError('invalid_option', option, `option '${option}' must be ${want}, got ${describe(got)}`)
}

function integer(option: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(option, `an integer from ${min} to ${max}`, v)
  return v as number
}

function fraction(option: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) bad(option, 'a number in (0, 1]', v)
  return v as number
}

function oneOf<T extends string>(option: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) bad(option, `one of ${allowed.join(', ')}`, v)
  return v as T
}

/** Checks the fields of `o` that are present and returns them resolved (no defaults applied). */
function checkFields(o: Record<string, unknown>, base: ResolvedConfig): Partial<Record<keyof ResolvedConfig, unknown>> {
  const out: Partial<Record<keyof ResolvedConfig, unknown>> = {}
  const has = (k: string) => o[k] !== undefined
  const maxPool = has('maxPoolSize') ? integer('maxPoolSize', o.maxPoolSize, 1, 1024) : base.maxPoolSize
  if (has('maxPoolSize')) out.maxPoolSize = maxPool
  if (has('preset')) out.preset = oneOf('preset', o.preset, PRESETS)
  if (has('poolSize')) out.poolSize = integer('poolSize', o.poolSize, 1, maxPool)
  if (has('batchSize')) out.batchSize = integer('batchSize', o.batchSize, 1, 100_000)
  if (has('maxBatchBytes')) out.maxBatchBytes = integer('maxBatchBytes', o.maxBatchBytes, 1024, 256 << 20)
  if (has('lingerMs')) out.lingerMs = integer('lingerMs', o.lingerMs, 0, 60_000)
  if (has('pollIntervalMs')) out.pollIntervalMs = integer('pollIntervalMs', o.pollIntervalMs, 1, 60_000)
  if (has('logBatches') && typeof o.logBatches !== 'boolean') bad('logBatches', 'a boolean', o.logBatches)
  if (has('logBatches')) out.logBatches = o.logBatches
  if (has('retryBaseMs')) out.retryBaseMs = integer('retryBaseMs', o.retryBaseMs, 1, 600_000)
  if (has('retryMaxMs')) out.retryMaxMs = integer('retryMaxMs', o.retryMaxMs, 1, 600_000)
  if (has('permanentAttempts')) out.permanentAttempts = integer('permanentAttempts', o.permanentAttempts, 1, 100)
  if (has('breaker')) {
    const b = o.breaker
    if (b === null || typeof b !== 'object' || Array.isArray(b)) bad('breaker', 'an object', b)
    const bv = b as Record<string, unknown>
    const next: Record<string, number> = { ...base.breaker }
    for (const key of Object.keys(bv)) {
      if (!(key in BREAKER_DEFAULTS)) throw new PipelineConfigError('invalid_option', `breaker.${key}`, `unknown option 'breaker.${key}'`)
      if (bv[key] === undefined) continue
      if (key === 'failureRateThreshold') next[key] = fraction('breaker.failureRateThreshold', bv[key])
      else if (key === 'windowMs') next[key] = integer('breaker.windowMs', bv[key], 1_000, 60_000)
      else next[key] = integer(`breaker.${key}`, bv[key], key === 'minRequests' ? 1 : 0, 86_400_000)
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
  if (has('heartbeatTimeoutMs')) out.heartbeatTimeoutMs = integer('heartbeatTimeoutMs', o.heartbeatTimeoutMs, 100, 600_000)
  if (has('managerMaxRestarts')) out.managerMaxRestarts = integer('managerMaxRestarts', o.managerMaxRestarts, 0, 1_000_000)
  if (has('managerMaxSeconds')) out.managerMaxSeconds = integer('managerMaxSeconds', o.managerMaxSeconds, 1, 86_400)
  if (has('abandonAfterMs')) out.abandonAfterMs = integer('abandonAfterMs', o.abandonAfterMs, 10, 600_000)
  if (has('stages')) {
    if (!Array.isArray(o.stages)) bad('stages', 'an array of { target, options }', o.stages)
    ;(o.stages as unknown[]).forEach((s, i) => {
      if (s === null || typeof s !== 'object' || typeof (s as StageSpec).target !== 'string' || (s as StageSpec).target === '') {
        bad(`stages[${i}].target`, 'a non-empty module specifier or path', (s as StageSpec | null)?.target)
      }
    })
    out.stages = Object.freeze((o.stages as StageSpec[]).map((s) => Object.freeze({ ...s })))
  }
  if (has('journal')) {
    const j = o.journal as { path?: unknown } | null
    if (j === null || typeof j !== 'object' || typeof j.path !== 'string' || j.path === '') bad('journal.path', 'a non-empty file path', j?.path)
    out.journal = Object.freeze({ path: (j as { path: string }).path })
  }
  if (has('http')) out.http = checkHttp(o.http)
  if (has('health')) {
    const h = o.health
    if (h === null || typeof h !== 'object' || Array.isArray(h)) bad('health', 'an object', h)
    const hv = h as Record<string, unknown>
    const health: HealthThresholds = { ...base.health }
    for (const key of Object.keys(hv)) {
      if (!(key in DEFAULTS.health)) throw new PipelineConfigError('invalid_option', `health.${key}`, `unknown option 'health.${key}'`)
      if (hv[key] === undefined) continue
      if (key === 'oldestUnstoredMs') health.oldestUnstoredMs = integer('health.oldestUnstoredMs', hv[key], 1, 86_400_000)
      else if (key === 'storeProbeMs') health.storeProbeMs = integer('health.storeProbeMs', hv[key], 0, 3_600_000)
      else health[key as 'ringFillDegraded'] = fraction(`health.${key}`, hv[key])
    }
    out.health = Object.freeze(health)
  }
  return out
}

const HTTP_KEYS = new Set(['port', 'host', 'bodyLimitBytes', 'configToken'])

function checkHttp(h: unknown): ResolvedHttpOptions {
  if (h === null || typeof h !== 'object' || Array.isArray(h)) bad('http', 'an object', h)
  const hv = h as Record<string, unknown>
  for (const key of Object.keys(hv)) {
    if (!HTTP_KEYS.has(key)) throw new PipelineConfigError('invalid_option', `http.${key}`, `unknown option 'http.${key}'`)
  }
  const port = hv.port === undefined ? 0 : integer('http.port', hv.port, 0, 65_535)
  if (hv.host !== undefined && (typeof hv.host !== 'string' || hv.host === '')) bad('http.host', 'a non-empty host name or address', hv.host)
  const bodyLimitBytes = hv.bodyLimitBytes === undefined ? 1 << 20 : integer('http.bodyLimitBytes', hv.bodyLimitBytes, 1024, 256 << 20)
  const token = hv.configToken
  if (token !== undefined && (typeof token !== 'string' || token === '' || /\s/.test(token))) {
    // Not `bad`: the message must not echo the token, a secret even when malformed.
    throw new PipelineConfigError('invalid_option', 'http.configToken', `option 'http.configToken' must be a non-empty string without whitespace, got ${typeof token === 'string' ? 'a string that is not' : describe(token)}`)
  }
  const out = { port, host: (hv.host as string | undefined) ?? '127.0.0.1', bodyLimitBytes }
  if (typeof token === 'string') Object.defineProperty(out, 'configToken', { value: token, enumerable: false })
  return Object.freeze(out)
}

const KNOWN = new Set([...Object.keys(DEFAULTS), 'ring', 'store', 'logger'])

/** Resolves start options; throws PipelineConfigError naming the first bad option. */
export function resolveOptions(options: unknown): { config: ResolvedConfig; ring: RingBuffer; store: StoreSpec; logger: Logger | undefined } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) bad('options', 'an object', options)
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new PipelineConfigError('invalid_option', key, `unknown option '${key}'`)
  }
  if (!(o.ring instanceof RingBuffer)) bad('ring', 'a RingBuffer (RingBuffer.create or RingBuffer.attach)', o.ring)
  const ring = o.ring as RingBuffer
  try {
    resolveStoreSpec(o.store)
  } catch (e) {
    const field = (e as { field?: string }).field
    throw new PipelineConfigError('invalid_option', field ? `store.${field}` : 'store', `option 'store': ${(e as Error).message}`)
  }
  const logger = o.logger as Logger | undefined
  if (logger !== undefined && (logger === null || typeof (logger as { info?: unknown }).info !== 'function')) bad('logger', 'a pino logger', logger)
  const preset = o.preset === undefined ? DEFAULTS.preset : oneOf('preset', o.preset, PRESETS)
  const base = { ...DEFAULTS, ...PRESET_VALUES[preset], preset } as ResolvedConfig
  const fields = checkFields(o, base)
  const config = Object.freeze({ ...base, ...fields }) as ResolvedConfig
  if (config.poolSize > config.maxPoolSize) bad('poolSize', `at most maxPoolSize (${config.maxPoolSize})`, config.poolSize)
  if (config.maxPoolSize > ring.options.maxConsumers) {
    bad('maxPoolSize', `at most the ring's maxConsumers (${ring.options.maxConsumers})`, config.maxPoolSize)
  }
  if (config.retryMaxMs < config.retryBaseMs) bad('retryMaxMs', `at least retryBaseMs (${config.retryBaseMs})`, config.retryMaxMs)
  return { config, ring, store: o.store as StoreSpec, logger }
}

/** Validates an updateConfig patch against the current config; returns the new config. */
export function applyPatch(current: ResolvedConfig, patch: unknown): ResolvedConfig {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) bad('patch', 'an object', patch)
  const p = patch as Record<string, unknown>
  for (const key of Object.keys(p)) {
    if (!(key in DEFAULTS)) throw new PipelineConfigError('invalid_option', key, `unknown option '${key}'`)
    if (!LIVE_KEYS.has(key)) throw new PipelineConfigError('not_live', key, `option '${key}' cannot be changed on a running pipeline`)
  }
  const next = Object.freeze({ ...current, ...checkFields(p, current) }) as ResolvedConfig
  if (next.retryMaxMs < next.retryBaseMs) bad('retryMaxMs', `at least retryBaseMs (${next.retryBaseMs})`, next.retryMaxMs)
  return next
}
