// The identity of a store's file (device and inode), taken when it is opened and compared later:
// a file deleted or replaced under a running store is noticed by one stat, without a connection,
// so it is cheap enough to check around every batch and from the application's thread.

import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { StoreHealth } from '../event-store.js'

/** Device and inode of a file; bigints, since an inode may exceed 2^53 on some filesystems. */
export interface FileIdentity {
  readonly dev: bigint
  readonly ino: bigint
}

/** The identity of the file at `path` now; undefined when nothing is there. */
export function fileIdentity(path: string): FileIdentity | undefined {
  const s = statSync(path, { bigint: true, throwIfNoEntry: false })
  return s === undefined ? undefined : { dev: s.dev, ino: s.ino }
}

/** SQLite's names for a private database, which has no file to watch. */
export const isMemoryPath = (path: string): boolean => path === ':memory:' || path === ''

/**
 * Watches that the file at a path is still the one that was opened. The path is made absolute at
 * capture, so a later `process.chdir` does not make the check look elsewhere.
 */
export class StoreFileWatch {
  readonly path: string
  readonly identity: FileIdentity

  private constructor(path: string, identity: FileIdentity) {
    this.path = path
    this.identity = identity
  }

  /** The watch of the file at `path` as it is now; undefined for `:memory:` or when nothing is there. */
  static capture(path: string): StoreFileWatch | undefined {
    if (isMemoryPath(path)) return undefined
    const abs = resolve(path)
    const id = fileIdentity(abs)
    return id === undefined ? undefined : new StoreFileWatch(abs, id)
  }

  /** Undefined while the file at the path is the one captured; otherwise what happened to it. */
  problem(): string | undefined {
    let now: FileIdentity | undefined
    try {
      now = fileIdentity(this.path)
    } catch (err) {
      return `the store file ${this.path} cannot be checked: ${(err as Error).message}`
    }
    if (now === undefined) return `the store file ${this.path} was deleted after it was opened`
    if (now.dev !== this.identity.dev || now.ino !== this.identity.ino) return `the store file ${this.path} was replaced by another file after it was opened`
    return undefined
  }

  /**
   * The store's condition as far as its file goes. A deleted or replaced file does not come back
   * by itself, so the answer is `permanent`: the pipeline reports it as unhealthy, not degraded.
   */
  health(): StoreHealth {
    const problem = this.problem()
    return problem === undefined
      ? { status: 'healthy', reason: `store file ${this.path} in place` }
      : { status: 'unhealthy', reason: `${problem}; writes into it are refused and events wait in the ring`, permanent: true }
  }
}
