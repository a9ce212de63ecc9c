// The SQLite adapter: the contract suite on real files, then what only SQLite has: durability
// across reopen, migrations through user_version, typed open errors, locks, several writer
// threads on one file, and query plans that use the indexes.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { SCHEMA_VERSION, SqliteStore, StoreOpenError, createStore, type EventRecord } from '../src/index.js'
import { MIGRATIONS } from '../src/sqlite/schema.js'
import { runStoreContract } from './contract.js'
import { RING_A, RING_B, record, ringIdOf, run } from './fixtures/records.js'
import { runWorker } from './fixtures/workers.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-sqlite-'))
let n = 0
const freshPath = (): string => join(dir, `store-${++n}.db`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

runStoreContract('sqlite', () => createStore({ kind: 'sqlite', path: freshPath() }), {
  badSpecs: [
    { spec: { kind: 'sqlite' }, field: 'path' },
    { spec: { kind: 'sqlite', path: '' }, field: 'path' },
    { spec: { kind: 'sqlite', path: 42 }, field: 'path' },
    { spec: { kind: 'sqlite', path: 'x.db', synchronous: 'SOMETIMES' }, field: 'synchronous' },
    { spec: { kind: 'sqlite', path: 'x.db', synchronous: 'normal' }, field: 'synchronous' },
    { spec: { kind: 'sqlite', path: 'x.db', busyTimeoutMs: -1 }, field: 'busyTimeoutMs' },
    { spec: { kind: 'sqlite', path: 'x.db', busyTimeoutMs: '5s' }, field: 'busyTimeoutMs' },
    { spec: { kind: 'sqlite', path: 'x.db', cacheSizeKiB: 1.5 }, field: 'cacheSizeKiB' },
    { spec: { kind: 'sqlite', path: 'x.db', walAutocheckpointPages: null }, field: 'walAutocheckpointPages' },
    { spec: { kind: 'sqlite', path: 'x.db', walCheckpointPages: -1 }, field: 'walCheckpointPages' },
    { spec: { kind: 'sqlite', path: 'x.db', journal: 'DELETE' }, field: 'journal' },
    { spec: { kind: 'sqlite', path: 'x.db', readOnly: 'yes' }, field: 'readOnly' },
  ],
})

runStoreContract('sqlite :memory:', () => createStore({ kind: 'sqlite', path: ':memory:' }), { propertyRuns: 10 })

describe('SqliteStore.open', () => {
  it('applies the documented defaults and puts the file in WAL mode at the current schema version', async () => {
    const path = freshPath()
    const store = SqliteStore.open({ path })
    expect(store.options).toEqual({ path, synchronous: 'NORMAL', busyTimeoutMs: 30_000, cacheSizeKiB: 4_096, walAutocheckpointPages: 50_000, walCheckpointPages: 4_000, readOnly: false })
    const raw = new Database(path, { readonly: true })
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    raw.close()
    await store.close()
  })

  it('keeps every event and dead letter across close and reopen', async () => {
    const path = freshPath()
    const first = await createStore({ kind: 'sqlite', path })
    await first.storeEvents(run(RING_A, 0, 50))
    await first.storeDeadLetters([{ record: record(RING_B, 1, 5), error: 'boom', attempts: 2 }])
    await first.close()
    const second = await createStore({ kind: 'sqlite', path, synchronous: 'FULL' })
    expect(await second.stats()).toMatchObject({ totalEvents: 50, oldestCapturedAt: 1_000, newestCapturedAt: 1_049, deadLetters: 1 })
    expect(await second.getEvent(`${RING_A}:49`)).toEqual(run(RING_A, 49, 1)[0])
    // The interned ring id is found again, so a rewrite is still recognised as a duplicate.
    expect(await second.storeEvents(run(RING_A, 45, 10))).toEqual({ inserted: 5, duplicates: 5 })
    await second.close()
  })

  it('migrates a version-1 file, keeping its events and counting them', async () => {
    const path = freshPath()
    const raw = new Database(path)
    raw.exec(MIGRATIONS[0] as string)
    raw.pragma('user_version = 1')
    raw.prepare('INSERT INTO rings (ring_no, ring_id) VALUES (1, ?)').run(RING_A)
    const ins = raw.prepare('INSERT INTO events (ring_no, seq, captured_at, type, pid, body) VALUES (1, ?, ?, ?, ?, ?)')
    for (let i = 0; i < 5; i++) ins.run(i, 100 + i, 'call', '<0.1.0>', JSON.stringify({ type: 'call', pid: '<0.1.0>', i }))
    raw.close()

    const store = await createStore({ kind: 'sqlite', path })
    expect(await store.stats()).toMatchObject({ totalEvents: 5, oldestCapturedAt: 100, newestCapturedAt: 104, deadLetters: 0 })
    expect((await store.query({ pid: '<0.1.0>', since: 103 })).map((r) => r.event.i)).toEqual([3, 4])
    expect(await store.storeEvents([record(RING_A, 4, 104), record(RING_A, 5, 105)])).toEqual({ inserted: 1, duplicates: 1 })
    expect((await store.storeDeadLetters([{ record: record(RING_A, 9, 9), error: 'e', attempts: 1 }])).inserted).toBe(1)
    expect((await store.stats()).totalEvents).toBe(6)
    await store.close()
    const check = new Database(path, { readonly: true })
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    check.close()
  })

  it('refuses a file whose schema is newer than this code', async () => {
    const path = freshPath()
    const raw = new Database(path)
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    raw.close()
    const err = await createStore({ kind: 'sqlite', path }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreOpenError)
    expect(err).toMatchObject({ code: 'schema_too_new', path, transient: false })
  })

  it('refuses a file that is not a database with a typed error', async () => {
    const path = freshPath()
    writeFileSync(path, 'this is a text file, not a database\n'.repeat(200))
    const err = await createStore({ kind: 'sqlite', path }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreOpenError)
    expect(err).toMatchObject({ code: 'not_a_database', path, transient: false })
  })

  it.each([
    ['a path in a missing directory', (): string => join(dir, 'missing', 'sub', 'x.db')],
    ['a path that is a directory', (): string => {
      const p = join(dir, `a-directory-${++n}`)
      mkdirSync(p)
      return p
    }],
  ])('refuses %s with open_failed', async (_name, makePath) => {
    const path = makePath()
    const err = await createStore({ kind: 'sqlite', path }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreOpenError)
    expect(err).toMatchObject({ code: 'open_failed', path })
  })
})

describe('SqliteStore locks', () => {
  it('reports a lock held past busyTimeoutMs as a transient busy error and writes nothing', async () => {
    const path = freshPath()
    const store = await createStore({ kind: 'sqlite', path, busyTimeoutMs: 50 })
    const other = new Database(path)
    other.exec('BEGIN IMMEDIATE')
    const err = await store.storeEvents(run(RING_A, 0, 3)).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'busy', transient: true })
    other.exec('ROLLBACK')
    other.close()
    // The failed batch left no half-interned ring behind: the retry stores all of it.
    expect(await store.storeEvents(run(RING_A, 0, 3))).toEqual({ inserted: 3, duplicates: 0 })
    await store.close()
  })
})

describe('SqliteStore with several writer threads', () => {
  it('loses nothing and duplicates nothing when three threads write interleaved, overlapping batches to one file', async () => {
    const path = freshPath()
    const shared = ringIdOf('cc')
    // 60 batches of 50 over a shared ring; thread t owns batches b with b % 3 === t and also
    // rewrites the next thread's batch, so every batch is written twice, by two threads at once.
    const batches: EventRecord[][] = Array.from({ length: 60 }, (_, b) => run(shared, b * 50, 50))
    const plans = [0, 1, 2].map((t) => {
      const mine: EventRecord[][] = []
      for (let b = t; b < 60; b += 3) {
        mine.push(batches[b] as EventRecord[])
        mine.push(batches[(b + 1) % 60] as EventRecord[])
      }
      // Each thread also has a ring of its own, interned concurrently with the others.
      mine.push(run(ringIdOf(`d${t}`), 0, 100))
      return mine
    })
    const results = await Promise.all(plans.map((p) => runWorker<{ inserted: number; duplicates: number }>('sqlite-writer', { path, batches: p })))
    const sum = results.flat().reduce((a, r) => ({ inserted: a.inserted + r.inserted, duplicates: a.duplicates + r.duplicates }), { inserted: 0, duplicates: 0 })
    expect(sum).toEqual({ inserted: 3_000 + 300, duplicates: 3_000 })

    const store = await createStore({ kind: 'sqlite', path })
    expect((await store.stats()).totalEvents).toBe(3_300)
    const all = await store.query({ since: 0 })
    expect(new Set(all.map((r) => r.key)).size).toBe(3_300)
    const sharedSeqs = all.filter((r) => r.ringId === shared).map((r) => r.seq).sort((a, b) => a - b)
    expect(sharedSeqs).toEqual(Array.from({ length: 3_000 }, (_, i) => i))
    for (const t of [0, 1, 2]) expect(await store.getEvent(`${ringIdOf(`d${t}`)}:99`)).toBeDefined()
    await store.close()
  })
})

describe('SqliteStore query plans', () => {
  it('answers a time-range or pid query over 10k events from an index, in its order, without a sort', async () => {
    const store = SqliteStore.open({ path: freshPath() })
    for (let b = 0; b < 10; b++) await store.storeEvents(run(RING_A, b * 1_000, 1_000))
    const plans = {
      range: store.explainQuery({ since: 5_000, until: 5_100 }),
      pid: store.explainQuery({ pid: '<0.1.0>' }),
      pidRange: store.explainQuery({ pid: '<0.1.0>', since: 5_000, until: 5_100, order: 'desc', limit: 10 }),
      type: store.explainQuery({ type: 'call', since: 5_000 }),
      mfa: store.explainQuery({ module: 'M', function: 'f', arity: 1 }),
      correlation: store.explainQuery({ correlationId: 'corr-5' }),
      astNode: store.explainQuery({ astNodeId: 'n-1' }),
    }
    expect(plans.range.join('\n')).toMatch(/SEARCH e USING INDEX events_captured_at \(captured_at>\? AND captured_at<\?\)/)
    expect(plans.pid.join('\n')).toMatch(/SEARCH e USING INDEX events_pid \(pid=\?\)/)
    expect(plans.pidRange.join('\n')).toMatch(/SEARCH e USING INDEX events_pid \(pid=\? AND captured_at>\? AND captured_at<\?\)/)
    expect(plans.type.join('\n')).toMatch(/USING INDEX events_type/)
    expect(plans.mfa.join('\n')).toMatch(/USING INDEX events_mfa/)
    expect(plans.correlation.join('\n')).toMatch(/USING INDEX events_correlation/)
    expect(plans.astNode.join('\n')).toMatch(/USING INDEX events_ast_node/)
    for (const plan of Object.values(plans)) expect(plan.join('\n')).not.toMatch(/SCAN e/)
    // Rows come in the index's capture-time order: no sort, no other table per row.
    for (const name of ['range', 'pid', 'pidRange', 'type', 'mfa', 'astNode'] as const) {
      expect(plans[name].join('\n')).not.toMatch(/TEMP B-TREE| r USING|SCAN r/)
    }
    expect(await store.query({ since: 5_000, until: 5_100 })).toHaveLength(101)
    expect(await store.query({ pid: '<0.1.0>' })).toHaveLength(3_333)
    await store.close()
  })
})
