// Retention of the SQLite store: age, count and size limits and the dead-letter limit are applied
// one bounded chunk at a time, the exact event counter moves with every chunk, a file with
// auto_vacuum = INCREMENTAL shrinks back, and deletes interleaved with writes lose nothing new.

import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { SqliteStore, StoreError, StoreSpecError, createStore, type RetentionPolicy } from '../src/index.js'
import { RING_A, RING_B, record, run } from './fixtures/records.js'
import { createV2File } from './fixtures/v2-file.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-retention-'))
let n = 0
const freshPath = (): string => join(dir, `r-${++n}.db`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A new empty file set to auto_vacuum = INCREMENTAL (SQLite takes it only before the first table). */
function incrementalFile(): string {
  const path = freshPath()
  const db = new Database(path)
  db.pragma('auto_vacuum = INCREMENTAL')
  db.exec('VACUUM')
  db.close()
  return path
}

function open(retention: RetentionPolicy, path = freshPath()): SqliteStore {
  return SqliteStore.open({ path, retention })
}

/** Rows really in the table, beside the counter stats() reads. */
function counts(path: string): { rows: number; counter: number; dead: number } {
  const db = new Database(path, { readonly: true })
  try {
    return {
      rows: db.prepare('SELECT count(*) FROM events').pluck().get() as number,
      counter: db.prepare("SELECT value FROM counters WHERE name = 'events'").pluck().get() as number,
      dead: db.prepare('SELECT count(*) FROM dead_letters').pluck().get() as number,
    }
  } finally {
    db.close()
  }
}

async function drain(store: SqliteStore, maxRows: number): Promise<number[]> {
  const chunks: number[] = []
  for (let i = 0; i < 10_000; i++) {
    const r = await store.applyRetention({ maxRows })
    chunks.push(r.events + r.deadLetters)
    if (!r.more) return chunks
  }
  throw new Error('retention never finished')
}

describe('retention option', () => {
  it.each([
    ['a non-object', 5, 'retention'],
    ['an unknown limit', { maxAge: 1 }, 'retention.maxAge'],
    ['a negative maxEvents', { maxEvents: -1 }, 'retention.maxEvents'],
    ['a fractional maxAgeMs', { maxAgeMs: 1.5 }, 'retention.maxAgeMs'],
    ['a zero maxBytes', { maxBytes: 0 }, 'retention.maxBytes'],
    ['a string maxDeadLetters', { maxDeadLetters: '10' }, 'retention.maxDeadLetters'],
  ])('refuses %s with a StoreSpecError naming the option path', async (_name, retention, field) => {
    const err = await createStore({ kind: 'sqlite', path: freshPath(), retention } as never).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreSpecError)
    expect(err).toMatchObject({ code: 'invalid_spec', field })
  })

  it('keeps the resolved limits frozen in the options', () => {
    const store = open({ maxEvents: 10, maxAgeMs: 1000 })
    expect(store.options.retention).toEqual({ maxEvents: 10, maxAgeMs: 1000 })
    expect(Object.isFrozen(store.options.retention)).toBe(true)
    void store.close()
  })
})

describe('applyRetention', () => {
  it('removes events older than maxAgeMs in chunks of at most maxRows, keeping every newer one', async () => {
    const path = freshPath()
    const store = open({ maxAgeMs: 60_000 }, path)
    const now = Date.now()
    const old = Array.from({ length: 250 }, (_, i) => record(RING_A, i, now - 3_600_000 + i))
    const fresh = Array.from({ length: 50 }, (_, i) => record(RING_A, 250 + i, now - 1_000 + i))
    await store.storeEvents([...old, ...fresh])
    const chunks = await drain(store, 100)
    expect(chunks).toEqual([100, 100, 50])
    const left = await store.query({})
    expect(left.map((r) => r.seq)).toEqual(fresh.map((r) => r.seq))
    expect(counts(path)).toMatchObject({ rows: 50, counter: 50 })
    await store.close()
  })

  it('keeps the newest maxEvents events, removing the oldest by capture time in chunks', async () => {
    const path = freshPath()
    const store = open({ maxEvents: 120 }, path)
    // Two rings, stored out of capture order: the oldest by captured_at go first, whatever the ring.
    await store.storeEvents(run(RING_B, 0, 200, 10_000))
    await store.storeEvents(run(RING_A, 0, 200, 1_000))
    const chunks = await drain(store, 64)
    expect(chunks.every((c) => c <= 64)).toBe(true)
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(280)
    const left = await store.query({})
    expect(left).toHaveLength(120)
    expect(left.every((r) => r.ringId === RING_B && r.seq >= 80)).toBe(true)
    expect((await store.stats()).totalEvents).toBe(120)
    expect(counts(path)).toMatchObject({ rows: 120, counter: 120 })
    await store.close()
  })

  it('keeps the pages in use under maxBytes', async () => {
    const path = freshPath()
    const limit = 400_000
    const store = open({ maxBytes: limit }, path)
    const pad = 'x'.repeat(400)
    for (let b = 0; b < 10; b++) await store.storeEvents(Array.from({ length: 300 }, (_, i) => record(RING_A, b * 300 + i, 1_000 + b * 300 + i, { pad })))
    await drain(store, 500)
    const db = new Database(path, { readonly: true })
    const used = ((db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number)) * (db.pragma('page_size', { simple: true }) as number)
    db.close()
    expect(used).toBeLessThanOrEqual(limit)
    const c = counts(path)
    expect(c.rows).toBeGreaterThan(0)
    expect(c.counter).toBe(c.rows)
    // What is left is the newest events, with no gap.
    const seqs = (await store.query({})).map((r) => r.seq)
    expect(seqs[seqs.length - 1]).toBe(2999)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 3000 - seqs.length + i))
    await store.close()
  })

  it('keeps the newest maxDeadLetters dead letters and leaves events alone', async () => {
    const path = freshPath()
    const store = open({ maxDeadLetters: 3 }, path)
    await store.storeEvents(run(RING_A, 0, 10))
    for (let i = 0; i < 8; i++) {
      await store.storeDeadLetters([{ record: record(RING_B, i, 5_000 + i), error: `e${i}`, attempts: 1, reason: 'permanent_error' }])
      await new Promise((r) => setTimeout(r, 2)) // distinct stored_at
    }
    const chunks = await drain(store, 2)
    expect(chunks).toEqual([2, 2, 1])
    expect((await store.listDeadLetters()).map((d) => d.error)).toEqual(['e5', 'e6', 'e7'])
    expect(counts(path)).toMatchObject({ rows: 10, counter: 10, dead: 3 })
    await store.close()
  })

  it('removes nothing and takes no write lock when no limit is set', async () => {
    const path = freshPath()
    const store = SqliteStore.open({ path })
    await store.storeEvents(run(RING_A, 0, 20))
    // Another connection holds the write lock: a retention that tried to write would wait for it.
    const other = new Database(path)
    other.exec('BEGIN IMMEDIATE')
    expect(await store.applyRetention()).toEqual({ events: 0, deadLetters: 0, vacuumedPages: 0, more: false })
    other.exec('ROLLBACK')
    other.close()
    await store.close()
  })

  it('hands free pages back to the file system on a file with auto_vacuum = INCREMENTAL', async () => {
    const path = incrementalFile()
    const store = open({ maxEvents: 500 }, path)
    const pad = 'y'.repeat(1000)
    for (let b = 0; b < 20; b++) await store.storeEvents(Array.from({ length: 250 }, (_, i) => record(RING_A, b * 250 + i, 1_000 + b * 250 + i, { pad })))
    const db = new Database(path)
    db.pragma('wal_checkpoint(TRUNCATE)')
    const before = statSync(path).size
    let vacuumed = 0
    for (;;) {
      const r = await store.applyRetention({ maxRows: 1000, maxVacuumPages: 100 })
      expect(r.vacuumedPages).toBeLessThanOrEqual(100)
      vacuumed += r.vacuumedPages
      if (!r.more) break
    }
    db.pragma('wal_checkpoint(TRUNCATE)')
    const after = statSync(path).size
    expect(db.pragma('freelist_count', { simple: true })).toBe(0)
    db.close()
    expect(vacuumed).toBeGreaterThan(0)
    expect(after).toBeLessThan(before / 4)
    expect(counts(path)).toMatchObject({ rows: 500, counter: 500 })
    await store.close()
  })

  it('reuses free pages but returns none on a file without auto_vacuum', async () => {
    // A store made before auto_vacuum was set on new files: schema version 2, auto_vacuum NONE.
    const path = freshPath()
    createV2File(path).close()
    const store = open({ maxEvents: 100 }, path)
    await store.storeEvents(run(RING_A, 0, 2000))
    let vacuumed = 0
    for (;;) {
      const r = await store.applyRetention()
      vacuumed += r.vacuumedPages
      if (!r.more) break
    }
    expect(vacuumed).toBe(0)
    const db = new Database(path, { readonly: true })
    expect(db.pragma('freelist_count', { simple: true })).toBeGreaterThan(0)
    db.close()
    await store.close()
  })

  it('refuses on a store opened read-only', async () => {
    const path = freshPath()
    await (await createStore({ kind: 'sqlite', path })).close()
    const ro = SqliteStore.open({ path, readOnly: true, retention: { maxEvents: 1 } })
    await expect(ro.applyRetention()).rejects.toMatchObject({ code: 'read_only' })
    await ro.close()
  })

  it('refuses a bad budget with a RangeError', async () => {
    const store = open({ maxEvents: 1 })
    await expect(store.applyRetention({ maxRows: 0 })).rejects.toBeInstanceOf(RangeError)
    await store.close()
    await expect(store.applyRetention()).rejects.toBeInstanceOf(StoreError)
  })

  it('interleaved with writes on another connection, loses nothing newer than the limit and never double-counts', async () => {
    const path = freshPath()
    const writer = SqliteStore.open({ path })
    const retainer = open({ maxEvents: 300 }, path)
    let seq = 0
    for (let round = 0; round < 40; round++) {
      const batch = run(RING_A, seq, 37, 1_000)
      seq += 37
      // The same batch twice (a writer's retry after a crash): stored once, counted once.
      await writer.storeEvents(batch)
      await writer.storeEvents(batch)
      await retainer.applyRetention({ maxRows: 25 })
    }
    await drain(retainer, 25)
    const c = counts(path)
    expect(c).toMatchObject({ rows: 300, counter: 300 })
    const seqs = (await writer.query({})).map((r) => r.seq)
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => seq - 300 + i))
    await writer.close()
    await retainer.close()
  })
})
