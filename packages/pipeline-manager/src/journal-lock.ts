// The journal's lock: one pipeline at a time, in any process, owns a journal path. The lock is a
// file beside the journal created exclusively ('wx'), holding the owner's pid and host; a lock
// whose process is gone (killed, crashed) is stale and taken over. Two live owners would lose
// events: one replays and replaces the file while the other appends to it.

import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { JournalError } from './errors.js'

interface LockInfo {
  readonly ringside: 'journal-lock'
  readonly pid: number
  readonly host: string
  readonly token: string
}

/** A held lock; release() removes it if it is still this holder's. */
export interface JournalLock {
  readonly path: string
  release(): void
}

function readLock(path: string): LockInfo | undefined | 'foreign' {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const info = JSON.parse(text) as Partial<LockInfo>
    if (info.ringside === 'journal-lock' && typeof info.pid === 'number' && typeof info.host === 'string') return info as LockInfo
  } catch {
    // not ours: fall through
  }
  return 'foreign'
}

/** Whether a process with this pid runs on this machine (EPERM: it runs, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function create(path: string, info: LockInfo): boolean {
  let fd: number
  try {
    fd = openSync(path, 'wx')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    writeSync(fd, JSON.stringify(info))
  } finally {
    closeSync(fd)
  }
  return true
}

/**
 * Takes the lock of the journal at `journalPath` (the file `<journalPath>.lock`). Throws
 * JournalError `journal_locked` while a live process holds it (this one included: two pipelines
 * of one process cannot share a journal), or when a file that is not a Ringside lock is in the
 * way; `journal_unwritable` when the lock cannot be created (a missing directory, say).
 */
export function lockJournal(journalPath: string): JournalLock {
  const path = `${journalPath}.lock`
  const info: LockInfo = { ringside: 'journal-lock', pid: process.pid, host: hostname(), token: randomUUID() }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (create(path, info)) return { path, release: () => release(path, info.token) }
    } catch (cause) {
      throw new JournalError('journal_unwritable', journalPath, `cannot create the journal's lock ${path}: ${(cause as Error).message}`, { cause })
    }
    const held = readLock(path)
    if (held === undefined) continue // released between our attempt and the read
    if (held === 'foreign') throw new JournalError('journal_locked', journalPath, `${path} exists and is not a Ringside journal lock; it is left as it is: choose another journal.path`)
    if (held.host !== hostname() || alive(held.pid)) {
      const who = held.pid === process.pid ? 'another pipeline of this process' : `process ${held.pid} on ${held.host}`
      throw new JournalError('journal_locked', journalPath, `the journal ${journalPath} is in use by ${who}; each pipeline needs a journal of its own`)
    }
    // Stale: its process is gone. Move it aside (atomic), then make sure what was moved is the
    // stale lock read above and not a fresh one another starter took meanwhile.
    const aside = `${path}.stale-${process.pid}`
    try {
      renameSync(path, aside)
    } catch {
      continue
    }
    const moved = readLock(aside)
    if (moved !== undefined && moved !== 'foreign' && moved.token !== held.token) {
      try {
        linkSync(aside, path) // put the live lock back
      } catch {
        // someone else holds the path now; either way the lock is taken
      }
      rmSync(aside, { force: true })
      throw new JournalError('journal_locked', journalPath, `the journal ${journalPath} was just taken by process ${moved.pid}`)
    }
    rmSync(aside, { force: true })
  }
  throw new JournalError('journal_locked', journalPath, `could not take the lock ${path}: another process keeps taking it`)
}

function release(path: string, token: string): void {
  try {
    const held = readLock(path)
    if (held !== undefined && held !== 'foreign' && held.token === token) rmSync(path, { force: true })
  } catch {
    // Runs at process exit too; a lock left behind is stale once this process is gone.
  }
}
