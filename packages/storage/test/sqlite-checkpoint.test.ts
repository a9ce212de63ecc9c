// Checkpoints of the SQLite store outside the writers' turns: `checkpoint()` copies the WAL into
// the database only past walCheckpointPages, the WAL then starts over (also when a reader held part
// of the copy back: the next write catches up first), the WAL file stays bounded under continuous
// writes where it would otherwise grow with every batch, and nothing written is missing afterwards.

import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { SqliteStore, StoreSpecError, resolveStoreSpec } from '../src/index.js'
import { RING_A, run } from './fixtures/records.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-checkpoint-'))
let n = 0
const freshPath = (): string => join(dir, `c-${++n}.db`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const walBytes = (path: string): number => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0
/** Frames in the WAL and frames already copied, as SQLite reports them (no copy made). */
function walOf(db: Database.Database): { log: number; checkpointed: number } {
  return db.prepare('PRAGMA wal_checkpoint(NOOP)').get() as { log: number; checkpointed: number }
}
const rowsIn = (path: string): number => {
  const db = new Database(path, { readonly: true })
  try {
    return db.prepare('SELECT count(*) FROM events').pluck().get() as number
  } finally {
    db.close()
  }
}

describe('walCheckpointPages option', () => {
  it('defaults to 4000 and takes 0 (off) or a positive integer', () => {
    expect(resolveStoreSpec({ kind: 'sqlite', path: 'x.db' })).toMatchObject({ options: { walCheckpointPages: 4_000 } })
    expect(resolveStoreSpec({ kind: 'sqlite', path: 'x.db', walCheckpointPages: 0 })).toMatchObject({ options: { walCheckpointPages: 0 } })
  })

  it.each([-1, 1.5, '100', null])('refuses %j, naming the option', (value) => {
    expect(() => resolveStoreSpec({ kind: 'sqlite', path: 'x.db', walCheckpointPages: value } as never)).toThrow(StoreSpecError)
    try {
      resolveStoreSpec({ kind: 'sqlite', path: 'x.db', walCheckpointPages: value } as never)
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_spec', field: 'walCheckpointPages' })
    }
  })
})

describe('SqliteStore.checkpoint', () => {
  it('copies nothing while the WAL holds fewer pages than walCheckpointPages not yet in the database', async () => {
    const store = SqliteStore.open({ path: freshPath(), walCheckpointPages: 1_000_000, walAutocheckpointPages: 0 })
    await store.storeEvents(run(RING_A, 0, 500))
    const r = await store.checkpoint()
    expect(r.copiedPages).toBe(0)
    expect(r.walPages).toBeGreaterThan(0)
    await store.close()
  })

  it('copies the WAL into the database past walCheckpointPages, and the next write starts the WAL over', async () => {
    const path = freshPath()
    const store = SqliteStore.open({ path, walCheckpointPages: 20, walAutocheckpointPages: 0 })
    let seq = 0
    let copiedPages = 0
    for (; copiedPages === 0 && seq < 100_000; seq += 200) {
      await store.storeEvents(run(RING_A, seq, 200))
      copiedPages = (await store.checkpoint()).copiedPages
    }
    expect(copiedPages).toBeGreaterThanOrEqual(20)
    // The last call found the WAL past the threshold and copied it all (no other connection wrote).
    const watcher = new Database(path)
    const copied = walOf(watcher)
    expect(copied.checkpointed).toBe(copied.log)
    // One more batch: its write transaction finds everything copied and writes from the WAL's start.
    await store.storeEvents(run(RING_A, seq, 10))
    const after = walOf(watcher)
    expect(after.log).toBeGreaterThan(0)
    expect(after.log).toBeLessThan(copied.log)
    watcher.close()
    await store.close()
  })

  it('catches up in the next write when a reader held part of the copy back, so the WAL still starts over', async () => {
    const path = freshPath()
    const store = SqliteStore.open({ path, walCheckpointPages: 1, walAutocheckpointPages: 0 })
    await store.storeEvents(run(RING_A, 0, 200))
    // A reader's snapshot pins the frames written after it: a PASSIVE checkpoint stops short of them.
    const reader = new Database(path)
    const watcher = new Database(path)
    reader.exec('BEGIN')
    reader.prepare('SELECT count(*) FROM events').pluck().get()
    await store.storeEvents(run(RING_A, 200, 200))
    const r = await store.checkpoint()
    expect(r.copiedPages).toBeGreaterThan(0)
    const held = walOf(watcher)
    expect(held.checkpointed).toBeLessThan(held.log)
    reader.exec('COMMIT')
    // The reader is done: the next write copies the rest first, then finds the WAL copied and starts it over.
    await store.storeEvents(run(RING_A, 400, 5))
    const after = walOf(watcher)
    expect(after.log).toBeLessThan(held.log)
    reader.close()
    watcher.close()
    await store.close()
    expect(rowsIn(path)).toBe(405)
  })

  it('keeps the WAL file bounded under continuous writes when it follows every batch, where without it the WAL grows with each one', async () => {
    const batches = 300
    const write = async (store: SqliteStore, path: string, checkpoints: boolean): Promise<number> => {
      let largest = 0
      for (let b = 0; b < batches; b++) {
        await store.storeEvents(run(RING_A, b * 200, 200))
        if (checkpoints) await store.checkpoint()
        largest = Math.max(largest, walBytes(path))
      }
      return largest
    }
    // walAutocheckpointPages 0: SQLite never checkpoints by itself, so only checkpoint() can bound the WAL.
    const withPath = freshPath()
    const withCheckpoints = SqliteStore.open({ path: withPath, walCheckpointPages: 50, walAutocheckpointPages: 0 })
    const bounded = await write(withCheckpoints, withPath, true)
    const withoutPath = freshPath()
    const without = SqliteStore.open({ path: withoutPath, walCheckpointPages: 0, walAutocheckpointPages: 0 })
    const unbounded = await write(without, withoutPath, false)
    // The bound: the threshold plus what a few batches add, far below what the writes amount to.
    const bound = 1 << 20
    expect(bounded).toBeLessThan(bound)
    expect(unbounded).toBeGreaterThan(4 * bound)
    await withCheckpoints.close()
    await without.close()
    expect(rowsIn(withPath)).toBe(batches * 200)
    expect(rowsIn(withoutPath)).toBe(batches * 200)
  })

  it('keeps every event once checkpoints and writes interleave and the store is closed', async () => {
    const path = freshPath()
    const store = SqliteStore.open({ path, walCheckpointPages: 8, walAutocheckpointPages: 0 })
    let copied = 0
    for (let b = 0; b < 50; b++) {
      await store.storeEvents(run(RING_A, b * 100, 100))
      copied += (await store.checkpoint()).copiedPages
    }
    expect(copied).toBeGreaterThan(0)
    await store.close()
    expect(rowsIn(path)).toBe(5_000)
    const again = SqliteStore.open({ path, readOnly: true })
    expect((await again.countByRing(RING_A)).events).toBe(5_000)
    expect((await again.stats()).totalEvents).toBe(5_000)
    await again.close()
  })

  it('does nothing on a read-only store, on a :memory: database, or with walCheckpointPages 0', async () => {
    const path = freshPath()
    const writer = SqliteStore.open({ path, walCheckpointPages: 0, walAutocheckpointPages: 0 })
    await writer.storeEvents(run(RING_A, 0, 300))
    expect(await writer.checkpoint()).toEqual({ walPages: 0, copiedPages: 0 })
    const ro = SqliteStore.open({ path, readOnly: true, walCheckpointPages: 1 })
    expect(await ro.checkpoint()).toEqual({ walPages: 0, copiedPages: 0 })
    const mem = SqliteStore.open({ path: ':memory:', walCheckpointPages: 1 })
    await mem.storeEvents(run(RING_A, 0, 300))
    expect(await mem.checkpoint()).toEqual({ walPages: 0, copiedPages: 0 })
    // Nothing was copied: the WAL still holds every page the writer wrote.
    const db = new Database(path)
    const wal = walOf(db)
    expect(wal.log).toBeGreaterThan(0)
    expect(wal.checkpointed).toBe(0)
    db.close()
    await Promise.all([writer.close(), ro.close(), mem.close()])
  })

  it('fails with store_closed after close', async () => {
    const store = SqliteStore.open({ path: freshPath() })
    await store.close()
    await expect(store.checkpoint()).rejects.toMatchObject({ code: 'store_closed' })
  })
})
