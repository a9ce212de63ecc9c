// The soak's file fault: a connection of the soak's own on the store's SQLite file takes its write
// lock (BEGIN IMMEDIATE) for a moment, as another process on the same file would; the writers wait
// it out in SQLite's busy handler, or retry. better-sqlite3 is the storage package's driver,
// resolved from there (this app does not depend on it directly).

import { createRequire } from 'node:module'
import type { FileLock } from './soak-faults.js'

interface Connection {
  exec(sql: string): unknown
  close(): unknown
  readonly inTransaction: boolean
}
type Driver = new (path: string, options: { timeout: number; fileMustExist: boolean }) => Connection

/** A FileLock on the SQLite file at `path` (which must exist: it never creates a database). */
export function sqliteFileLock(path: string): FileLock & { close(): void } {
  const require = createRequire(import.meta.resolve('@ringside/storage'))
  const Database = require('better-sqlite3') as Driver
  // A writer's commit holds the lock for milliseconds; waiting for it here is short.
  const db = new Database(path, { timeout: 5_000, fileMustExist: true })
  return {
    take() {
      if (!db.inTransaction) db.exec('BEGIN IMMEDIATE')
    },
    release() {
      if (db.inTransaction) db.exec('COMMIT')
    },
    close() {
      this.release()
      db.close()
    },
  }
}
