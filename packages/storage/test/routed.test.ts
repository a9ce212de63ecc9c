// The routed store: the contract suite over a routed store (reads answered by its query route),
// spec validation naming the field path, the split of a batch by route, a failing destination's
// error, and a retry after a partial failure storing each destination's part exactly once.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RoutedStore, RoutedStoreError, StoreRecordError, StoreSpecError, createStore, resolveStoreSpec, type EventStore, type RoutedStoreSpec } from '../src/index.js'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '../src/testing/index.js'
import { runStoreContract } from './contract.js'
import { RING_A, record } from './fixtures/records.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-routed-'))
let n = 0
const freshPath = (): string => join(dir, `routed-${++n}.db`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

runStoreContract(
  'routed',
  () =>
    createStore({
      kind: 'routed',
      routes: [
        { name: 'errors', when: { types: ['exception', 'error'] }, store: { kind: 'memory' } },
        { name: 'all', store: { kind: 'memory' } },
      ],
    }),
  {
    badSpecs: [
      { spec: { kind: 'routed' }, field: 'routes' },
      { spec: { kind: 'routed', routes: [] }, field: 'routes' },
      { spec: { kind: 'routed', routes: [{ name: 'e', when: { types: ['error'] }, store: { kind: 'memory' } }] }, field: 'routes' },
    ],
  },
)

const errorsAndAll = (errors: unknown, all: unknown): RoutedStoreSpec =>
  ({
    kind: 'routed',
    routes: [
      { name: 'errors', when: { types: ['exception', 'error'] }, store: errors },
      { name: 'all', store: all },
    ],
  }) as RoutedStoreSpec

/** Which keys of RING_A a store holds, in order. */
async function keysOf(store: EventStore): Promise<string[]> {
  return (await store.query()).filter((r) => r.ringId === RING_A).map((r) => r.key)
}

describe('resolveStoreSpec (routed)', () => {
  const bad = (spec: unknown, field: string): void => {
    let caught: unknown
    try {
      resolveStoreSpec(spec)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(StoreSpecError)
    expect((caught as StoreSpecError).code).toBe('invalid_spec')
    expect((caught as StoreSpecError).field).toBe(field)
  }
  const all = { name: 'all', store: { kind: 'memory' } }

  it('refuses a spec without routes or with none', () => {
    bad({ kind: 'routed' }, 'routes')
    bad({ kind: 'routed', routes: [] }, 'routes')
    bad({ kind: 'routed', routes: 'all' }, 'routes')
  })

  it('refuses a spec without a catch-all route, so that no event goes unrouted', () => {
    bad({ kind: 'routed', routes: [{ name: 'e', when: { types: ['error'] }, store: { kind: 'memory' } }] }, 'routes')
  })

  it('refuses a route whose store is itself routed', () => {
    bad({ kind: 'routed', routes: [{ name: 'r', store: { kind: 'routed', routes: [all] } }] }, 'routes[0].store.kind')
  })

  it('refuses a name used twice, empty or with other characters', () => {
    bad({ kind: 'routed', routes: [all, { ...all }] }, 'routes[1].name')
    bad({ kind: 'routed', routes: [{ ...all, name: '' }] }, 'routes[0].name')
    bad({ kind: 'routed', routes: [{ ...all, name: 'a b' }] }, 'routes[0].name')
    bad({ kind: 'routed', routes: [{ store: { kind: 'memory' } }] }, 'routes[0].name')
  })

  it("names the destination's own bad field under its route", () => {
    bad({ kind: 'routed', routes: [{ name: 'all', store: { kind: 'sqlite' } }] }, 'routes[0].store.path')
    bad({ kind: 'routed', routes: [{ name: 'all', store: { kind: 'nope' } }] }, 'routes[0].store.kind')
    bad({ kind: 'routed', routes: [{ name: 'all' }] }, 'routes[0].store.spec')
  })

  it('refuses a condition that is not types, nor field and values', () => {
    bad({ kind: 'routed', routes: [all, { name: 'e', when: {}, store: { kind: 'memory' } }] }, 'routes[1].when')
    bad({ kind: 'routed', routes: [all, { name: 'e', when: { types: [] }, store: { kind: 'memory' } }] }, 'routes[1].when.types')
    bad({ kind: 'routed', routes: [all, { name: 'e', when: { types: ['error', 3] }, store: { kind: 'memory' } }] }, 'routes[1].when.types[1]')
    bad({ kind: 'routed', routes: [all, { name: 't', when: { field: 'tenant' }, store: { kind: 'memory' } }] }, 'routes[1].when.values')
    bad({ kind: 'routed', routes: [all, { name: 't', when: { field: 'tenant', values: [{}] }, store: { kind: 'memory' } }] }, 'routes[1].when.values[0]')
    bad({ kind: 'routed', routes: [all, { name: 't', when: { types: ['a'], field: 'x' }, store: { kind: 'memory' } }] }, 'routes[1].when.field')
  })

  it('refuses unknown fields of the spec and of a route', () => {
    bad({ kind: 'routed', routes: [all], route: [] }, 'route')
    bad({ kind: 'routed', routes: [{ ...all, where: {} }] }, 'routes[0].where')
  })

  it('refuses a query route that is unknown or not a catch-all', () => {
    bad({ kind: 'routed', routes: [all], queryRoute: 'nope' }, 'queryRoute')
    bad({ kind: 'routed', routes: [all, { name: 'e', when: { types: ['error'] }, store: { kind: 'memory' } }], queryRoute: 'e' }, 'queryRoute')
  })

  it('defaults the query route to the first catch-all', () => {
    const r = resolveStoreSpec({ kind: 'routed', routes: [{ name: 'e', when: { types: ['error'] }, store: { kind: 'memory' } }, all, { ...all, name: 'copy' }] })
    expect(r.kind === 'routed' && r.options.queryRoute).toBe('all')
  })
})

describe('storeEvents (routed)', () => {
  it('writes each event once to every route it matches', async () => {
    const store = (await createStore({
      kind: 'routed',
      routes: [
        { name: 'errors', when: { types: ['exception', 'error'] }, store: { kind: 'sqlite', path: freshPath() } },
        { name: 'acme', when: { field: 'tenant', values: ['acme', 7] }, store: { kind: 'memory' } },
        { name: 'all', store: { kind: 'sqlite', path: freshPath() } },
      ],
    })) as RoutedStore
    const batch = [
      record(RING_A, 0, 1, { type: 'call', tenant: 'acme' }),
      record(RING_A, 1, 2, { type: 'error', tenant: 'other' }),
      record(RING_A, 2, 3, { type: 'exception', tenant: 7 }),
      record(RING_A, 3, 4, { type: 'call', tenant: '7' }),
    ]
    expect(await store.storeEvents(batch)).toEqual({ inserted: 4, duplicates: 0 })
    expect(await store.storeEvents(batch)).toEqual({ inserted: 0, duplicates: 4 })
    expect(store.routesOf(batch[2]!.event)).toEqual(['errors', 'acme', 'all'])
    const counts = await store.countByRingPerRoute(RING_A, 4)
    // The memory destination counts too; every destination holds exactly what is routed to it.
    expect(counts).toEqual([
      { name: 'errors', held: 2, expected: 2 },
      { name: 'acme', held: 2, expected: 2 },
      { name: 'all', held: 4, expected: 4 },
    ])
    await store.close()
  })

  it("passes a failing destination's error on with the route's name, transient staying transient", async () => {
    const control = new FaultyStoreControl()
    const store = await createStore(errorsAndAll({ target: FAULTY_STORE_TARGET, options: { inner: { kind: 'memory' }, control: control.buffer } }, { kind: 'memory' }))
    control.mode = 'transient'
    const err = await store.storeEvents([record(RING_A, 0, 1, { type: 'error' })]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RoutedStoreError)
    expect((err as RoutedStoreError).route).toBe('errors')
    expect((err as RoutedStoreError).transient).toBe(true)
    expect((err as RoutedStoreError).code).toBe('io_error')
    expect((err as Error).message).toContain("route 'errors'")
    control.mode = 'permanent'
    const perm = await store.storeEvents([record(RING_A, 1, 2, { type: 'error' })]).catch((e: unknown) => e)
    expect((perm as RoutedStoreError).transient).toBe(false)
    // A batch with nothing for the failing route does not touch it.
    expect(await store.storeEvents([record(RING_A, 2, 3, { type: 'call' })])).toEqual({ inserted: 1, duplicates: 0 })
    await store.close()
  })

  it("maps a destination's record error back to the record's index in the batch", async () => {
    const control = new FaultyStoreControl()
    control.rejectPoison = true
    const store = await createStore(errorsAndAll({ target: FAULTY_STORE_TARGET, options: { inner: { kind: 'memory' }, control: control.buffer } }, { kind: 'memory' }))
    const batch = [record(RING_A, 0, 1, { type: 'call' }), record(RING_A, 1, 2, { type: 'error' }), record(RING_A, 2, 3, { type: 'error', poison: true })]
    const err = await store.storeEvents(batch).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreRecordError)
    expect((err as StoreRecordError).index).toBe(2)
    expect((err as Error).message).toContain("route 'errors'")
    await store.close()
  })

  it('stores each destination part exactly once when a batch is retried after a partial failure', async () => {
    const control = new FaultyStoreControl()
    const errorsPath = freshPath()
    const allPath = freshPath()
    // The catch-all (the query route) is written last, so here the errors route took its part and
    // the catch-all failed: the retry finds the errors part there already.
    const spec = errorsAndAll({ kind: 'sqlite', path: errorsPath }, { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path: allPath }, control: control.buffer } })
    const store = await createStore(spec)
    const batch = Array.from({ length: 10 }, (_, i) => record(RING_A, i, i + 1, { type: i % 3 === 0 ? 'error' : 'call' }))
    control.mode = 'transient'
    await expect(store.storeEvents(batch)).rejects.toBeInstanceOf(RoutedStoreError)
    const errors = await createStore({ kind: 'sqlite', path: errorsPath, readOnly: true })
    expect(await keysOf(errors)).toEqual([0, 3, 6, 9].map((s) => `${RING_A}:${s}`))
    control.heal()
    expect(await store.storeEvents(batch)).toEqual({ inserted: 10, duplicates: 0 })
    expect(await keysOf(errors)).toEqual([0, 3, 6, 9].map((s) => `${RING_A}:${s}`))
    expect((await errors.countByRing!(RING_A)).events).toBe(4)
    expect((await store.countByRing!(RING_A)).events).toBe(10)
    await errors.close()
    await store.close()
  })
})

describe('reads (routed)', () => {
  it('answers getEvent, stats and dead letters from the query route', async () => {
    const store = (await createStore(errorsAndAll({ kind: 'memory' }, { kind: 'memory' }))) as RoutedStore
    await store.storeEvents([record(RING_A, 0, 1, { type: 'error' }), record(RING_A, 1, 2, { type: 'call' })])
    await store.storeDeadLetters([{ record: record(RING_A, 2, 3), error: 'bad', attempts: 1 }])
    expect((await store.getEvent(`${RING_A}:1`))?.event.type).toBe('call')
    expect((await store.stats()).totalEvents).toBe(2)
    expect(await store.countByRing!(RING_A)).toEqual({ events: 2, deadLetters: 1 })
    expect(store.routeNames).toEqual({ names: ['errors', 'all'], queryRoute: 'all' })
    await store.close()
  })

  it('applies retention to every destination', async () => {
    const store = (await createStore(errorsAndAll({ kind: 'memory' }, { kind: 'memory' }))) as RoutedStore
    await store.storeEvents([record(RING_A, 0, 1, { type: 'error' }), record(RING_A, 1, 5, { type: 'error' })])
    expect(await store.deleteOlderThan(3)).toBe(1)
    expect(await store.countByRingPerRoute(RING_A, 2)).toEqual([
      { name: 'errors', held: 1, expected: 1 },
      { name: 'all', held: 1, expected: 1 },
    ])
    await store.close()
  })

  it('closes the destinations it opened when a later one fails to open', async () => {
    const err = await createStore(errorsAndAll({ kind: 'sqlite', path: freshPath() }, { kind: 'sqlite', path: join(dir, 'missing-dir', 'x', 'all.db'), readOnly: true })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RoutedStoreError)
    expect((err as RoutedStoreError).route).toBe('all')
  })
})
