// The `<db>` argument of query and stats: a Ringside SQLite file, resolved from the folder the
// command runs in.

import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { StoreOpenError, createStore, type EventStore } from '@ringside/storage'
import { UsageError } from './args.js'

/** The absolute path of the `<db>` argument; UsageError when it is missing or names no file. */
export function storeFile(command: string, positionals: readonly string[], cwd: string): string {
  const db = positionals[0]
  if (db === undefined) throw new UsageError(command, 'missing <db>, the Ringside SQLite file to read.')
  const path = resolve(cwd, db)
  if (!existsSync(path)) throw new UsageError(command, `no such file '${db}' (looked for ${path}).`)
  return path
}

/**
 * Opens the Ringside store at `path` read-only: the file is never changed. A file that is not a
 * Ringside store (another application's database, a text file) is a UsageError naming it.
 */
export async function openStoreForReading(command: string, path: string): Promise<EventStore> {
  try {
    return await createStore({ kind: 'sqlite', path, readOnly: true })
  } catch (cause) {
    if (cause instanceof StoreOpenError) throw new UsageError(command, `${path} cannot be read as a Ringside store (${cause.message}); it is left as it is.`)
    throw cause
  }
}
