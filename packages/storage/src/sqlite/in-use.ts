// Whether another connection (a running pipeline's writers, another process) has a SQLite store
// open: for commands that must have the file to themselves, such as an offline prune or VACUUM.

import Database from 'better-sqlite3'

/**
 * True when some other connection has the file at `path` open. It asks SQLite for an exclusive
 * lock without waiting (`locking_mode = EXCLUSIVE`, `BEGIN EXCLUSIVE`, busy timeout 0): in WAL mode
 * every open connection holds a shared lock for as long as it is open, idle or not, so the lock is
 * refused while any is. The probe writes nothing; it only reads the header.
 */
export function sqliteFileInUse(path: string): boolean {
  const db = new Database(path, { timeout: 0, fileMustExist: true })
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE')
    db.exec('COMMIT')
    return false
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) return true
    throw err
  } finally {
    db.close()
  }
}
