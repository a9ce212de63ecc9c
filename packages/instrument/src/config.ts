// The register hook's configuration: a JSON file (RINGSIDE_CONFIG, else ./ringside.config.json
// when present) overridden by RINGSIDE_* environment variables, checked one field at a time.

import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { StoreSpec } from '@ringside/storage'
import { InstrumentError, InstrumentOptionError } from './errors.js'
import type { FunctionSelection } from './transform.js'

/** Everything `--import @ringside/instrument/register` can be told. */
export interface RegisterConfig {
  /** Capture nothing and start nothing. Env `RINGSIDE_DISABLE=1`. Defaults to false. */
  disable: boolean
  /** Directory globs are relative to. Env `RINGSIDE_ROOT`. Defaults to the working directory. */
  root: string
  /** Files to instrument. Env `RINGSIDE_INCLUDE` (comma-separated). Defaults to `**\/*.js`, `**\/*.mjs`, `**\/*.cjs`. */
  include: string[]
  /** Files to leave alone. Env `RINGSIDE_EXCLUDE`. Defaults to none. */
  exclude: string[]
  /** Instrument `node_modules` too. Env `RINGSIDE_NODE_MODULES=1`. Defaults to false. */
  nodeModules: boolean
  /** Which functions of a selected file are traced: `all`, or `exported` (the module's exports only). Env `RINGSIDE_FUNCTIONS`. Defaults to `all`. */
  functions: FunctionSelection
  /** Where events are stored. Env `RINGSIDE_STORE`: a SQLite path, `sqlite:<path>` or `memory`. Defaults to `./ringside-events.db`. */
  store: StoreSpec
  /** Writer threads. Env `RINGSIDE_POOL_SIZE`. Defaults to 1. */
  poolSize: number
  /**
   * Longest wait of a writer for its batch to fill, ms (the pipeline's `lingerMs`). Env
   * `RINGSIDE_LINGER_MS`. Defaults to 50: an instrumented application writes a few thousand events
   * a second, and each batch costs its writer a transaction and wake-ups whatever its size, CPU the
   * application shares; events reach the store up to 50 ms later (stop drains at once).
   */
  lingerMs: number
  /** Ring capacity in events, a power of two. Env `RINGSIDE_RING_SIZE`. Defaults to 32768. */
  ringSize: number
  /** Byte budget of one event. Env `RINGSIDE_MAX_EVENT_BYTES`. Defaults to 1024. */
  maxEventBytes: number
  /** Record 1 call in N per function. Env `RINGSIDE_SAMPLE_EVERY`. Defaults to 1. */
  sampleEvery: number
  /** Calls recorded per function per second, 0 for no cap. Env `RINGSIDE_MAX_CALLS_PER_SECOND`. Defaults to 10000. */
  maxCallsPerSecond: number
  /** Keys to redact in summaries. Env `RINGSIDE_REDACT` (comma-separated). Defaults to password, token, authorization, cookie, secret. */
  redact?: string[]
  /** Turn on source-mapped stack traces. Env `RINGSIDE_SOURCE_MAPS=0` turns it off. Defaults to true. */
  sourceMaps: boolean
  /** Runtime watchers to start. Env `RINGSIDE_WATCH` (comma-separated of http, fetch, workers, errors). Defaults to all. */
  watch: Array<'http' | 'fetch' | 'workers' | 'errors'>
  /** The pipeline's exit journal file. Env `RINGSIDE_JOURNAL`. Defaults to none. */
  journal?: string
  /** Longest wait for the pipeline to drain at exit, ms. Env `RINGSIDE_STOP_TIMEOUT_MS`. Defaults to 10000. */
  stopTimeoutMs: number
  /** Print the pipeline's report and the capture counters to stderr at exit. Env `RINGSIDE_REPORT=1`. Defaults to false. */
  report: boolean
}

const WATCHES = ['http', 'fetch', 'workers', 'errors'] as const
const KEYS = ['disable', 'root', 'include', 'exclude', 'nodeModules', 'functions', 'store', 'poolSize', 'lingerMs', 'ringSize', 'maxEventBytes', 'sampleEvery', 'maxCallsPerSecond', 'redact', 'sourceMaps', 'watch', 'journal', 'stopTimeoutMs', 'report'] as const

const ENV: Record<string, (typeof KEYS)[number]> = {
  RINGSIDE_DISABLE: 'disable',
  RINGSIDE_ROOT: 'root',
  RINGSIDE_INCLUDE: 'include',
  RINGSIDE_EXCLUDE: 'exclude',
  RINGSIDE_NODE_MODULES: 'nodeModules',
  RINGSIDE_FUNCTIONS: 'functions',
  RINGSIDE_STORE: 'store',
  RINGSIDE_POOL_SIZE: 'poolSize',
  RINGSIDE_LINGER_MS: 'lingerMs',
  RINGSIDE_RING_SIZE: 'ringSize',
  RINGSIDE_MAX_EVENT_BYTES: 'maxEventBytes',
  RINGSIDE_SAMPLE_EVERY: 'sampleEvery',
  RINGSIDE_MAX_CALLS_PER_SECOND: 'maxCallsPerSecond',
  RINGSIDE_REDACT: 'redact',
  RINGSIDE_SOURCE_MAPS: 'sourceMaps',
  RINGSIDE_WATCH: 'watch',
  RINGSIDE_JOURNAL: 'journal',
  RINGSIDE_STOP_TIMEOUT_MS: 'stopTimeoutMs',
  RINGSIDE_REPORT: 'report',
}

const list = (v: unknown, key: string): string[] => {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[]
  throw new InstrumentOptionError(key, `${key} must be a list of strings (or a comma-separated string)`)
}
const bool = (v: unknown, key: string): boolean => {
  if (typeof v === 'boolean') return v
  if (v === '1' || v === 'true') return true
  if (v === '0' || v === 'false' || v === '') return false
  throw new InstrumentOptionError(key, `${key} must be true or false (1 or 0), got ${String(v)}`)
}
const int = (v: unknown, key: string, min: number, max: number): number => {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new InstrumentOptionError(key, `${key} must be an integer from ${min} to ${max}, got ${String(v)}`)
  return n
}

function functionSelection(v: unknown): FunctionSelection {
  if (v === 'all' || v === 'exported') return v
  throw new InstrumentOptionError('functions', `functions must be all or exported, got ${String(v)}`)
}

function storeSpec(v: unknown, root: string): StoreSpec {
  if (typeof v === 'object' && v !== null) return v as StoreSpec
  if (typeof v !== 'string' || v === '') throw new InstrumentOptionError('store', 'store must be a SQLite path, sqlite:<path>, memory, or a store spec object')
  if (v === 'memory') return { kind: 'memory' }
  return { kind: 'sqlite', path: resolve(root, v.startsWith('sqlite:') ? v.slice('sqlite:'.length) : v) }
}

/** Reads the config file and environment; throws InstrumentError for an unreadable file, InstrumentOptionError naming a bad field. */
export function loadRegisterConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): RegisterConfig {
  const raw: Record<string, unknown> = {}
  const file = env.RINGSIDE_CONFIG ?? (existsSync(resolve(cwd, 'ringside.config.json')) ? 'ringside.config.json' : undefined)
  if (file !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(resolve(cwd, file), 'utf8'))
    } catch (e) {
      throw new InstrumentError('invalid_config_file', `cannot read the Ringside config file ${file}: ${(e as Error).message}`, { cause: e })
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InstrumentError('invalid_config_file', `the Ringside config file ${file} must hold a JSON object`)
    for (const [k, v] of Object.entries(parsed)) {
      if (!(KEYS as readonly string[]).includes(k)) throw new InstrumentOptionError(k, `unknown option ${k} in ${file}`)
      raw[k] = v
    }
  }
  for (const [name, key] of Object.entries(ENV)) if (env[name] !== undefined) raw[key] = env[name]
  const root = resolve(cwd, typeof raw.root === 'string' ? raw.root : '.')
  const watch = raw.watch === undefined ? [...WATCHES] : list(raw.watch, 'watch')
  for (const w of watch) if (!(WATCHES as readonly string[]).includes(w)) throw new InstrumentOptionError('watch', `watch takes ${WATCHES.join(', ')}; got ${w}`)
  const ringSize = raw.ringSize === undefined ? 32_768 : int(raw.ringSize, 'ringSize', 1, 1 << 24)
  if ((ringSize & (ringSize - 1)) !== 0) throw new InstrumentOptionError('ringSize', `ringSize must be a power of two, got ${ringSize}`)
  const config: RegisterConfig = {
    disable: raw.disable === undefined ? false : bool(raw.disable, 'disable'),
    root,
    include: raw.include === undefined ? ['**/*.js', '**/*.mjs', '**/*.cjs'] : list(raw.include, 'include'),
    exclude: raw.exclude === undefined ? [] : list(raw.exclude, 'exclude'),
    nodeModules: raw.nodeModules === undefined ? false : bool(raw.nodeModules, 'nodeModules'),
    functions: raw.functions === undefined ? 'all' : functionSelection(raw.functions),
    store: storeSpec(raw.store ?? 'ringside-events.db', root),
    poolSize: raw.poolSize === undefined ? 1 : int(raw.poolSize, 'poolSize', 1, 16),
    lingerMs: raw.lingerMs === undefined ? 50 : int(raw.lingerMs, 'lingerMs', 0, 60_000),
    ringSize,
    maxEventBytes: raw.maxEventBytes === undefined ? 1024 : int(raw.maxEventBytes, 'maxEventBytes', 256, 1 << 20),
    sampleEvery: raw.sampleEvery === undefined ? 1 : int(raw.sampleEvery, 'sampleEvery', 1, 2 ** 31),
    maxCallsPerSecond: raw.maxCallsPerSecond === undefined ? 10_000 : int(raw.maxCallsPerSecond, 'maxCallsPerSecond', 0, 2 ** 31),
    sourceMaps: raw.sourceMaps === undefined ? true : bool(raw.sourceMaps, 'sourceMaps'),
    watch: watch as RegisterConfig['watch'],
    stopTimeoutMs: raw.stopTimeoutMs === undefined ? 10_000 : int(raw.stopTimeoutMs, 'stopTimeoutMs', 0, 600_000),
    report: raw.report === undefined ? false : bool(raw.report, 'report'),
  }
  if (raw.redact !== undefined) config.redact = list(raw.redact, 'redact')
  if (raw.journal !== undefined) {
    if (typeof raw.journal !== 'string' || raw.journal === '') throw new InstrumentOptionError('journal', 'journal must be a file path')
    config.journal = resolve(root, raw.journal)
  }
  return config
}
