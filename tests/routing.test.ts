// End to end with real writer threads and two real SQLite files behind a routed store (errors, and
// everything): writers are killed mid-run, a destination goes down and comes back; afterwards each
// file holds exactly its events once, and the stop report's conservation and destinations balance.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore, type RoutedStoreSpec, type StoreSpec } from '@ringside/storage'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { PipelineConfigError, PipelineManager } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-routing-'))
let n = 0
const freshPath = (name: string): string => join(dir, `${name}-${++n}.db`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const isError = (k: number): boolean => k % 7 === 3
const routed = (errors: StoreSpec, all: StoreSpec): RoutedStoreSpec =>
  ({
    kind: 'routed',
    routes: [
      { name: 'errors', when: { types: ['exception', 'error'] }, store: errors },
      { name: 'all', store: all },
    ],
  }) as RoutedStoreSpec

/** The `n` field of every event of `ringId` in a SQLite file, sorted, and how many rows there are. */
async function contentsOf(path: string, ringId: string): Promise<{ ns: number[]; rows: number }> {
  const store = await createStore({ kind: 'sqlite', path, readOnly: true })
  try {
    const rows = (await store.query()).filter((r) => r.ringId === ringId)
    return { ns: rows.map((r) => r.event.n as number).sort((a, b) => a - b), rows: rows.length }
  } finally {
    await store.close()
  }
}

/**
 * Writes events numbered from `from` (every seventh an error) until `count` were accepted and
 * `more()` says no; resolves with how many were accepted.
 */
async function produce(ring: RingBuffer, from: number, count: number, more = (): boolean => false): Promise<number> {
  let k = from
  while (k < from + count || more()) {
    // Bursts larger than a batch keep both writers claiming, so a drill on either meets work.
    for (let b = 0; b < 1_000 && (k < from + count || more()); b++) {
      if (!ring.write({ type: isError(k) ? 'error' : 'call', module: 'Shop.Cart', n: k }).ok) break
      k++
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  return k - from
}

const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i)

describe('a routed store in a pipeline', () => {
  it('stores each event exactly once in every destination it matches while writers are killed', async () => {
    const AT_LEAST = 40_000
    let drillsDone = false
    const errorsPath = freshPath('errors')
    const allPath = freshPath('all')
    const ring = RingBuffer.create({ size: 1 << 14 })
    const pipeline = await PipelineManager.start({
      ring,
      store: routed({ kind: 'sqlite', path: errorsPath }, { kind: 'sqlite', path: allPath }),
      poolSize: 2,
      batchSize: 300,
      maxRestarts: 20,
    })
    const restarts = (): number => pipeline.getState().restarts.total
    const running = (): boolean => pipeline.getState().members.filter((m) => m.state === 'running').length === 2
    // The application writes until every drill is done, so each drill meets a writer at work.
    const producing = produce(ring, 0, AT_LEAST, () => !drillsDone)

    await until(() => pipeline.getMetrics().totals.eventsStored > 5_000, 60_000, 'first events stored')
    await pipeline.killWriter(0)
    await until(() => restarts() >= 1 && running(), 120_000, 'restart after terminate')
    // Between the routed store's success (both files written) and the claim's commit.
    await pipeline.setWriterFault(1, { kind: 'exit', code: 3, at: 'after_store' })
    await until(() => restarts() >= 2 && running(), 120_000, 'restart after process.exit after the store')
    // Before the store: the heir stores the claim for the first time.
    await pipeline.setWriterFault(0, { kind: 'crash', at: 'before_store' })
    await until(() => restarts() >= 3 && running(), 120_000, 'restart after an uncaught exception')
    drillsDone = true
    const TOTAL = await producing

    const report = await pipeline.stop({ timeoutMs: 60_000 })
    const errorsWanted = range(TOTAL).filter(isError)
    expect(report).toMatchObject({ accepted: TOTAL, stored: TOTAL, quarantined: 0, inFlight: 0, countedBy: 'store', balanced: true })
    expect(report.duplicates).toBeGreaterThan(0) // the batch stored before process.exit, stored again
    expect(report.destinations).toEqual([
      { name: 'errors', expected: errorsWanted.length, held: errorsWanted.length, balanced: true },
      { name: 'all', expected: TOTAL, held: TOTAL, balanced: true },
    ])
    const errors = await contentsOf(errorsPath, ring.id)
    const all = await contentsOf(allPath, ring.id)
    expect(errors.ns).toEqual(errorsWanted)
    expect(all.ns).toEqual(range(TOTAL))
  }, 480_000)

  it('holds the claim while a destination is down and stores nothing twice in the other once it is back', async () => {
    const TOTAL = 6_000
    const errorsPath = freshPath('errors')
    const allPath = freshPath('all')
    const control = new FaultyStoreControl()
    const ring = RingBuffer.create({ size: 1 << 13 })
    // The catch-all is written last: while it is down, the errors file takes its part of every
    // batch and the claim stays uncommitted, so each retry rewrites that part.
    const pipeline = await PipelineManager.start({
      ring,
      store: routed({ kind: 'sqlite', path: errorsPath }, { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path: allPath }, control: control.buffer } }),
      poolSize: 2,
      batchSize: 200,
      retryBaseMs: 5,
      retryMaxMs: 50,
    })
    await produce(ring, 0, 2_000)
    await until(() => ring.stats().totalCommitted === 2_000, 60_000, 'the first events committed')
    control.mode = 'transient'
    await produce(ring, 2_000, 2_000)
    await until(() => control.failures >= 10, 60_000, 'the catch-all failing')
    // Nothing past the first 2,000 is committed while the catch-all is down; the errors file holds
    // parts of claims that are still held (at least one batch's worth was attempted).
    expect(ring.stats().totalCommitted).toBe(2_000)
    expect((await contentsOf(errorsPath, ring.id)).ns.some((k) => k >= 2_000)).toBe(true)
    expect((await contentsOf(allPath, ring.id)).ns.every((k) => k < 2_000)).toBe(true)
    control.heal()
    await produce(ring, 4_000, TOTAL - 4_000)
    const report = await pipeline.stop({ timeoutMs: 60_000 })
    const errorsWanted = range(TOTAL).filter(isError)
    expect(report).toMatchObject({ accepted: TOTAL, stored: TOTAL, inFlight: 0, countedBy: 'store', balanced: true })
    expect(report.destinations).toEqual([
      { name: 'errors', expected: errorsWanted.length, held: errorsWanted.length, balanced: true },
      { name: 'all', expected: TOTAL, held: TOTAL, balanced: true },
    ])
    const errors = await contentsOf(errorsPath, ring.id)
    expect(errors.ns).toEqual(errorsWanted)
    expect(errors.rows).toBe(errorsWanted.length)
    expect((await contentsOf(allPath, ring.id)).ns).toEqual(range(TOTAL))
  }, 240_000)

  it('refuses a memory store as a destination, naming its option path', async () => {
    const ring = RingBuffer.create({ size: 64 })
    const err = await PipelineManager.start({ ring, store: routed({ kind: 'memory' }, { kind: 'sqlite', path: freshPath('all') }), poolSize: 1 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PipelineConfigError)
    expect(err).toMatchObject({ code: 'invalid_option', option: 'store.routes[0].store.kind' })
  })

  it('refuses a routed spec without a catch-all, naming its option path', async () => {
    const ring = RingBuffer.create({ size: 64 })
    const store = { kind: 'routed', routes: [{ name: 'errors', when: { types: ['error'] }, store: { kind: 'sqlite', path: freshPath('errors') } }] } as RoutedStoreSpec
    const err = await PipelineManager.start({ ring, store, poolSize: 1 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PipelineConfigError)
    expect(err).toMatchObject({ code: 'invalid_option', option: 'store.routes' })
  })
})
