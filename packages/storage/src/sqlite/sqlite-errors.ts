// Maps better-sqlite3's SqliteError (its `code` is SQLite's extended result code name) to a
// StoreError with a stable code and a transient flag, so the writer's retry policy never has to
// know SQLite. Transient: locks, I/O hiccups, a full disk, a file turned read-only (an outage of
// the store's file, not a fault of the batch). Permanent: everything else.

import { StoreError, type StoreErrorCode } from '../errors.js'

/** The SQLite result code of an error thrown by better-sqlite3, if it is one. */
export function sqliteCodeOf(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined
}

function classify(sqliteCode: string): { code: StoreErrorCode; transient: boolean } {
  if (sqliteCode.startsWith('SQLITE_BUSY') || sqliteCode.startsWith('SQLITE_LOCKED')) return { code: 'busy', transient: true }
  if (sqliteCode.startsWith('SQLITE_IOERR')) return { code: 'io_error', transient: true }
  if (sqliteCode === 'SQLITE_FULL') return { code: 'disk_full', transient: true }
  // Every SQLITE_READONLY* says the file cannot be written now (a read-only remount, a lost lock,
  // a moved file), never that these events are bad: as permanent, poison isolation would
  // dead-letter every batch while health stayed green.
  if (sqliteCode.startsWith('SQLITE_READONLY')) return { code: 'read_only', transient: true }
  if (sqliteCode === 'SQLITE_NOTADB') return { code: 'not_a_database', transient: false }
  if (sqliteCode.startsWith('SQLITE_CORRUPT')) return { code: 'corrupt', transient: false }
  return { code: 'sqlite_error', transient: false }
}

/** Wraps an error thrown while using SQLite; a StoreError passes through unchanged. */
export function toStoreError(err: unknown, doing: string): StoreError {
  if (err instanceof StoreError) return err
  const sqliteCode = sqliteCodeOf(err)
  const message = err instanceof Error ? err.message : String(err)
  if (sqliteCode === undefined) return new StoreError('sqlite_error', `sqlite ${doing} failed: ${message}`, { cause: err })
  const { code, transient } = classify(sqliteCode)
  return new StoreError(code, `sqlite ${doing} failed (${sqliteCode}): ${message}`, { cause: err, transient })
}
