// Retention of the PostgreSQL store against a real server: age and count limits and the
// dead-letter limit removed in chunks of at most maxRows, the newest events always kept, and a
// byte limit refused at the spec (PostgreSQL does not give a table's space back by itself).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreSpecError, resolvePostgresOptions } from '../src/index.js'
import { PostgresStore, type PostgresStoreOptions } from '../src/postgres/index.js'
import { freshSchema, startPgServer, type PgServer } from '../src/testing/pg-server.js'
import { RING_A, RING_B, record, run } from './fixtures/records.js'

let server: PgServer
beforeAll(async () => {
  server = await startPgServer()
}, 300_000)
afterAll(async () => {
  await server?.stop()
})

const open = (o: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> => PostgresStore.open({ url: server.url, schema: freshSchema(), ...o })

async function drain(store: PostgresStore, maxRows: number): Promise<number[]> {
  const chunks: number[] = []
  for (let i = 0; i < 1000; i++) {
    const r = await store.applyRetention({ maxRows })
    chunks.push(r.events + r.deadLetters)
    if (!r.more) return chunks
  }
  throw new Error('retention never finished')
}

describe('postgres retention option', () => {
  it.each<[string, unknown]>([
    ['retention.maxBytes', { maxBytes: 1 << 20 }],
    ['retention.maxAgeMs', { maxAgeMs: 0 }],
    ['retention', 'forever'],
  ])('refuses %s, naming it', (field, retention) => {
    let err: unknown
    try {
      resolvePostgresOptions({ url: 'postgres://u@localhost/db', retention })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(StoreSpecError)
    expect(err).toMatchObject({ code: 'invalid_spec', field })
  })
})

describe('PostgresStore.applyRetention', () => {
  it('removes events older than maxAgeMs in chunks, keeping every newer one', async () => {
    const store = await open({ retention: { maxAgeMs: 60_000 } })
    try {
      const now = Date.now()
      await store.storeEvents(Array.from({ length: 230 }, (_, i) => record(RING_A, i, now - 3_600_000 + i)))
      await store.storeEvents(Array.from({ length: 40 }, (_, i) => record(RING_A, 230 + i, now - 1_000 + i)))
      const chunks = await drain(store, 100)
      expect(chunks.every((c) => c <= 100)).toBe(true)
      expect(chunks.reduce((a, b) => a + b, 0)).toBe(230)
      const left = await store.query({})
      expect(left.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 230 + i))
    } finally {
      await store.close()
    }
  })

  it('keeps the newest maxEvents events across rings, removing the oldest in chunks', async () => {
    const store = await open({ retention: { maxEvents: 150 } })
    try {
      await store.storeEvents(run(RING_B, 0, 200, 10_000))
      await store.storeEvents(run(RING_A, 0, 200, 1_000))
      const chunks = await drain(store, 64)
      expect(chunks.every((c) => c <= 64)).toBe(true)
      const left = await store.query({})
      expect(left).toHaveLength(150)
      expect(left.every((r) => r.ringId === RING_B && r.seq >= 50)).toBe(true)
      expect((await store.stats()).totalEvents).toBe(150)
      // What was removed is counted per ring, so an accounting can tell it from lost events.
      expect(await store.countByRing(RING_A)).toEqual({ events: 0, deadLetters: 0, prunedEvents: 200, prunedDeadLetters: 0 })
      expect(await store.countByRing(RING_B)).toEqual({ events: 150, deadLetters: 0, prunedEvents: 50, prunedDeadLetters: 0 })
    } finally {
      await store.close()
    }
  })

  it('keeps the newest maxDeadLetters dead letters and leaves events alone', async () => {
    const store = await open({ retention: { maxDeadLetters: 2 } })
    try {
      await store.storeEvents(run(RING_A, 0, 5))
      for (let i = 0; i < 7; i++) {
        await store.storeDeadLetters([{ record: record(RING_B, i, 5_000 + i), error: `e${i}`, attempts: 1 }])
        await new Promise((r) => setTimeout(r, 2))
      }
      const chunks = await drain(store, 3)
      expect(chunks.every((c) => c <= 3)).toBe(true)
      expect((await store.listDeadLetters()).map((d) => d.error)).toEqual(['e5', 'e6'])
      expect((await store.stats()).totalEvents).toBe(5)
      expect(await store.countByRing(RING_B)).toMatchObject({ deadLetters: 2, prunedDeadLetters: 5 })
    } finally {
      await store.close()
    }
  })

  it('removes nothing when no limit is set', async () => {
    const store = await open()
    try {
      await store.storeEvents(run(RING_A, 0, 10))
      expect(await store.applyRetention()).toEqual({ events: 0, deadLetters: 0, vacuumedPages: 0, more: false })
      expect((await store.stats()).totalEvents).toBe(10)
    } finally {
      await store.close()
    }
  })
})
