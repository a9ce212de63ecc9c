// The SQLite row layout of schema 3: events split into dictionary-id columns and a body read back
// exactly as written (key order included), the own-key correlation id, the migration of a
// version-2 file, and incremental auto-vacuum on new files.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { SCHEMA_VERSION, SqliteStore, type EventRecord } from '../src/index.js'
import { RING_A, RING_B, record } from './fixtures/records.js'
import { createV2File } from './fixtures/v2-file.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-sqlite-layout-'))
let n = 0
const freshPath = (): string => join(dir, `store-${++n}.db`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** What a store must give back: the event as JSON carries it, keys in the same order. */
const asJson = (event: Record<string, unknown>): string => JSON.stringify(event)

describe('SqliteStore row layout', () => {
  it('reads back every event exactly as JSON carries it, key order included, whatever its fields hold', async () => {
    const store = SqliteStore.open({ path: freshPath() })
    const columnValue = fc.oneof(
      fc.string(),
      fc.constantFrom('call', '<0.1.0>', 'writer-1', '\ud800 lone', ''),
      fc.integer(),
      fc.double(),
      fc.constantFrom(2 ** 60, -0, Number.NaN, Infinity, null, true, undefined),
      fc.jsonValue({ maxDepth: 2 }),
    )
    const fields = ['type', 'pid', 'module', 'function', 'arity', 'astNodeId', 'correlationId', 'writerId', 'enrichedAt', 'processingOrder']
    const eventArb = fc
      .tuple(fc.dictionary(fc.constantFrom(...fields), columnValue), fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })), fc.boolean())
      .map(([columns, others, interleave]) => (interleave ? { ...others, ...columns } : { ...columns, ...others }))
    let seq = 0
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 20 }), fc.boolean(), async (events, ownKey) => {
        const batch: EventRecord[] = events.map((event) => {
          const s = seq++
          const key = `${RING_A}:${s}`
          return { key, ringId: RING_A, seq: s, capturedAt: s, event: ownKey ? { ...event, correlationId: key } : event }
        })
        expect(await store.storeEvents(batch)).toEqual({ inserted: batch.length, duplicates: 0 })
        for (const r of batch) {
          const back = await store.getEvent(r.key)
          expect(back).toBeDefined()
          expect(asJson(back?.event ?? {})).toBe(asJson(r.event))
          expect(back?.event).toEqual(JSON.parse(asJson(r.event)))
        }
      }),
      { numRuns: 60 },
    )
    await store.close()
  })

  it('keeps a top-level toJSON and an own __proto__ key as JSON does', async () => {
    const store = SqliteStore.open({ path: freshPath() })
    const withProto = JSON.parse('{"__proto__":{"x":1},"pid":"<0.1.0>","b":2}') as Record<string, unknown>
    const withToJson = { pid: '<0.2.0>', toJSON: () => ({ pid: '<0.3.0>', z: 1 }) }
    await store.storeEvents([record(RING_A, 1, 1, {}), { key: `${RING_A}:2`, ringId: RING_A, seq: 2, capturedAt: 2, event: withProto }, { key: `${RING_A}:3`, ringId: RING_A, seq: 3, capturedAt: 3, event: withToJson }])
    const proto = await store.getEvent(`${RING_A}:2`)
    expect(Object.getOwnPropertyNames(proto?.event)).toEqual(['__proto__', 'pid', 'b'])
    expect(asJson(proto?.event ?? {})).toBe(asJson(withProto))
    expect((await store.getEvent(`${RING_A}:3`))?.event).toEqual({ pid: '<0.3.0>', z: 1 })
    // Indexed as its pid field says, as before the split layout.
    expect((await store.query({ pid: '<0.1.0>' })).map((r) => r.seq)).toEqual([2])
    await store.close()
  })

  it("stores a correlation id equal to the event's key as no string, and still finds the event by it", async () => {
    const path = freshPath()
    const store = SqliteStore.open({ path })
    const own = record(RING_A, 7, 7, { correlationId: `${RING_A}:7` })
    const other = record(RING_B, 7, 8, { correlationId: `${RING_A}:7` }) // another event naming it
    await store.storeEvents([own, record(RING_A, 8, 9, { correlationId: `${RING_A}:8` })])
    await store.storeEvents([other])
    expect((await store.getEvent(own.key))?.event).toEqual(own.event)
    expect((await store.query({ correlationId: own.key, order: 'asc' })).map((r) => r.key)).toEqual([own.key, other.key])
    expect((await store.query({ correlationId: `${RING_A}:8` })).map((r) => r.key)).toEqual([`${RING_A}:8`])
    expect(await store.query({ correlationId: `${RING_A}:9` })).toEqual([])
    await store.close()
    const db = new Database(path, { readonly: true })
    expect(db.prepare('SELECT count(*) FROM strings WHERE s LIKE ?').pluck().get(`${RING_A}:%`)).toBe(1)
    expect(db.prepare('SELECT correlation FROM events ORDER BY rowid').pluck().all()).toEqual([0, 0, expect.any(Number)])
    db.close()
  })

  it('names every string a read meets, whatever its id, in a fresh connection and in the one that wrote it', async () => {
    // 70,000 distinct strings: ids past the 65,536 a connection names from an array, so reads
    // name ids from both of its caches, and from the table when a cache lacks them.
    const path = freshPath()
    const store = SqliteStore.open({ path })
    const events: EventRecord[] = []
    for (let i = 0; i < 70_000; i++) events.push(record(RING_A, i, i, { correlationId: `c-${i}`, pid: `<0.${i % 3}.0>`, module: i % 1000 === 0 ? `M${i}` : 'M' }))
    for (let i = 0; i < events.length; i += 5_000) await store.storeEvents(events.slice(i, i + 5_000))
    const reader = SqliteStore.open({ path, readOnly: true })
    for (const s of [store, reader]) {
      const late = await s.query({ since: 69_000 })
      expect(late.map((r) => asJson(r.event))).toEqual(events.slice(69_000).map((r) => asJson(r.event)))
      expect((await s.getEvent(`${RING_A}:69999`))?.event).toEqual(events[69_999]?.event)
      expect((await s.query({ module: 'M68000' })).map((r) => r.event.correlationId)).toEqual(['c-68000'])
      const early = await s.query({ until: 999, order: 'desc', limit: 10 })
      expect(early.map((r) => asJson(r.event))).toEqual(events.slice(990, 1_000).reverse().map((r) => asJson(r.event)))
    }
    await reader.close()
    await store.close()
  })

  it('creates new files with incremental auto-vacuum and keeps the events table and its counter', async () => {
    const path = freshPath()
    const store = SqliteStore.open({ path })
    await store.storeEvents([record(RING_A, 0, 1), record(RING_A, 1, 2)])
    await store.close()
    const db = new Database(path, { readonly: true })
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2)
    expect(db.prepare("SELECT type FROM pragma_table_info('events') WHERE name = 'captured_at'").pluck().get()).toBe('REAL')
    expect(db.prepare("SELECT value FROM counters WHERE name = 'events'").pluck().get()).toBe(2)
    db.close()
  })
})

describe('SqliteStore.prepareEvents', () => {
  it('stores a batch converted ahead of its storeEvents exactly as one converted inside it', async () => {
    const a = SqliteStore.open({ path: freshPath() })
    const b = SqliteStore.open({ path: freshPath() })
    const batch = [record(RING_A, 0, 1000, { type: 'call', module: 'M', function: 'f', arity: 1, data: { k: 1 } }), record(RING_A, 1, 1001, { type: 'return' })]
    a.prepareEvents(batch)
    expect(await a.storeEvents(batch)).toEqual({ inserted: 2, duplicates: 0 })
    expect(await b.storeEvents(batch)).toEqual({ inserted: 2, duplicates: 0 })
    expect((await a.query({ order: 'asc' })).map((r) => r.event)).toEqual((await b.query({ order: 'asc' })).map((r) => r.event))
    await a.close()
    await b.close()
  })

  it('never throws for a batch it cannot convert, and storeEvents still refuses that batch', async () => {
    const store = SqliteStore.open({ path: freshPath() })
    const bad = [{ key: 'x', ringId: RING_A, seq: -1, capturedAt: Number.NaN, event: {} }] as unknown as EventRecord[]
    expect(() => store.prepareEvents(bad)).not.toThrow()
    await expect(store.storeEvents(bad)).rejects.toMatchObject({ code: 'invalid_record' })
    await store.close()
  })
})

describe('SqliteStore migration to schema 3', () => {
  it('migrates a version-2 file with events, keeping every event readable and queryable by every field', async () => {
    const path = freshPath()
    const raw = createV2File(path)
    raw.prepare('INSERT INTO rings (ring_no, ring_id) VALUES (1, ?), (2, ?)').run(RING_A, RING_B)
    const ins = raw.prepare(
      `INSERT INTO events (ring_no, seq, captured_at, type, pid, module, function, arity, correlation_id, ast_node_id, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const written: EventRecord[] = []
    for (let i = 0; i < 20; i++) {
      const ringId = i % 2 === 0 ? RING_A : RING_B
      const r = record(ringId, i, 100 + i, { pid: `<0.${i % 3}.0>`, module: 'M', function: `f${i % 2}`, arity: i % 2, astNodeId: `n_${i % 4}`, correlationId: i < 10 ? `${ringId}:${i}` : 'shared', data: { i } })
      written.push(r)
      const e = r.event as Record<string, string | number>
      ins.run(i % 2 === 0 ? 1 : 2, i, r.capturedAt, e.type, e.pid, e.module, e.function, e.arity, e.correlationId, e.astNodeId, JSON.stringify(e))
    }
    raw.prepare("UPDATE counters SET value = 20 WHERE name = 'events'").run()
    raw.close()

    const store = SqliteStore.open({ path })
    expect(await store.stats()).toMatchObject({ totalEvents: 20, oldestCapturedAt: 100, newestCapturedAt: 119 })
    for (const r of written) expect(asJson((await store.getEvent(r.key))?.event ?? {})).toBe(asJson(r.event))
    const keys = async (f: Parameters<SqliteStore['query']>[0]): Promise<number[]> => (await store.query({ ...f, order: 'asc' })).map((r) => r.seq)
    expect(await keys({ pid: '<0.1.0>' })).toEqual([1, 4, 7, 10, 13, 16, 19])
    expect(await keys({ module: 'M', function: 'f1', arity: 1, since: 110 })).toEqual([11, 13, 15, 17, 19])
    expect(await keys({ astNodeId: 'n_2' })).toEqual([2, 6, 10, 14, 18])
    expect(await keys({ correlationId: 'shared', limit: 3 })).toEqual([10, 11, 12])
    expect(await keys({ correlationId: `${RING_B}:3` })).toEqual([3])
    expect(await store.countByRing(RING_A)).toEqual({ events: 10, deadLetters: 0, prunedEvents: 0, prunedDeadLetters: 0 })
    // New events beside the migrated ones: the old rows are duplicates still.
    expect(await store.storeEvents([written[0] as EventRecord, record(RING_A, 20, 120, { pid: '<0.1.0>' })])).toEqual({ inserted: 1, duplicates: 1 })
    expect(await keys({ pid: '<0.1.0>', since: 118 })).toEqual([19, 20])
    expect(await store.deleteOlderThan(105)).toBe(5)
    expect((await store.stats()).totalEvents).toBe(16)
    // What was deleted is counted per ring as pruned, not lost: ring A had seqs 0, 2 and 4 of the five.
    expect(await store.countByRing(RING_A)).toMatchObject({ prunedEvents: 3 })
    await store.close()
    const check = new Database(path, { readonly: true })
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    check.close()
  })

  it('refuses to open a version-2 file read-only, since reading it needs the migration', async () => {
    const path = freshPath()
    createV2File(path).close()
    expect(() => SqliteStore.open({ path, readOnly: true })).toThrow(expect.objectContaining({ code: 'open_failed' }))
  })
})
