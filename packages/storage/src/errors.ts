// Typed errors of the stores. Callers branch on `code`, `transient` or `instanceof`, never on
// message text. `transient` says whether the same call may succeed if retried later (a lock, a
// timeout, a full disk); a permanent error will fail the same way every time.

/** Stable codes of every error a store throws. */
export type StoreErrorCode =
  | 'invalid_spec'
  | 'target_unloadable'
  | 'not_a_store'
  | 'invalid_filter'
  | 'invalid_record'
  | 'store_closed'
  | 'open_failed'
  | 'not_a_database'
  | 'not_a_ringside_store'
  | 'store_read_only'
  | 'store_replaced'
  | 'schema_too_new'
  | 'busy'
  | 'io_error'
  | 'disk_full'
  | 'read_only'
  | 'corrupt'
  | 'sqlite_error'
  | 'remote_timeout'
  | 'remote_closed'
  | 'remote_error'
  | 'not_supported'

/** Base class of the stores' errors. */
export class StoreError extends Error {
  readonly code: StoreErrorCode
  /** True when retrying the same call later may succeed (the writer's retry policy reads it). */
  readonly transient: boolean
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'StoreError'
    this.code = code
    this.transient = options?.transient ?? false
  }
}

/** A store spec given to `createStore` is wrong; `field` names the spec field (`kind`, `path`, `target`, ...). */
export class StoreSpecError extends StoreError {
  readonly field: string
  constructor(
    code: 'invalid_spec' | 'target_unloadable' | 'not_a_store',
    field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options)
    this.name = 'StoreSpecError'
    this.field = field
  }
}

/** A query filter is wrong; `field` names the filter field. */
export class StoreFilterError extends StoreError {
  readonly field: string
  constructor(field: string, message: string) {
    super('invalid_filter', message)
    this.name = 'StoreFilterError'
    this.field = field
  }
}

/**
 * A record of a batch is malformed or its event cannot be serialized. The whole batch is refused
 * before anything is written; `index` is the record's position in the batch so a caller can
 * quarantine it and store the rest.
 */
export class StoreRecordError extends StoreError {
  readonly index: number
  readonly field: string
  constructor(index: number, field: string, message: string, options?: { cause?: unknown }) {
    super('invalid_record', message, options)
    this.name = 'StoreRecordError'
    this.index = index
    this.field = field
  }
}

/**
 * A store could not be opened: the path cannot be created, the file is not a database, it is a
 * database of something other than Ringside (`not_a_ringside_store`: refused, never written), it
 * cannot be written (`store_read_only`), or its schema is newer than this code.
 */
export class StoreOpenError extends StoreError {
  readonly path: string
  constructor(
    code: 'open_failed' | 'not_a_database' | 'not_a_ringside_store' | 'store_read_only' | 'schema_too_new' | 'busy',
    path: string,
    message: string,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(code, message, options)
    this.name = 'StoreOpenError'
    this.path = path
  }
}

/** A call to a remote store got no reply in time; `timeoutMs` is the limit that was hit. */
export class RemoteStoreTimeoutError extends StoreError {
  readonly method: string
  readonly timeoutMs: number
  constructor(method: string, timeoutMs: number) {
    super('remote_timeout', `remote store call '${method}' got no reply within timeoutMs=${timeoutMs}`, {
      transient: true,
    })
    this.name = 'RemoteStoreTimeoutError'
    this.method = method
    this.timeoutMs = timeoutMs
  }
}

/**
 * A destination of a routed store failed: the destination's own error is the `cause`, its code
 * and `transient` flag are kept (a transient failure stays transient, so the writer retries the
 * batch), and `route` names the destination.
 */
export class RoutedStoreError extends StoreError {
  readonly route: string
  constructor(route: string, cause: unknown) {
    const c = cause as { code?: unknown; transient?: unknown; message?: unknown } | null
    const code = (typeof c?.code === 'string' ? c.code : 'remote_error') as StoreErrorCode
    const message = typeof c?.message === 'string' ? c.message : String(cause)
    // An error that says nothing about retrying is retried, as the writer treats any store error.
    super(code, `route '${route}': ${message}`, { cause, transient: c?.transient !== false })
    this.name = 'RoutedStoreError'
    this.route = route
  }
}

/** Describes a value for an error message without dumping it. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}
