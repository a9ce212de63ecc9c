// Maps errors of the `pg` driver (a DatabaseError with a SQLSTATE `code`, a Node socket error, or
// one of pg's own connection errors) to a StoreError with a stable code and a transient flag, so
// the writer's retry policy never has to know PostgreSQL. Lost connections, an overloaded or
// restarting server, serialization failures and deadlocks are transient; the rest are permanent.

import { StoreError, type StoreErrorCode } from '../errors.js'

interface Classified { readonly code: StoreErrorCode; readonly transient: boolean }

// Node's socket errors: the server is down, restarting or unreachable for now.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND'])

// pg raises these without any code (pg/lib/client.js, pg-pool/index.js), so their text is the
// only handle there is; it has been stable across pg 8.x.
const PG_CONNECTION_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /Client was closed and is not queryable/i,
]

/** Classifies a SQLSTATE (PostgreSQL docs, Appendix A "PostgreSQL Error Codes"). */
export function classifySqlState(state: string): Classified {
  // Class 08: connection exception.
  if (state.startsWith('08')) return { code: 'io_error', transient: true }
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or in recovery).
  if (state === '57P01' || state === '57P02' || state === '57P03') return { code: 'io_error', transient: true }
  // query_canceled: statementTimeoutMs was hit.
  if (state === '57014') return { code: 'busy', transient: true }
  if (state === '53300') return { code: 'busy', transient: true }
  // disk_full; out_of_memory and insufficient_resources pass too when the load drops.
  if (state === '53100') return { code: 'disk_full', transient: true }
  if (state.startsWith('53')) return { code: 'busy', transient: true }
  // serialization_failure, deadlock_detected, lock_not_available.
  if (state === '40001' || state === '40P01' || state === '55P03') return { code: 'busy', transient: true }
  // read_only_sql_transaction: a replica, or a primary demoted by a failover.
  if (state === '25006') return { code: 'read_only', transient: false }
  return { code: 'remote_error', transient: false }
}

/** Classifies any error thrown while using PostgreSQL. */
export function classifyPgError(err: unknown): Classified & { readonly detail: string | undefined } {
  const code = err !== null && typeof err === 'object' ? (err as { code?: unknown }).code : undefined
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return { ...classifySqlState(code), detail: code }
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return { code: 'io_error', transient: true, detail: code }
  const message = err instanceof Error ? err.message : String(err)
  if (PG_CONNECTION_MESSAGES.some((re) => re.test(message))) return { code: 'io_error', transient: true, detail: 'connection' }
  // AggregateError: net.connect tried several addresses (::1 and 127.0.0.1) and each failed.
  if (err instanceof AggregateError && err.errors.length > 0) return classifyPgError(err.errors[0])
  return { code: 'remote_error', transient: false, detail: typeof code === 'string' ? code : undefined }
}

/** Wraps an error thrown while using PostgreSQL; a StoreError passes through unchanged. */
export function toStoreError(err: unknown, doing: string): StoreError {
  if (err instanceof StoreError) return err
  const { code, transient, detail } = classifyPgError(err)
  const message = err instanceof Error ? err.message || err.constructor.name : String(err)
  const tag = detail === undefined ? '' : ` (${detail})`
  return new StoreError(code, `postgres ${doing} failed${tag}: ${message}`, { cause: err, transient })
}
