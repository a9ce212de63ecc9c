// The PostgreSQL adapter against a real server started for this file: the contract suite with a
// fresh schema per store, then what only PostgreSQL has: durability across reopen, migrations,
// several stores writing interleaved batches at once, and typed transient connection errors.

import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventRecord, EventStore } from '../src/index.js'
import { PostgresStore, POSTGRES_SCHEMA_VERSION, resolvePostgresOptions, type PostgresStoreOptions } from '../src/postgres/index.js'
import { migrationSql } from '../src/postgres/schema.js'
import { StoreOpenError, StoreSpecError } from '../src/index.js'
import { runStoreContract } from './contract.js'
import { RING_A, RING_B, record, ringIdOf, run } from './fixtures/records.js'
import { freshSchema, startPgServer, type PgServer } from '../src/testing/pg-server.js'

let server: PgServer
beforeAll(async () => {
  server = await startPgServer()
}, 300_000)
afterAll(async () => {
  await server?.stop()
}, 60_000)

const open = (o: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> => PostgresStore.open({ url: server.url, schema: freshSchema(), ...o })

runStoreContract('postgres', () => open(), { propertyRuns: 20 })

describe('resolvePostgresOptions', () => {
  const url = 'postgres://u:secret@127.0.0.1:5432/db'
  it('applies the documented defaults', () => {
    expect(resolvePostgresOptions({ url })).toEqual({ url, schema: 'ringside', poolSize: 2, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
  })

  it.each<[string, Record<string, unknown>]>([
    ['url', {}],
    ['url', { url: 'mysql://x' }],
    ['url', { url: 42 }],
    ['schema', { url, schema: 'Bad-Name' }],
    ['schema', { url, schema: 'x"; DROP TABLE y; --' }],
    ['poolSize', { url, poolSize: 0 }],
    ['poolSize', { url, poolSize: 2.5 }],
    ['statementTimeoutMs', { url, statementTimeoutMs: -1 }],
    ['connectTimeoutMs', { url, connectTimeoutMs: '5s' }],
    ['max', { url, max: 4 }],
  ])('refuses a bad %s with a StoreSpecError naming it', (field, spec) => {
    const err = (() => {
      try {
        resolvePostgresOptions(spec)
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(err).toBeInstanceOf(StoreSpecError)
    expect(err).toMatchObject({ code: 'invalid_spec', field })
    expect(String((err as Error).message)).not.toContain('secret')
  })
})

describe('PostgresStore.open', () => {
  it('keeps every event and dead letter across close and reopen', async () => {
    const schema = freshSchema()
    const first = await open({ schema })
    await first.storeEvents(run(RING_A, 0, 50))
    await first.storeDeadLetters([{ record: record(RING_B, 1, 5), error: 'boom', attempts: 2 }])
    await first.close()
    const second = await open({ schema })
    expect(await second.stats()).toMatchObject({ totalEvents: 50, oldestCapturedAt: 1_000, newestCapturedAt: 1_049, deadLetters: 1 })
    expect(await second.getEvent(`${RING_A}:49`)).toEqual(run(RING_A, 49, 1)[0])
    expect(await second.storeEvents(run(RING_A, 45, 10))).toEqual({ inserted: 5, duplicates: 5 })
    expect(await second.countByRing(RING_A)).toEqual({ events: 55, deadLetters: 0, prunedEvents: 0, prunedDeadLetters: 0 })
    expect(await second.countByRing(RING_B)).toEqual({ events: 0, deadLetters: 1, prunedEvents: 0, prunedDeadLetters: 0 })
    await second.close()
  })

  it('migrates a version-1 schema, keeping its events', async () => {
    const schema = freshSchema()
    const raw = new pg.Client({ connectionString: server.url })
    await raw.connect()
    await raw.query(`CREATE SCHEMA "${schema}"`)
    await raw.query(migrationSql(0, schema))
    await raw.query(`CREATE TABLE "${schema}".schema_version (version integer NOT NULL); INSERT INTO "${schema}".schema_version VALUES (1)`)
    for (let i = 0; i < 5; i++) {
      await raw.query(`INSERT INTO "${schema}".events (ring_id, seq, captured_at, type, pid, body) VALUES ($1, $2, $3, 'call', '<0.1.0>', $4)`, [
        RING_A, i, 100 + i, JSON.stringify({ type: 'call', pid: '<0.1.0>', i }),
      ])
    }
    const store = await open({ schema })
    expect(await store.stats()).toMatchObject({ totalEvents: 5, oldestCapturedAt: 100, newestCapturedAt: 104, deadLetters: 0 })
    expect((await store.query({ pid: '<0.1.0>', since: 103 })).map((r) => r.event.i)).toEqual([3, 4])
    expect(await store.storeEvents([record(RING_A, 4, 104), record(RING_A, 5, 105)])).toEqual({ inserted: 1, duplicates: 1 })
    expect((await store.storeDeadLetters([{ record: record(RING_A, 9, 9), error: 'e', attempts: 1 }])).inserted).toBe(1)
    await store.close()
    const v = await raw.query(`SELECT version FROM "${schema}".schema_version`)
    expect(v.rows).toEqual([{ version: POSTGRES_SCHEMA_VERSION }])
    await raw.end()
  })

  it('refuses a schema whose version is newer than this code', async () => {
    const schema = freshSchema()
    const raw = new pg.Client({ connectionString: server.url })
    await raw.connect()
    await raw.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".schema_version (version integer NOT NULL); INSERT INTO "${schema}".schema_version VALUES (${POSTGRES_SCHEMA_VERSION + 1})`)
    await raw.end()
    await expect(open({ schema })).rejects.toMatchObject({ code: 'schema_too_new', transient: false })
  })

  it('migrates once when several stores open one new schema at the same time', async () => {
    const schema = freshSchema()
    const stores = await Promise.all([1, 2, 3, 4].map(() => open({ schema })))
    expect(await (stores[0] as EventStore).storeEvents(run(RING_A, 0, 3))).toEqual({ inserted: 3, duplicates: 0 })
    for (const s of stores) expect((await s.stats()).totalEvents).toBe(3)
    await Promise.all(stores.map((s) => s.close()))
  })
})

describe('PostgresStore with several stores at once', () => {
  it('loses nothing and duplicates nothing when three stores write interleaved, overlapping batches', async () => {
    const schema = freshSchema()
    const shared = ringIdOf('cc')
    // As in the SQLite test: every batch is written twice, by two stores at once; the batches are
    // reversed in one store so overlapping transactions take their keys in opposite orders.
    const batches: EventRecord[][] = Array.from({ length: 60 }, (_, b) => run(shared, b * 50, 50))
    const plans = [0, 1, 2].map((t) => {
      const mine: EventRecord[][] = []
      for (let b = t; b < 60; b += 3) {
        mine.push(batches[b] as EventRecord[])
        mine.push(t === 1 ? [...(batches[(b + 1) % 60] as EventRecord[])].reverse() : (batches[(b + 1) % 60] as EventRecord[]))
      }
      mine.push(run(ringIdOf(`d${t}`), 0, 100))
      return mine
    })
    const stores = await Promise.all(plans.map(() => open({ schema })))
    const results = await Promise.all(
      plans.map(async (p, t) => {
        const out = { inserted: 0, duplicates: 0 }
        for (const batch of p) {
          const r = await (stores[t] as PostgresStore).storeEvents(batch)
          out.inserted += r.inserted
          out.duplicates += r.duplicates
        }
        return out
      }),
    )
    const sum = results.reduce((a, r) => ({ inserted: a.inserted + r.inserted, duplicates: a.duplicates + r.duplicates }), { inserted: 0, duplicates: 0 })
    expect(sum).toEqual({ inserted: 3_300, duplicates: 3_000 })
    const store = stores[0] as PostgresStore
    expect((await store.stats()).totalEvents).toBe(3_300)
    const sharedSeqs = (await store.query({ since: 0 })).filter((r) => r.ringId === shared).map((r) => r.seq).sort((a, b) => a - b)
    expect(sharedSeqs).toEqual(Array.from({ length: 3_000 }, (_, i) => i))
    await Promise.all(stores.map((s) => s.close()))
  })

  it('stores a batch larger than 65535 parameters would allow in one statement', async () => {
    const store = await open()
    expect(await store.storeEvents(run(RING_A, 0, 20_000))).toEqual({ inserted: 20_000, duplicates: 0 })
    expect(await store.storeEvents(run(RING_A, 19_990, 20))).toEqual({ inserted: 10, duplicates: 10 })
    await store.close()
  })

  it('answers filtered queries from the indexes', async () => {
    const store = await open()
    for (let b = 0; b < 5; b++) await store.storeEvents(run(RING_A, b * 2_000, 2_000))
    const raw = new pg.Client({ connectionString: server.url })
    await raw.connect()
    await raw.query(`ANALYZE "${store.options.schema}".events`)
    await raw.end()
    expect((await store.explainQuery({ pid: '<0.1.0>', since: 5_000, until: 5_100 })).join('\n')).toMatch(/events_pid/)
    expect((await store.explainQuery({ since: 5_000, until: 5_100 })).join('\n')).toMatch(/events_captured_at/)
    expect(await store.query({ since: 5_000, until: 5_100 })).toHaveLength(101)
    await store.close()
  })
})

describe('PostgresStore connection errors', () => {
  it('reports a server that is not there as a transient StoreOpenError, without the password', async () => {
    const err = await PostgresStore.open({ url: 'postgres://u:secret@127.0.0.1:1/db', connectTimeoutMs: 2_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreOpenError)
    expect(err).toMatchObject({ code: 'open_failed', transient: true })
    expect((err as Error).message).not.toContain('secret')
  })

  // Needs a server of its own to stop, so it cannot run against RINGSIDE_PG_URL.
  it.skipIf(process.env.RINGSIDE_PG_URL)('reports a server that went away as a transient error', async () => {
    const own = await startPgServer()
    const store = await PostgresStore.open({ url: own.url, schema: freshSchema(), connectTimeoutMs: 2_000 })
    expect(await store.storeEvents(run(RING_A, 0, 3))).toEqual({ inserted: 3, duplicates: 0 })
    expect(await store.health()).toMatchObject({ status: 'healthy', reason: expect.stringMatching(/answers/) })
    await own.stop()
    const err = await store.storeEvents(run(RING_A, 3, 3)).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'io_error', transient: true })
    await expect(store.query()).rejects.toMatchObject({ transient: true })
    expect(await store.health()).toMatchObject({ status: 'unhealthy', reason: expect.stringMatching(/does not answer/) })
    await store.close()
    expect(await store.health()).toMatchObject({ status: 'unhealthy', reason: expect.stringMatching(/closed/) })
  }, 120_000)
})
