// What the SQLite store does with files it does not own: someone else's database or a text file
// is refused untouched, Ringside's own files carry a mark, a read-only file is refused at open, a
// read-only open creates nothing, and a file deleted under an open store is noticed, not written.

import { readFileSync, existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { APPLICATION_ID, SCHEMA_VERSION, SqliteStore, StoreError, StoreOpenError, createStore } from '../src/index.js'
import { MIGRATIONS } from '../src/sqlite/schema.js'
import { toStoreError } from '../src/sqlite/sqlite-errors.js'
import { makeReadOnly } from '../src/testing/read-only.js'
import { RING_A, run } from './fixtures/records.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-sqlite-files-'))
let n = 0
const freshPath = (): string => join(dir, `file-${++n}.db`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A database of the user's: a `customers` table with three rows. */
function customersDb(): string {
  const path = freshPath()
  const db = new Database(path)
  db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada'), ('Grace'), ('Edsger')")
  db.close()
  return path
}

function inspect(path: string): { tables: string[]; appId: number; journalMode: string; customers?: number } {
  const db = new Database(path, { readonly: true })
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[]
    return {
      tables,
      appId: db.pragma('application_id', { simple: true }) as number,
      journalMode: db.pragma('journal_mode', { simple: true }) as string,
      ...(tables.includes('customers') ? { customers: db.prepare('SELECT count(*) FROM customers').pluck().get() as number } : {}),
    }
  } finally {
    db.close()
  }
}

describe('SqliteStore.open', () => {
  it("refuses to open a database that holds tables but not Ringside's schema, and leaves it as it was", async () => {
    const path = customersDb()
    const before = readFileSync(path)
    const err = await createStore({ kind: 'sqlite', path }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreOpenError)
    expect(err).toMatchObject({ code: 'not_a_ringside_store', path, transient: false })
    expect((err as Error).message).toMatch(/customers/)
    expect(inspect(path)).toEqual({ tables: ['customers'], appId: 0, journalMode: 'delete', customers: 3 })
    expect(readFileSync(path).equals(before)).toBe(true)
  })

  it('refuses a database marked by another application', async () => {
    const path = freshPath()
    const db = new Database(path)
    db.pragma('application_id = 1196444487') // 'GPKG', a GeoPackage
    db.close()
    const err = await createStore({ kind: 'sqlite', path }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'not_a_ringside_store', path })
    expect(inspect(path).tables).toEqual([])
  })

  it('refuses a text file at the path and never overwrites it', async () => {
    const path = freshPath()
    const text = 'my notes, not a database\n'.repeat(76)
    writeFileSync(path, text)
    const err = await createStore({ kind: 'sqlite', path }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'not_a_database', path })
    expect(readFileSync(path, 'utf8')).toBe(text)
  })

  it("marks a new store with Ringside's application_id", async () => {
    const path = freshPath()
    await (await createStore({ kind: 'sqlite', path })).close()
    expect(inspect(path)).toMatchObject({ appId: APPLICATION_ID, journalMode: 'wal' })
  })

  it('accepts a store made before the mark existed, keeps its events and marks it', async () => {
    const path = freshPath()
    const raw = new Database(path)
    for (const sql of MIGRATIONS) raw.exec(sql)
    raw.pragma(`user_version = ${SCHEMA_VERSION}`)
    raw.prepare('INSERT INTO rings (ring_no, ring_id) VALUES (1, ?)').run(RING_A)
    raw.prepare("INSERT INTO events (ring_no, seq, captured_at, type, body) VALUES (1, 0, 1, 'call', '{\"type\":\"call\"}')").run()
    raw.prepare("UPDATE counters SET value = 1 WHERE name = 'events'").run()
    raw.close()
    expect(inspect(path).appId).toBe(0)
    const store = await createStore({ kind: 'sqlite', path })
    expect((await store.stats()).totalEvents).toBe(1)
    await store.close()
    expect(inspect(path).appId).toBe(APPLICATION_ID)
  })

  it('refuses a store file it cannot write with store_read_only', async () => {
    const path = freshPath()
    await (await createStore({ kind: 'sqlite', path })).close()
    const undo = makeReadOnly(path)
    try {
      const err = await createStore({ kind: 'sqlite', path }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StoreOpenError)
      expect(err).toMatchObject({ code: 'store_read_only', path })
    } finally {
      undo()
    }
  })

  it('with readOnly, never creates a file and refuses what is not a Ringside store', async () => {
    const missing = freshPath()
    await expect(createStore({ kind: 'sqlite', path: missing, readOnly: true })).rejects.toMatchObject({ code: 'open_failed' })
    expect(existsSync(missing)).toBe(false)
    await expect(createStore({ kind: 'sqlite', path: customersDb(), readOnly: true })).rejects.toMatchObject({ code: 'not_a_ringside_store' })
    const path = freshPath()
    const rw = await createStore({ kind: 'sqlite', path })
    await rw.storeEvents(run(RING_A, 0, 5))
    const ro = await createStore({ kind: 'sqlite', path, readOnly: true })
    expect(await ro.countByRing!(RING_A)).toEqual({ events: 5, deadLetters: 0, prunedEvents: 0, prunedDeadLetters: 0 })
    await expect(ro.storeEvents(run(RING_A, 5, 1))).rejects.toMatchObject({ code: 'read_only', transient: false })
    await ro.close()
    await rw.close()
  })
})

describe('SqliteStore.storeEvents', () => {
  it('refuses, as a transient error, to write into its file once the file was deleted', async () => {
    const path = freshPath()
    const store = await createStore({ kind: 'sqlite', path })
    await store.storeEvents(run(RING_A, 0, 10))
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
    const err = await store.storeEvents(run(RING_A, 10, 10)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect(err).toMatchObject({ code: 'store_replaced', transient: true })
    await expect(store.storeDeadLetters([{ record: run(RING_A, 30, 1)[0]!, error: 'e', attempts: 1 }])).rejects.toMatchObject({ code: 'store_replaced' })
    await store.close()
  })

  it('classes SQLITE_READONLY from a live connection as a transient outage, not a poison batch', () => {
    const path = freshPath()
    const db = new Database(path)
    db.exec('CREATE TABLE t (x)')
    // A connection that may no longer write: SQLite's own SQLITE_READONLY, as a file turned read-only gives.
    db.pragma('query_only = ON')
    let thrown: unknown
    try {
      db.exec('INSERT INTO t VALUES (1)')
    } catch (e) {
      thrown = e
    }
    db.close()
    expect((thrown as { code?: string }).code).toMatch(/^SQLITE_READONLY/)
    expect(toStoreError(thrown, 'storeEvents')).toMatchObject({ code: 'read_only', transient: true })
  })
})

describe('SqliteStore.health', () => {
  it('says unhealthy, for good, once the file at its path is not the one it opened', async () => {
    const path = freshPath()
    const store = SqliteStore.open({ path })
    expect(await store.health()).toMatchObject({ status: 'healthy' })
    unlinkSync(path)
    writeFileSync(path, '')
    expect(await store.health()).toMatchObject({ status: 'unhealthy', permanent: true, reason: expect.stringMatching(/replaced/) })
    unlinkSync(path)
    expect(await store.health()).toMatchObject({ status: 'unhealthy', permanent: true, reason: expect.stringMatching(/deleted/) })
    await store.close()
  })
})
