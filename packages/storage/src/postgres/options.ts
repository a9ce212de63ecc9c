// PostgreSQL store options: an all-optional type (bar `url`), frozen defaults, and one resolve step
// that checks a field at a time and throws StoreSpecError naming it (piscina's shape).

import { StoreSpecError, describeValue } from '../errors.js'
import { resolveRetention, type ResolvedRetention, type RetentionPolicy } from '../retention.js'

/** Options of the PostgreSQL store, as given in a `{ kind: 'postgres', url, ... }` spec. */
export interface PostgresStoreOptions {
  /** Connection string, `postgres://user:password@host:port/database`. */
  readonly url: string
  /**
   * The PostgreSQL schema that holds the store's tables; created if missing. A lower-case SQL
   * identifier (`[a-z_][a-z0-9_]*`, at most 63 characters). Defaults to `ringside`.
   */
  readonly schema?: string
  /** Connections this store may hold open at once; an integer from 1 to 100. Defaults to 2. */
  readonly poolSize?: number
  /**
   * Longest a statement may run before the server cancels it (a transient `busy` error), in ms;
   * an integer from 0 (no limit) to 2^31-1. Defaults to 30000.
   */
  readonly statementTimeoutMs?: number
  /**
   * Longest to wait for a connection (a new one, or a free one of the pool) before failing with a
   * transient `io_error`, in ms; an integer from 1 to 2^31-1. Defaults to 10000.
   */
  readonly connectTimeoutMs?: number
  /**
   * Limits the store keeps itself within while a pipeline runs: `maxAgeMs`, `maxEvents`,
   * `maxDeadLetters` (see RetentionPolicy). `maxBytes` is refused: PostgreSQL keeps a table's
   * files at their largest until VACUUM FULL. One writer removes what is past the limits in
   * chunks between its batches. Defaults to no limit.
   */
  readonly retention?: RetentionPolicy
}

/** Options after defaults and validation. */
export interface ResolvedPostgresOptions {
  readonly url: string
  readonly schema: string
  readonly poolSize: number
  readonly statementTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly retention?: ResolvedRetention
}

/** Defaults of every optional PostgreSQL option. */
export const POSTGRES_DEFAULTS: Omit<ResolvedPostgresOptions, 'url'> = Object.freeze({
  schema: 'ringside',
  poolSize: 2,
  statementTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
})

const KNOWN = new Set(['kind', 'url', 'retention', ...Object.keys(POSTGRES_DEFAULTS)])
const INT31 = 2 ** 31 - 1
// Spliced into SQL text as a quoted identifier, so it is held to a set that needs no escaping.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

type IntegerOption = 'poolSize' | 'statementTimeoutMs' | 'connectTimeoutMs'

function integerIn(o: Record<string, unknown>, name: IntegerOption, min: number, max: number): number {
  const v = o[name]
  if (v === undefined) return POSTGRES_DEFAULTS[name]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new StoreSpecError('invalid_spec', name, `postgres option '${name}' must be an integer from ${min} to ${max}, got ${describeValue(v)}`)
  }
  return v
}

/** Applies defaults and validates a postgres spec; throws StoreSpecError naming the first bad field. */
export function resolvePostgresOptions(spec: Record<string, unknown>): ResolvedPostgresOptions {
  if (spec === null || typeof spec !== 'object') {
    throw new StoreSpecError('invalid_spec', 'spec', `postgres options must be an object, got ${describeValue(spec)}`)
  }
  for (const key of Object.keys(spec)) {
    if (!KNOWN.has(key)) throw new StoreSpecError('invalid_spec', key, `unknown postgres option '${key}'`)
  }
  const url = spec.url
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new StoreSpecError('invalid_spec', 'url', `postgres option 'url' must be a postgres:// or postgresql:// connection string, got ${describeValue(redactUrl(url))}`)
  }
  const schema = spec.schema ?? POSTGRES_DEFAULTS.schema
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new StoreSpecError('invalid_spec', 'schema', `postgres option 'schema' must match ${SCHEMA_NAME.source}, got ${describeValue(schema)}`)
  }
  // maxBytes is refused: PostgreSQL keeps a table's files at their largest until VACUUM FULL, so
  // no figure it reports shrinks as events are deleted, and a byte limit would delete everything.
  const retention = resolveRetention(spec.retention, 'postgres', ['maxAgeMs', 'maxEvents', 'maxDeadLetters'])
  return Object.freeze({
    url,
    schema,
    poolSize: integerIn(spec, 'poolSize', 1, 100),
    statementTimeoutMs: integerIn(spec, 'statementTimeoutMs', 0, INT31),
    connectTimeoutMs: integerIn(spec, 'connectTimeoutMs', 1, INT31),
    ...(retention === undefined ? {} : { retention }),
  })
}

/** A connection string without its password, for error messages and `StoreOpenError.path`. */
export function redactUrl(url: unknown): unknown {
  return typeof url === 'string' ? url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1:***@') : url
}
