// The EventStore contract suite. Every adapter runs it (memory, SQLite, the remote pair, and later
// PostgreSQL and NATS JetStream): `runStoreContract('sqlite', () => createStore(spec), { badSpecs })`.
// Each test gets a fresh, empty store from `makeStore` and closes it afterwards.

import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  StoreError,
  StoreFilterError,
  StoreRecordError,
  StoreSpecError,
  createStore,
  type EventRecord,
  type EventStore,
  type QueryFilter,
} from '../src/index.js'
import { RING_A, RING_B, record, ringIdOf, run } from './fixtures/records.js'

/** A spec the adapter must refuse, and the field the StoreSpecError must name. */
export interface BadSpec {
  readonly spec: unknown
  readonly field: string
  readonly code?: string
}

export interface ContractOptions {
  /** Specs of this adapter that `createStore` must refuse. */
  readonly badSpecs?: readonly BadSpec[]
  /** fast-check runs of the query-equals-oracle property. Defaults to 30. */
  readonly propertyRuns?: number
}

const keys = (records: readonly EventRecord[]): string[] => records.map((r) => r.key)

/** A fixed data set with hand-checkable answers: 24 events over two rings. */
function dataset(): EventRecord[] {
  const out: EventRecord[] = []
  for (let i = 0; i < 24; i++) {
    const ring = i % 2 === 0 ? RING_A : RING_B
    out.push(
      record(ring, i, 1_000 + i * 10, {
        type: ['call', 'return', 'state'][i % 3],
        pid: `<0.${i % 4}.0>`,
        module: i % 2 === 0 ? 'Shop.Cart' : 'Shop.Order',
        function: i % 4 < 2 ? 'add' : 'remove',
        arity: i % 3,
        correlationId: `c-${Math.floor(i / 3)}`,
        astNodeId: `node-${i % 5}`,
      }),
    )
  }
  return out
}

/** The reference answer: what every adapter must return for a filter. */
export function oracle(records: readonly EventRecord[], f: QueryFilter): EventRecord[] {
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
  const found = records.filter((r) => {
    const e = r.event
    const arity = typeof e.arity === 'number' && Number.isInteger(e.arity) ? e.arity : undefined
    return (
      (f.pid === undefined || str(e.pid) === f.pid) &&
      (f.type === undefined || str(e.type) === f.type) &&
      (f.correlationId === undefined || str(e.correlationId) === f.correlationId) &&
      (f.astNodeId === undefined || str(e.astNodeId) === f.astNodeId) &&
      (f.module === undefined || str(e.module) === f.module) &&
      (f.function === undefined || str(e.function) === f.function) &&
      (f.arity === undefined || arity === f.arity) &&
      (f.since === undefined || r.capturedAt >= f.since) &&
      (f.until === undefined || r.capturedAt <= f.until)
    )
  })
  const cmp = (a: EventRecord, b: EventRecord): number =>
    a.capturedAt - b.capturedAt || (a.ringId < b.ringId ? -1 : a.ringId > b.ringId ? 1 : 0) || a.seq - b.seq
  found.sort(f.order === 'desc' ? (a, b) => cmp(b, a) : cmp)
  return f.limit === undefined ? found : found.slice(0, f.limit)
}

/** Registers the contract tests for one adapter. */
export function runStoreContract(name: string, makeStore: () => Promise<EventStore>, options: ContractOptions = {}): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore
    beforeEach(async () => {
      store = await makeStore()
    })
    afterEach(async () => {
      await store.close()
    })

    describe('storeEvents', () => {
      it('stores a new batch and counts every record as inserted', async () => {
        expect(await store.storeEvents(run(RING_A, 0, 10))).toEqual({ inserted: 10, duplicates: 0 })
        expect((await store.stats()).totalEvents).toBe(10)
      })

      it('stores a batch written twice only once', async () => {
        const batch = run(RING_A, 0, 10)
        await store.storeEvents(batch)
        expect(await store.storeEvents(batch)).toEqual({ inserted: 0, duplicates: 10 })
        expect((await store.stats()).totalEvents).toBe(10)
        expect(await store.query()).toHaveLength(10)
      })

      it('counts only the new records of an overlapping batch', async () => {
        await store.storeEvents(run(RING_A, 0, 5))
        expect(await store.storeEvents(run(RING_A, 3, 5))).toEqual({ inserted: 3, duplicates: 2 })
        expect(keys(await store.query())).toEqual(keys(run(RING_A, 0, 8)))
      })

      it('stores a key repeated inside one batch once', async () => {
        const r = record(RING_A, 7, 5_000)
        expect(await store.storeEvents([r, r, record(RING_A, 8, 5_001)])).toEqual({ inserted: 2, duplicates: 1 })
        expect((await store.stats()).totalEvents).toBe(2)
      })

      it('keeps the first copy of a key and ignores a later different body', async () => {
        await store.storeEvents([record(RING_A, 1, 1_000, { pid: 'first' })])
        await store.storeEvents([record(RING_A, 1, 1_000, { pid: 'second' })])
        expect((await store.getEvent(`${RING_A}:1`))?.event.pid).toBe('first')
      })

      it('treats the same seq in two rings as two events', async () => {
        expect(await store.storeEvents([record(RING_A, 1, 1_000), record(RING_B, 1, 1_000)])).toEqual({ inserted: 2, duplicates: 0 })
      })

      it('accepts an empty batch and stores nothing', async () => {
        expect(await store.storeEvents([])).toEqual({ inserted: 0, duplicates: 0 })
        expect((await store.stats()).totalEvents).toBe(0)
      })

      it('refuses a batch with a malformed record, naming its index and field, and stores none of it', async () => {
        const bad = { ...record(RING_A, 2, 1_002), key: 'wrong' }
        const err = await store.storeEvents([record(RING_A, 1, 1_001), bad]).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(StoreRecordError)
        expect(err).toMatchObject({ code: 'invalid_record', index: 1, field: 'key', transient: false })
        expect((await store.stats()).totalEvents).toBe(0)
      })

      it.each([
        ['seq', { seq: -1 }],
        ['seq', { seq: 1.5 }],
        ['capturedAt', { capturedAt: Number.NaN }],
        ['ringId', { ringId: '' }],
        ['event', { event: null }],
      ])('refuses a record whose %s is wrong', async (field, patch) => {
        const r = { ...record(RING_A, 1, 1_000), ...patch }
        await expect(store.storeEvents([r as EventRecord])).rejects.toMatchObject({ code: 'invalid_record', index: 0, field })
      })

      it('refuses an event that cannot be written as JSON', async () => {
        const r = record(RING_A, 1, 1_000, { big: 10n })
        await expect(store.storeEvents([r])).rejects.toMatchObject({ code: 'invalid_record', index: 0, field: 'event' })
      })
    })

    describe('getEvent', () => {
      it('returns the full body with the enrichment fields a writer adds', async () => {
        const r = record(RING_A, 3, 1_234.5, { pid: '<0.9.0>', nested: { a: [1, 'x', null] } })
        await store.storeEvents([r])
        const got = await store.getEvent(r.key)
        expect(got).toEqual(r)
        expect(got?.event).toMatchObject({ writerId: 'writer-1', enrichedAt: 1_235, processingOrder: 3, correlationId: 'corr-3' })
      })

      it('returns undefined for an unknown or malformed key', async () => {
        await store.storeEvents(run(RING_A, 0, 3))
        expect(await store.getEvent(`${RING_A}:99`)).toBeUndefined()
        expect(await store.getEvent(`${RING_B}:0`)).toBeUndefined()
        expect(await store.getEvent('no-colon')).toBeUndefined()
      })

      it('refuses a key that is not a string, naming it', async () => {
        await expect(store.getEvent(42 as unknown as string)).rejects.toMatchObject({ code: 'invalid_filter', field: 'key' })
      })

      it('keeps its own copy: changing the event after storing it changes nothing', async () => {
        const r = record(RING_A, 1, 1_000)
        await store.storeEvents([r])
        ;(r.event as Record<string, unknown>).type = 'mutated'
        expect((await store.getEvent(r.key))?.event.type).toBe('call')
      })
    })

    describe('query', () => {
      const data = dataset()
      beforeEach(async () => {
        await store.storeEvents(data)
      })

      it('returns everything oldest first without a filter', async () => {
        expect(keys(await store.query())).toEqual(keys(data))
        expect(keys(await store.query({}))).toEqual(keys(data))
      })

      it.each<[string, QueryFilter, number]>([
        ['pid', { pid: '<0.1.0>' }, 6],
        ['type', { type: 'return' }, 8],
        ['correlationId', { correlationId: 'c-2' }, 3],
        ['astNodeId', { astNodeId: 'node-4' }, 4],
        ['module', { module: 'Shop.Order' }, 12],
        ['function', { function: 'remove' }, 12],
        ['arity', { arity: 0 }, 8],
        ['since', { since: 1_200 }, 4],
        ['until', { until: 1_020 }, 3],
      ])('filters by %s alone', async (_name, filter, count) => {
        const got = await store.query(filter)
        expect(got).toHaveLength(count)
        expect(keys(got)).toEqual(keys(oracle(data, filter)))
      })

      it('includes both ends of a time range', async () => {
        expect(keys(await store.query({ since: 1_050, until: 1_070 }))).toEqual([`${RING_B}:5`, `${RING_A}:6`, `${RING_B}:7`])
        expect(keys(await store.query({ since: 1_050, until: 1_050 }))).toEqual([`${RING_B}:5`])
        expect(await store.query({ since: 1_051, until: 1_059 })).toEqual([])
      })

      it.each<[string, QueryFilter]>([
        ['pid, type and a time range', { pid: '<0.0.0>', type: 'call', since: 1_000, until: 1_200 }],
        ['module, function and arity', { module: 'Shop.Cart', function: 'add', arity: 0 }],
        ['correlation id, descending, limited', { correlationId: 'c-4', order: 'desc', limit: 2 }],
        ['ast node and pid', { astNodeId: 'node-1', pid: '<0.2.0>' }],
        ['every field at once', { pid: '<0.0.0>', type: 'call', module: 'Shop.Cart', function: 'add', arity: 0, correlationId: 'c-0', astNodeId: 'node-0', since: 1_000, until: 1_000 }],
      ])('combines %s', async (_name, filter) => {
        const expected = oracle(data, filter)
        expect(expected.length).toBeGreaterThan(0)
        expect(keys(await store.query(filter))).toEqual(keys(expected))
      })

      it('returns nothing when the combined fields match no event', async () => {
        expect(await store.query({ module: 'Shop.Cart', function: 'add', arity: 1, type: 'nope' })).toEqual([])
      })

      it('limits to the first events in the requested order', async () => {
        expect(keys(await store.query({ limit: 3 }))).toEqual(keys(data.slice(0, 3)))
        expect(keys(await store.query({ limit: 3, order: 'desc' }))).toEqual(keys(data.slice(-3).reverse()))
        expect(await store.query({ limit: 0 })).toEqual([])
      })

      it('orders descending as the exact reverse of ascending', async () => {
        expect(keys(await store.query({ order: 'desc' }))).toEqual(keys(data).reverse())
        expect(keys(await store.query({ order: 'asc' }))).toEqual(keys(data))
      })

      it('breaks capture-time ties by ring id, then seq', async () => {
        const ties = [record(RING_B, 100, 9_000), record(RING_A, 101, 9_000), record(RING_A, 100, 9_000)]
        await store.storeEvents(ties)
        expect(keys(await store.query({ since: 9_000 }))).toEqual([`${RING_A}:100`, `${RING_A}:101`, `${RING_B}:100`])
        expect(keys(await store.query({ since: 9_000, order: 'desc' }))).toEqual([`${RING_B}:100`, `${RING_A}:101`, `${RING_A}:100`])
      })

      it('keeps that order when many events share capture times, whatever the filter, order and limit', async () => {
        // Four capture times over three rings, written in an order that is neither ring-id nor seq
        // order, so neither the insertion order nor any index order happens to be the answer.
        const rings = [ringIdOf('cc'), RING_B, ringIdOf('0f'), RING_A]
        const ties: EventRecord[] = []
        for (let i = 0; i < 60; i++) {
          const j = (i * 37) % 60
          ties.push(record(rings[j % 4] as string, 300 + j, 9_000 + ((j * 7) % 4), { pid: `<0.${j % 2}.0>` }))
        }
        for (let i = 0; i < ties.length; i += 15) await store.storeEvents(ties.slice(i, i + 15))
        const all = [...data, ...ties]
        const filterArb = fc.record(
          {
            pid: fc.constantFrom('<0.0.0>', '<0.1.0>'),
            since: fc.integer({ min: 8_999, max: 9_004 }),
            until: fc.integer({ min: 8_999, max: 9_004 }),
            limit: fc.integer({ min: 0, max: 40 }),
            order: fc.constantFrom('asc' as const, 'desc' as const),
          },
          { requiredKeys: ['since'] },
        )
        await fc.assert(
          fc.asyncProperty(filterArb, async (filter) => {
            expect(keys(await store.query(filter))).toEqual(keys(oracle(all, filter)))
          }),
          { numRuns: options.propertyRuns ?? 30 },
        )
      })

      it('treats an indexed field of the wrong type as absent', async () => {
        await store.storeEvents([record(RING_A, 200, 8_000, { arity: '2', pid: 42, type: null, module: 'Weird', function: 'f' })])
        expect(await store.query({ module: 'Weird', arity: 2 })).toEqual([])
        expect(await store.query({ pid: '42' })).toEqual([])
        expect(keys(await store.query({ module: 'Weird' }))).toEqual([`${RING_A}:200`])
        await store.storeEvents([record(RING_A, 201, 8_001, { arity: 2.5, module: 'Weird' })])
        expect(await store.query({ module: 'Weird', arity: 2 })).toEqual([])
      })

      it('returns the enrichment fields in every result', async () => {
        for (const r of await store.query({ pid: '<0.3.0>' })) {
          expect(r.event).toHaveProperty('writerId', 'writer-1')
          expect(r.event).toHaveProperty('processingOrder', r.seq)
          expect(r.event).toHaveProperty('enrichedAt', r.capturedAt + 0.5)
        }
      })

      it.each<[string, unknown]>([
        ['pid', { pid: 42 }],
        ['type', { type: ['call'] }],
        ['since', { since: '2024-01-01' }],
        ['until', { until: Number.POSITIVE_INFINITY }],
        ['arity', { arity: 1.5 }],
        ['arity', { arity: -1 }],
        ['limit', { limit: -1 }],
        ['order', { order: 'newest' }],
        ['pids', { pids: 'x' }],
        ['filter', 'pid=1'],
      ])('refuses a filter whose %s is wrong, naming it', async (field, filter) => {
        const err = await store.query(filter as QueryFilter).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(StoreFilterError)
        expect(err).toMatchObject({ code: 'invalid_filter', field })
      })

      it('answers random filters exactly as the reference does', async () => {
        const filterArb = fc.record(
          {
            pid: fc.constantFrom('<0.0.0>', '<0.1.0>', '<0.9.0>'),
            type: fc.constantFrom('call', 'return', 'state'),
            since: fc.integer({ min: 990, max: 1_240 }),
            until: fc.integer({ min: 990, max: 1_240 }),
            correlationId: fc.constantFrom('c-0', 'c-3', 'c-7'),
            astNodeId: fc.constantFrom('node-0', 'node-3'),
            module: fc.constantFrom('Shop.Cart', 'Shop.Order'),
            function: fc.constantFrom('add', 'remove'),
            arity: fc.integer({ min: 0, max: 3 }),
            limit: fc.integer({ min: 0, max: 30 }),
            order: fc.constantFrom('asc' as const, 'desc' as const),
          },
          { requiredKeys: [] },
        )
        await fc.assert(
          fc.asyncProperty(filterArb, async (filter) => {
            expect(keys(await store.query(filter))).toEqual(keys(oracle(data, filter)))
          }),
          { numRuns: options.propertyRuns ?? 30 },
        )
      })
    })

    describe('stats', () => {
      it('reports an empty store without capture times', async () => {
        const s = await store.stats()
        expect(s.totalEvents).toBe(0)
        expect(s.deadLetters).toBe(0)
        expect('oldestCapturedAt' in s).toBe(false)
        expect('newestCapturedAt' in s).toBe(false)
        expect(s.sizeBytes).toBeGreaterThanOrEqual(0)
      })

      it('reports the count, the oldest and newest capture time and a size after writes', async () => {
        await store.storeEvents([record(RING_A, 1, 2_000.25), record(RING_A, 2, 1_000.5), record(RING_B, 1, 3_000.75)])
        const s = await store.stats()
        expect(s).toMatchObject({ totalEvents: 3, oldestCapturedAt: 1_000.5, newestCapturedAt: 3_000.75, deadLetters: 0 })
        expect(s.sizeBytes).toBeGreaterThan(0)
      })
    })

    describe('deleteOlderThan', () => {
      beforeEach(async () => {
        await store.storeEvents([record(RING_A, 1, 1_000), record(RING_A, 2, 2_000), record(RING_A, 3, 3_000)])
      })

      it('removes only events strictly older than the time and says how many', async () => {
        expect(await store.deleteOlderThan(2_000)).toBe(1)
        expect(keys(await store.query())).toEqual([`${RING_A}:2`, `${RING_A}:3`])
        expect(await store.getEvent(`${RING_A}:1`)).toBeUndefined()
        expect(await store.stats()).toMatchObject({ totalEvents: 2, oldestCapturedAt: 2_000, newestCapturedAt: 3_000 })
      })

      it('returns 0 when nothing is older, and empties the store past the newest', async () => {
        expect(await store.deleteOlderThan(1_000)).toBe(0)
        expect(await store.deleteOlderThan(3_000.001)).toBe(3)
        const s = await store.stats()
        expect(s.totalEvents).toBe(0)
        expect('oldestCapturedAt' in s).toBe(false)
      })

      it('lets a removed key be stored again', async () => {
        await store.deleteOlderThan(1_500)
        expect(await store.storeEvents([record(RING_A, 1, 1_000)])).toEqual({ inserted: 1, duplicates: 0 })
      })

      it('refuses a time that is not a finite number', async () => {
        await expect(store.deleteOlderThan('yesterday' as unknown as number)).rejects.toMatchObject({ code: 'invalid_filter', field: 'time' })
        expect((await store.stats()).totalEvents).toBe(3)
      })
    })

    describe('dead letters', () => {
      it('keeps an event with its error, attempts and reason, and lists it with a storedAt time', async () => {
        const before = Date.now()
        const r = record(RING_A, 5, 1_500, { pid: '<0.5.0>' })
        expect(await store.storeDeadLetters([{ record: r, error: 'SQLITE_FULL', attempts: 3, reason: 'retries_exhausted' }])).toEqual({
          inserted: 1,
          duplicates: 0,
        })
        const [d, ...rest] = await store.listDeadLetters()
        expect(rest).toEqual([])
        expect(d).toMatchObject({ record: r, error: 'SQLITE_FULL', attempts: 3, reason: 'retries_exhausted' })
        expect(d?.storedAt).toBeGreaterThanOrEqual(before)
        expect(d?.storedAt).toBeLessThanOrEqual(Date.now())
        expect((await store.stats()).deadLetters).toBe(1)
        // A dead letter is not a stored event.
        expect((await store.stats()).totalEvents).toBe(0)
      })

      it('leaves reason out when none was given', async () => {
        await store.storeDeadLetters([{ record: record(RING_A, 1, 1), error: 'boom', attempts: 1 }])
        const [d] = await store.listDeadLetters()
        expect(d).toBeDefined()
        expect('reason' in (d as object)).toBe(false)
      })

      it('is idempotent on the record key', async () => {
        const item = { record: record(RING_A, 5, 1_500), error: 'x', attempts: 1 }
        await store.storeDeadLetters([item])
        expect(await store.storeDeadLetters([item, { ...item, record: record(RING_A, 6, 1_600) }])).toEqual({ inserted: 1, duplicates: 1 })
        expect(await store.listDeadLetters()).toHaveLength(2)
      })

      it('lists oldest first and honours the limit', async () => {
        await store.storeDeadLetters([{ record: record(RING_A, 1, 1), error: 'a', attempts: 1 }])
        await store.storeDeadLetters([{ record: record(RING_A, 2, 2), error: 'b', attempts: 2 }])
        await store.storeDeadLetters([{ record: record(RING_A, 3, 3), error: 'c', attempts: 3 }])
        expect((await store.listDeadLetters()).map((d) => d.error)).toEqual(['a', 'b', 'c'])
        expect((await store.listDeadLetters({ limit: 2 })).map((d) => d.error)).toEqual(['a', 'b'])
        expect(await store.listDeadLetters({ limit: 0 })).toEqual([])
      })

      it('keeps an event that cannot be written as JSON, as best it can', async () => {
        const r = record(RING_A, 9, 1_900, { big: 10n })
        expect((await store.storeDeadLetters([{ record: r, error: 'not serializable', attempts: 1 }])).inserted).toBe(1)
        const [d] = await store.listDeadLetters()
        expect(d?.record.key).toBe(r.key)
        expect(d?.record.event.big).toBe('10n')
      })

      it('refuses a malformed dead letter, naming its field', async () => {
        const good = { record: record(RING_A, 1, 1), error: 'x', attempts: 1 }
        await expect(store.storeDeadLetters([good, { ...good, attempts: -1 }])).rejects.toMatchObject({ code: 'invalid_record', index: 1, field: 'attempts' })
        await expect(store.storeDeadLetters([{ ...good, error: 7 } as never])).rejects.toMatchObject({ field: 'error' })
        await expect(store.listDeadLetters({ limit: 'all' } as never)).rejects.toMatchObject({ code: 'invalid_filter', field: 'limit' })
        expect(await store.listDeadLetters()).toEqual([])
      })
    })

    describe('close', () => {
      it('makes later calls fail with store_closed, and closing twice is harmless', async () => {
        await store.close()
        await store.close()
        const err = await store.storeEvents(run(RING_A, 0, 1)).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(StoreError)
        expect(err).toMatchObject({ code: 'store_closed', transient: false })
        await expect(store.query()).rejects.toMatchObject({ code: 'store_closed' })
        await expect(store.stats()).rejects.toMatchObject({ code: 'store_closed' })
      })
    })

    const badSpecs = options.badSpecs ?? []
    if (badSpecs.length > 0) {
      describe('createStore with a bad spec', () => {
        it.each(badSpecs.map((b) => [b.field, b] as const))('names the field %s', async (_field, bad) => {
          const err = await createStore(bad.spec as never).catch((e: unknown) => e)
          expect(err).toBeInstanceOf(StoreSpecError)
          expect(err).toMatchObject({ field: bad.field, code: bad.code ?? 'invalid_spec' })
        })
      })
    }
  })
}
