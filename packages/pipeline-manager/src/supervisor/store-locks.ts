// The write lock of each SQLite file this process writes through a pool (see @ringside/async-writer's
// StoreLock): one shared word per file, so the writers of every pool on that file take turns by
// handoff instead of sleeping in SQLite's busy handler. Owners are thread ids, unique in a process.

import { resolve } from 'node:path'
import type { StoreSpec } from '@ringside/storage'
import { createStoreLockBuffer } from '@ringside/async-writer/protocol'

const locks = new Map<string, SharedArrayBuffer>()

/**
 * The lock buffer of the file `spec` writes to, or undefined for stores that need none: anything
 * but a SQLite file (a `:memory:` database is private to each connection).
 */
export function storeLockFor(spec: StoreSpec): SharedArrayBuffer | undefined {
  const s = spec as { kind?: unknown; path?: unknown }
  if (s.kind !== 'sqlite' || typeof s.path !== 'string' || s.path === '' || s.path === ':memory:' || s.path.startsWith('file:')) return undefined
  const key = resolve(s.path)
  let buffer = locks.get(key)
  if (buffer === undefined) {
    buffer = createStoreLockBuffer()
    locks.set(key, buffer)
  }
  return buffer
}
