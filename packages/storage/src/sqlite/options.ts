// SQLite store options: an all-optional type (bar `path`), frozen defaults, and one resolve step
// that checks a field at a time and throws StoreSpecError naming it (piscina's shape).

import { StoreSpecError, describeValue } from '../errors.js'
import { resolveRetention, type ResolvedRetention, type RetentionPolicy } from '../retention.js'

/** `synchronous` levels the store allows (`EXTRA` adds nothing in WAL mode that a store needs). */
export type SqliteSynchronous = 'OFF' | 'NORMAL' | 'FULL'

/** Options of the SQLite store, as given in a `{ kind: 'sqlite', ... }` spec. */
export interface SqliteStoreOptions {
  /**
   * Database file; created with its directory's permissions if missing. An existing file must be
   * a Ringside store (or an empty database): anything else is refused, never written. `':memory:'`
   * for a private in-memory database.
   */
  readonly path: string
  /**
   * SQLite's `synchronous` pragma. In WAL mode `NORMAL` never corrupts the database; a power
   * loss may lose the last commits. `FULL` syncs the WAL on every commit. Defaults to `NORMAL`.
   */
  readonly synchronous?: SqliteSynchronous
  /**
   * How long a write waits for another connection's lock before failing with `busy`, in ms; an
   * integer from 0 to 2^31-1. Several writer threads share one file through it. Defaults to 30000.
   */
  readonly busyTimeoutMs?: number
  /**
   * Page cache of this connection, in KiB; an integer from 128 to 16 GiB. It should hold the hot
   * index pages, or writes slow down as the file grows (see bench/STORE-RESULTS.md); a connection
   * fills it as the file grows and keeps it for its life, so it is memory the process holds.
   * Defaults to 4096 (4 MiB): a larger cache measured no faster with one or two writers at full
   * load, and at 64 MiB one writer's process grew by 70 MB in a minute (BENCHMARKS.md, memory).
   */
  readonly cacheSizeKiB?: number
  /**
   * WAL pages after which a commit checkpoints the WAL into the database (`wal_autocheckpoint`);
   * an integer from 0 (never) to 2^31-1. With `walCheckpointPages` the writers copy the WAL long
   * before this, outside their turns: it is then the bound for a WAL they cannot keep small (a
   * reader holding an old snapshot). Defaults to 50000 (about 200 MiB of WAL with 4 KiB pages).
   */
  readonly walAutocheckpointPages?: number
  /**
   * WAL pages not yet in the database past which a pipeline's writer copies them, after its turn on
   * the file and while another writer commits (`checkpoint()`, a PASSIVE checkpoint), instead of
   * inside a commit; an integer from 0 (off: only `walAutocheckpointPages`) to 2^31-1. Takes effect
   * below `walAutocheckpointPages` and with SQLite 3.51 or later. Defaults to 4000 (16 MiB).
   */
  readonly walCheckpointPages?: number
  /**
   * Open an existing Ringside store for reading only: nothing is created, migrated or marked, and
   * a missing file is an `open_failed` error instead of a new database. For readers (queries,
   * counting at stop) that must never create or change a file. Defaults to false.
   */
  readonly readOnly?: boolean
  /**
   * Limits the store keeps itself within while a pipeline runs (`maxAgeMs`, `maxEvents`,
   * `maxBytes`, `maxDeadLetters`; see RetentionPolicy and the README's Retention section). One
   * writer removes what is past them in chunks between its batches. Defaults to no limit.
   */
  readonly retention?: RetentionPolicy
}

/** Options after defaults and validation. */
export interface ResolvedSqliteOptions {
  readonly path: string
  readonly synchronous: SqliteSynchronous
  readonly busyTimeoutMs: number
  readonly cacheSizeKiB: number
  readonly walAutocheckpointPages: number
  readonly walCheckpointPages: number
  readonly readOnly: boolean
  readonly retention?: ResolvedRetention
}

/** Defaults of every optional SQLite option. */
export const SQLITE_DEFAULTS: Omit<ResolvedSqliteOptions, 'path'> = Object.freeze({
  synchronous: 'NORMAL',
  busyTimeoutMs: 30_000,
  cacheSizeKiB: 4_096,
  walAutocheckpointPages: 50_000,
  walCheckpointPages: 4_000,
  readOnly: false,
})

const SYNC_LEVELS: readonly SqliteSynchronous[] = ['OFF', 'NORMAL', 'FULL']
const KNOWN = new Set(['kind', 'path', 'retention', ...Object.keys(SQLITE_DEFAULTS)])
const INT31 = 2 ** 31 - 1

function integerIn(o: Record<string, unknown>, name: 'busyTimeoutMs' | 'cacheSizeKiB' | 'walAutocheckpointPages' | 'walCheckpointPages', min: number, max: number): number {
  const v = o[name]
  if (v === undefined) return SQLITE_DEFAULTS[name] as number
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new StoreSpecError('invalid_spec', name, `sqlite option '${name}' must be an integer from ${min} to ${max}, got ${describeValue(v)}`)
  }
  return v
}

/** Applies defaults and validates a sqlite spec; throws StoreSpecError naming the first bad field. */
export function resolveSqliteOptions(spec: Record<string, unknown>): ResolvedSqliteOptions {
  for (const key of Object.keys(spec)) {
    if (!KNOWN.has(key)) throw new StoreSpecError('invalid_spec', key, `unknown sqlite option '${key}'`)
  }
  const path = spec.path
  if (typeof path !== 'string' || path.length === 0) {
    throw new StoreSpecError('invalid_spec', 'path', `sqlite option 'path' must be a non-empty string, got ${describeValue(path)}`)
  }
  const synchronous = spec.synchronous ?? SQLITE_DEFAULTS.synchronous
  if (!SYNC_LEVELS.includes(synchronous as SqliteSynchronous)) {
    throw new StoreSpecError(
      'invalid_spec',
      'synchronous',
      `sqlite option 'synchronous' must be one of ${SYNC_LEVELS.join(', ')}, got ${describeValue(synchronous)}`,
    )
  }
  const readOnly = spec.readOnly ?? SQLITE_DEFAULTS.readOnly
  if (typeof readOnly !== 'boolean') {
    throw new StoreSpecError('invalid_spec', 'readOnly', `sqlite option 'readOnly' must be a boolean, got ${describeValue(readOnly)}`)
  }
  const retention = resolveRetention(spec.retention, 'sqlite')
  return Object.freeze({
    path,
    synchronous: synchronous as SqliteSynchronous,
    busyTimeoutMs: integerIn(spec, 'busyTimeoutMs', 0, INT31),
    cacheSizeKiB: integerIn(spec, 'cacheSizeKiB', 128, 16 * 1024 * 1024),
    walAutocheckpointPages: integerIn(spec, 'walAutocheckpointPages', 0, INT31),
    walCheckpointPages: integerIn(spec, 'walCheckpointPages', 0, INT31),
    readOnly,
    ...(retention === undefined ? {} : { retention }),
  })
}
