import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { PRIORITIES, PriorityRing, type Priority } from '@ringside/core-ringbuffer'
import { createStore, type EventRecord } from '@ringside/storage'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { PipelineManager, RingBuffer, readJournal, type AccountingReport } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

// The pipeline draining a priority ring, with real writer threads and a real SQLite file: what
// the store holds is read back per sub-ring (each priority's events carry its sub-ring's id).

const dir = mkdtempSync(join(tmpdir(), 'ringside-priority-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const GATE = new URL('./fixtures/gate-stage.ts', import.meta.url).href

/** Every stored row of the file, by priority (from its ring id). */
async function rowsByPriority(path: string, ring: PriorityRing): Promise<Record<Priority, EventRecord[]>> {
  const store = await createStore({ kind: 'sqlite', path, readOnly: true })
  try {
    const rows = await store.query({ order: 'asc' })
    const out: Record<Priority, EventRecord[]> = { low: [], normal: [], high: [] }
    for (const r of rows) {
      const p = PRIORITIES.find((q) => ring.rings[q].id === r.ringId)
      expect(p, `a stored event of ring ${r.ringId}, not one of the priority ring's`).toBeDefined()
      out[p!].push(r)
    }
    return out
  } finally {
    await store.close()
  }
}

/** The report's per-priority figures add up to its totals. */
function expectPrioritiesAddUp(report: AccountingReport): void {
  const ps = report.priorities!
  const sum = (f: (p: (typeof ps)['high']) => number | undefined) => PRIORITIES.reduce((a, p) => a + (f(ps[p]) ?? Number.NaN), 0)
  expect(sum((p) => p.offered)).toBe(report.offered)
  expect(sum((p) => p.accepted)).toBe(report.accepted)
  expect(sum((p) => p.stored)).toBe(report.stored)
  expect(sum((p) => p.quarantined)).toBe(report.quarantined)
  expect(sum((p) => p.evicted)).toBe(report.evicted)
  expect(sum((p) => p.inFlight)).toBe(report.inFlight)
  expect(sum((p) => p.rejected.full)).toBe(report.rejected.full)
}

const ns = (rows: readonly EventRecord[]) => rows.map((r) => r.event.n as number).sort((a, b) => a - b)
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('a pipeline draining a priority ring', () => {
  it('stores every event of all three priorities exactly once, and the report balances per priority', async () => {
    const path = join(dir, 'all.db')
    const ring = PriorityRing.create({ size: 1 << 12 })
    const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path }, poolSize: 2, batchSize: 200 })
    const PER = 6_000
    const written: Record<Priority, number> = { low: 0, normal: 0, high: 0 }
    // Three priorities interleaved, paced so the budget is never spent (nothing evicted here).
    while (PRIORITIES.some((p) => written[p] < PER)) {
      for (const p of PRIORITIES) {
        for (let k = 0; k < 100 && written[p] < PER; k++) {
          if (ring.pressure() > 0.5) break
          const r = ring.write({ type: 'call', priority: p, n: written[p] }, p)
          expect(r.ok).toBe(true)
          written[p]++
        }
      }
      await new Promise((r) => setTimeout(r, 1))
    }
    const report = await pipeline.stop({ timeoutMs: 60_000 })
    expect(report).toMatchObject({ accepted: 3 * PER, stored: 3 * PER, evicted: 0, inFlight: 0, quarantined: 0, countedBy: 'store', balanced: true })
    for (const p of PRIORITIES) expect(report.priorities![p]).toMatchObject({ accepted: PER, stored: PER, evicted: 0, inFlight: 0 })
    expectPrioritiesAddUp(report)
    const rows = await rowsByPriority(path, ring)
    for (const p of PRIORITIES) {
      expect(ns(rows[p])).toEqual(range(PER))
      expect(rows[p].every((r) => r.event.priority === p)).toBe(true)
    }
  }, 120_000)

  it('claims high before normal before low: a writer with a backlog of all three stores every high event first', async () => {
    const path = join(dir, 'order.db')
    const ring = PriorityRing.create({ size: 1 << 12 })
    // The backlog is written before the writer starts, lowest priority first (the order a FIFO would keep).
    for (const p of PRIORITIES) for (let n = 0; n < 500; n++) expect(ring.write({ type: 'call', priority: p, n }, p).ok).toBe(true)
    const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path }, poolSize: 1, batchSize: 64 })
    const report = await pipeline.stop({ timeoutMs: 60_000 })
    expect(report).toMatchObject({ accepted: 1_500, stored: 1_500, inFlight: 0, balanced: true })
    const rows = await rowsByPriority(path, ring)
    // One writer, batches of 64: its processing order is its claim order.
    const order = (p: Priority) => rows[p].map((r) => r.event.processingOrder as number)
    expect(Math.max(...order('high'))).toBeLessThan(Math.min(...order('normal')))
    expect(Math.max(...order('normal'))).toBeLessThan(Math.min(...order('low')))
  }, 120_000)

  it('with the budget spent, drop_lowest evicts low events (counted by priority) and every high event is stored', async () => {
    const path = join(dir, 'evict.db')
    const ring = PriorityRing.create({ size: 256, overflowStrategy: 'drop_lowest' })
    // No writer yet: the budget fills with low events, then high and normal ones evict the oldest low.
    for (let n = 0; n < 256; n++) expect(ring.write({ type: 'call', priority: 'low', n }, 'low').ok).toBe(true)
    for (let n = 0; n < 128; n++) expect(ring.write({ type: 'call', priority: 'high', n }, 'high').ok).toBe(true)
    for (let n = 0; n < 100; n++) expect(ring.write({ type: 'call', priority: 'normal', n }, 'normal').ok).toBe(true)
    // A low event finding only low events to evict evicts the oldest of them; nothing higher goes.
    for (let n = 256; n < 266; n++) expect(ring.write({ type: 'call', priority: 'low', n }, 'low').ok).toBe(true)
    const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path }, poolSize: 2 })
    const report = await pipeline.stop({ timeoutMs: 60_000 })
    expect(report).toMatchObject({ accepted: 256 + 128 + 100 + 10, evicted: 238, stored: 128 + 100 + 28, inFlight: 0, countedBy: 'store', balanced: true })
    expect(report.priorities).toMatchObject({
      high: { accepted: 128, stored: 128, evicted: 0 },
      normal: { accepted: 100, stored: 100, evicted: 0 },
      low: { accepted: 266, stored: 28, evicted: 238 },
    })
    expectPrioritiesAddUp(report)
    const rows = await rowsByPriority(path, ring)
    expect(ns(rows.high)).toEqual(range(128))
    expect(ns(rows.normal)).toEqual(range(100))
    // The oldest low events went: the newest 28 are kept.
    expect(ns(rows.low)).toEqual(range(28).map((i) => 238 + i))
  }, 120_000)

  it('a writer killed while it holds claims on all three sub-rings loses and doubles nothing', async () => {
    const path = join(dir, 'kill.db')
    const gate = new SharedArrayBuffer(4)
    const ring = PriorityRing.create({ size: 1 << 12 })
    const PER = 300
    for (const p of PRIORITIES) for (let n = 0; n < PER; n++) expect(ring.write({ type: 'call', priority: p, n }, p).ok).toBe(true)
    const pipeline = await PipelineManager.start({
      ring,
      store: { kind: 'sqlite', path },
      poolSize: 1,
      batchSize: 3 * PER,
      batchTimeoutMs: 600_000, // the gate holds a batch as long as the test wants: no hang verdict
      stages: [{ target: GATE, options: { gate } }],
    })
    const handed: number[] = []
    pipeline.on('claims_handed_over', (e) => handed.push(e.events))
    const claimed = () => {
      const by = (pipeline.getMetrics().ring as unknown as { byPriority: Record<Priority, { claimed: number }> }).byPriority
      return PRIORITIES.map((p) => by[p].claimed)
    }
    // The writer holds its one batch: every event of every sub-ring claimed, none stored.
    await until(() => claimed().every((c) => c === PER), 30_000, 'the writer holding claims on all three sub-rings')
    await pipeline.killWriter(0)
    await until(() => pipeline.getState().restarts.total >= 1 && pipeline.getState().members.some((m) => m.state === 'running'), 30_000, 'the writer restarted')
    expect(handed.reduce((a, b) => a + b, 0)).toBe(3 * PER)
    Atomics.store(new Int32Array(gate), 0, 1)

    // Then a writer that stores a batch spanning the sub-rings and exits before committing it: its heir stores it again, once.
    await until(() => pipeline.getMetrics().ring.ready + pipeline.getMetrics().ring.claimed === 0, 30_000, 'the handed-over claims stored')
    await pipeline.setWriterFault(0, { kind: 'exit', code: 3, at: 'after_store' })
    for (const p of PRIORITIES) for (let n = PER; n < 2 * PER; n++) expect(ring.write({ type: 'call', priority: p, n }, p).ok).toBe(true)
    await until(() => pipeline.getState().restarts.total >= 2, 30_000, 'the writer restarted after exiting')
    const report = await pipeline.stop({ timeoutMs: 60_000 })
    expect(report).toMatchObject({ accepted: 6 * PER, stored: 6 * PER, evicted: 0, inFlight: 0, quarantined: 0, countedBy: 'store', balanced: true })
    expect(report.duplicates).toBeGreaterThan(0)
    expectPrioritiesAddUp(report)
    const rows = await rowsByPriority(path, ring)
    for (const p of PRIORITIES) expect(ns(rows[p])).toEqual(range(2 * PER))
  }, 120_000)

  it('journals what each sub-ring still holds at a stop past its deadline, and the next start stores all of it once', async () => {
    const path = join(dir, 'journal.db')
    const journal = join(dir, 'priority.journal')
    const control = new FaultyStoreControl()
    control.mode = 'offline'
    const store = { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path }, control: control.buffer } }
    const ring = PriorityRing.create({ size: 1 << 12 })
    const pipeline = await PipelineManager.start({ ring, store, poolSize: 1, shutdown: 200, journal: { path: journal } })
    for (const p of PRIORITIES) for (let n = 0; n < 100; n++) expect(ring.write({ type: 'call', priority: p, n }, p).ok).toBe(true)
    const report = await pipeline.stop({ timeoutMs: 500 })
    expect(report).toMatchObject({ timedOut: true, stored: 0, inFlight: 300, journaled: 300, balanced: true })
    for (const p of PRIORITIES) expect(report.priorities![p]).toMatchObject({ accepted: 100, inFlight: 100 })
    const records = readJournal(journal).records
    for (const p of PRIORITIES) expect(records.filter((r) => r.ringId === ring.rings[p].id)).toHaveLength(100)

    control.mode = 'ok'
    const next = await PipelineManager.start({ ring: RingBuffer.create({ size: 1 << 10 }), store, poolSize: 1, journal: { path: journal } })
    expect(next.getState().journal?.replay).toMatchObject({ records: 300, stored: 300 })
    await next.stop({ timeoutMs: 30_000 })
    const rows = await rowsByPriority(path, ring)
    for (const p of PRIORITIES) expect(ns(rows[p])).toEqual(range(100))
  }, 120_000)
})
