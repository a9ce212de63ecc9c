// What the commands may do with the file a user names. `demo` and `soak` write a new store: the
// path must be free, or hold a Ringside store that the user asked to replace (--fresh). `query`
// and `stats` only read, through a read-only connection. Anything else at a path is refused and
// left exactly as it was.

import { existsSync, rmSync } from 'node:fs'
import { createStore, StoreOpenError, type EventStore } from '@ringside/storage'

/** A --db path the command may not use; the CLI exits with code 2. */
export class DbPathError extends Error {
  readonly code: 'not_a_ringside_store' | 'store_exists'
  readonly path: string
  constructor(code: 'not_a_ringside_store' | 'store_exists', path: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DbPathError'
    this.code = code
    this.path = path
  }
}

/** Opens an existing Ringside store read-only; DbPathError when the file is anything else. */
export async function openForReading(path: string): Promise<EventStore> {
  try {
    return await createStore({ kind: 'sqlite', path, readOnly: true })
  } catch (cause) {
    if (cause instanceof StoreOpenError) throw new DbPathError('not_a_ringside_store', path, `${path} cannot be read as a Ringside store: ${cause.message}`, { cause })
    throw cause
  }
}

/**
 * Makes `path` ready for a run that writes a new store there: nothing to do when it is free; an
 * existing Ringside store is removed (with its WAL files) only when `fresh`, and refused
 * otherwise; anything else is refused and never touched.
 */
export async function prepareNewStore(path: string, fresh: boolean): Promise<void> {
  if (!existsSync(path)) return
  let events: number
  try {
    const store = await openForReading(path)
    try {
      events = (await store.stats()).totalEvents
    } finally {
      await store.close()
    }
  } catch (cause) {
    if (cause instanceof DbPathError) {
      throw new DbPathError('not_a_ringside_store', path, `${path} exists and is not a Ringside store; it is left as it is: choose another --db`, { cause })
    }
    throw cause
  }
  if (!fresh) {
    throw new DbPathError('store_exists', path, `${path} is a Ringside store holding ${events.toLocaleString('en-US')} events; pass --fresh to replace it, or choose another --db`)
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
}
