// Opening a SQLite file as a Ringside store. The file is read before anything is written to it:
// a file that is not a database, or a database of something else, is refused untouched (its
// journal mode is not even changed). A Ringside store carries APPLICATION_ID; an empty database
// becomes one, and a store made before the mark existed (Ringside's tables, no mark) is marked.

import Database from 'better-sqlite3'
import { StoreError, StoreOpenError } from '../errors.js'
import type { ResolvedSqliteOptions } from './options.js'
import { APPLICATION_ID, SCHEMA_VERSION, migrate, tablesOfVersion } from './schema.js'
import { sqliteCodeOf } from './sqlite-errors.js'

const userTables = (db: Database.Database): string[] =>
  db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").pluck().all() as string[]

const listed = (names: readonly string[]): string => {
  const shown = names.slice(0, 5).join(', ')
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown
}

/**
 * Throws `not_a_ringside_store` unless the database is Ringside's: marked with APPLICATION_ID, or
 * unmarked with exactly the tables of its `user_version` (a store older than the mark), or, when
 * it may become a store (`emptyIsNew`), without any table at all.
 */
function checkOwner(db: Database.Database, path: string, emptyIsNew: boolean): void {
  const appId = db.pragma('application_id', { simple: true }) as number
  if (appId === APPLICATION_ID) return
  if (appId !== 0) {
    throw new StoreOpenError('not_a_ringside_store', path, `${path} is a SQLite database of another application (application_id ${appId}); Ringside does not write into it`)
  }
  const tables = userTables(db)
  if (tables.length === 0) {
    if (emptyIsNew) return
    throw new StoreOpenError('not_a_ringside_store', path, `${path} is an empty SQLite database, not a Ringside store`)
  }
  const version = db.pragma('user_version', { simple: true }) as number
  if (version >= 1 && version <= SCHEMA_VERSION && tablesOfVersion(version).join() === tables.join()) return
  throw new StoreOpenError(
    'not_a_ringside_store',
    path,
    `${path} is a SQLite database that is not a Ringside store (it holds ${listed(tables)}); Ringside does not write into it: choose another path`,
  )
}

/** The StoreOpenError for a failure while opening, by SQLite result code. */
function openErrorOf(cause: unknown, o: ResolvedSqliteOptions): StoreError {
  if (cause instanceof StoreError) return cause
  const code = sqliteCodeOf(cause)
  if (code === 'SQLITE_NOTADB') return new StoreOpenError('not_a_database', o.path, `${o.path} is not a SQLite database; Ringside does not write into it`, { cause })
  if (code?.startsWith('SQLITE_READONLY') === true) {
    // Transient: a writer restarted while the file is briefly read-only retries its open; the
    // pipeline's start refuses it at once all the same (a store must be writable at start).
    return new StoreOpenError('store_read_only', o.path, `sqlite database ${o.path} cannot be written (${code}); a store must be writable`, { cause, transient: true })
  }
  if (code?.startsWith('SQLITE_BUSY') === true) {
    return new StoreOpenError('busy', o.path, `sqlite database ${o.path} stayed locked for busyTimeoutMs=${o.busyTimeoutMs}`, { cause, transient: true })
  }
  return new StoreOpenError('open_failed', o.path, `cannot open sqlite database ${o.path}: ${String(cause)}`, { cause })
}

/** Opens (read-write: creating, migrating and marking; or read-only) a Ringside store's file. */
export function openDatabase(o: ResolvedSqliteOptions): Database.Database {
  let db: Database.Database
  try {
    // better-sqlite3's `timeout` is SQLite's busy timeout. Read-only never creates a file.
    db = new Database(o.path, { timeout: o.busyTimeoutMs, readonly: o.readOnly, fileMustExist: o.readOnly })
  } catch (cause) {
    throw new StoreOpenError('open_failed', o.path, `cannot open sqlite database ${o.path}: ${String(cause)}`, { cause })
  }
  try {
    // The first read of the header: a file that is not a database fails here, before any write.
    checkOwner(db, o.path, !o.readOnly)
    db.pragma(`cache_size = -${o.cacheSizeKiB}`)
    // ORDER BY's tie-break sorts in a temp b-tree; keep it off the disk.
    db.pragma('temp_store = MEMORY')
    if (o.readOnly) {
      const version = db.pragma('user_version', { simple: true }) as number
      if (version > SCHEMA_VERSION) {
        throw new StoreOpenError('schema_too_new', o.path, `database ${o.path} has schema version ${version}; this @ringside/storage knows up to ${SCHEMA_VERSION}`)
      }
      if (version < SCHEMA_VERSION) {
        // Version 3 changed the layout of `events`; reading needs the migration, which writes.
        throw new StoreOpenError('open_failed', o.path, `database ${o.path} has schema version ${version}; open it once read-write to migrate it to ${SCHEMA_VERSION} before reading it read-only`)
      }
      return db
    }
    // A new file: incremental auto-vacuum lets retention hand freed pages back to the file system
    // in steps. It can only be chosen before the first table exists (and before WAL mode writes
    // the header), so it is set here and never on an existing store.
    if (userTables(db).length === 0) db.pragma('auto_vacuum = INCREMENTAL')
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${o.synchronous}`)
    db.pragma(`wal_autocheckpoint = ${o.walAutocheckpointPages}`)
    // Checked again inside the write transaction: another connection may have changed the file since.
    migrate(db, o.path, () => checkOwner(db, o.path, true))
    return db
  } catch (cause) {
    db.close()
    throw openErrorOf(cause, o)
  }
}
