import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore } from '@ringside/storage'
import { PipelineConfigError, PipelineManager, WriterStartError, type PipelineOptions } from '../src/index.js'
import { produce, until } from './fixtures/produce.js'

// Real worker threads and a real SQLite file.

const dir = mkdtempSync(join(tmpdir(), 'ringside-pm-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const dbPath = () => join(dir, `events-${++n}.db`)
const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url).href
/** Reads the store back through its own API: how many events, and whether they are exactly seqs 0..n-1 of one ring. */
async function storedSeqs(path: string): Promise<{ n: number; exactlyOnce: (accepted: number) => boolean }> {
  const store = await createStore({ kind: 'sqlite', path })
  try {
    const rows = await store.query({ order: 'asc' })
    const seqs = rows.map((r) => r.seq).sort((a, b) => a - b)
    return { n: rows.length, exactlyOnce: (accepted) => seqs.length === accepted && seqs.every((q, i) => q === i) && new Set(rows.map((r) => r.key)).size === accepted }
  } finally {
    await store.close()
  }
}

let open: PipelineManager[] = []
afterEach(async () => {
  await Promise.all(open.map((p) => p.stop({ timeoutMs: 2_000 })))
  open = []
})
async function start(options: Partial<PipelineOptions> & { ring?: RingBuffer } = {}) {
  const ring = options.ring ?? RingBuffer.create({ size: 1 << 14 })
  const p = await PipelineManager.start({ store: { kind: 'sqlite', path: dbPath() }, poolSize: 2, ...options, ring })
  open.push(p)
  return p
}

describe('PipelineManager.start', () => {
  it('starts the configured number of writers, each in its own thread', async () => {
    const p = await start({ poolSize: 3 })
    const members = p.getState().members
    expect(members.map((m) => [m.id, m.state])).toEqual([
      ['writer-1', 'running'],
      ['writer-2', 'running'],
      ['writer-3', 'running'],
    ])
    expect(new Set(members.map((m) => m.threadId)).size).toBe(3)
    expect(p.getState().config.version).toBe(1)
  })

  it('reports a writer that fails before ready as a start failure, not a restart', async () => {
    const ring = RingBuffer.create({ size: 64 })
    await expect(PipelineManager.start({ ring, store: { target: fixture('broken-store') }, poolSize: 2 })).rejects.toBeInstanceOf(WriterStartError)
  })

  it('retries a store that fails to open with a transient error, and starts once it opens', async () => {
    const ring = RingBuffer.create({ size: 64 })
    const counter = new SharedArrayBuffer(4)
    const p = await PipelineManager.start({ ring, store: { target: fixture('flaky-open-store'), options: { counter, failures: 3 } }, poolSize: 2 })
    expect(p.getState().members.filter((m) => m.state === 'running')).toHaveLength(2)
    expect(p.getState().restarts.total).toBe(0)
    expect(Atomics.load(new Int32Array(counter), 0)).toBe(5) // 3 failed tries, then one open per writer
    await p.stop()
  })

  it('refuses bad options with a typed error naming the option', async () => {
    const ring = RingBuffer.create({ size: 64 })
    await expect(PipelineManager.start({ ring, store: { kind: 'sqlite', path: dbPath() }, poolSize: 0 })).rejects.toMatchObject({ option: 'poolSize' })
  })
})

describe('supervision', () => {
  it('replaces a killed writer while the others keep running, and loses nothing', async () => {
    const path = dbPath()
    const p = await start({ store: { kind: 'sqlite', path } })
    const load = produce(p.ring, { total: 30_000 })
    await until(() => p.getMetrics().totals.eventsStored > 2_000)
    const other = p.getState().members[1]!.threadId
    const restarted = new Promise((resolve) => p.once('writer_restarted', resolve))
    await p.killWriter(0)
    await restarted
    const state = p.getState()
    expect(state.members.map((m) => m.state)).toEqual(['running', 'running'])
    expect(state.members[1]!.threadId).toBe(other)
    expect(state.restarts.total).toBe(1)
    await load.done
    const report = await p.stop({ timeoutMs: 10_000 })
    expect(report).toMatchObject({ accepted: 30_000, stored: 30_000, inFlight: 0, balanced: true })
    expect((await storedSeqs(path)).exactlyOnce(30_000)).toBe(true)
  })

  it('escalates past its restart intensity; the manager then reports unhealthy and the app keeps running', async () => {
    const p = await start({ maxRestarts: 1, maxSeconds: 30, managerMaxRestarts: 0, restartBackoffMs: 1 })
    const escalated = new Promise((resolve) => p.once('escalated', resolve))
    const errors: Error[] = []
    p.on('error', (e) => errors.push(e))
    await p.killWriter(0)
    await until(() => p.getState().members.filter((m) => m.state === 'running').length === 2)
    await p.killWriter(1)
    await escalated
    await until(() => p.getState().status === 'failed')
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['escalated'])
    const h = p.healthCheck()
    expect(h.status).toBe('unhealthy')
    expect(h.checks.find((c) => c.name === 'supervisor')!.reason).toMatch(/restart intensity/)
  })

  it('restarts the pool after an escalation while the manager has restarts left', async () => {
    const p = await start({ maxRestarts: 0, managerMaxRestarts: 2, restartBackoffMs: 1 })
    const restarted = new Promise((resolve) => p.once('pool_restarted', resolve))
    await p.killWriter(1)
    await restarted
    expect(p.getState().status).toBe('running')
    expect(p.getState().restarts.poolRestarts).toBe(1)
    await until(() => p.getState().members.filter((m) => m.state === 'running').length === 2)
  })
})

describe('scalePool', () => {
  it('grows and shrinks under load, losing nothing', async () => {
    const path = dbPath()
    const p = await start({ store: { kind: 'sqlite', path }, poolSize: 1 })
    const load = produce(p.ring, { total: 60_000 })
    await until(() => p.getMetrics().totals.eventsStored > 2_000)
    const scaled: unknown[] = []
    p.on('pool_scaled', (e) => scaled.push(e))
    await p.scalePool(4)
    expect(p.getState().members.filter((m) => m.state === 'running')).toHaveLength(4)
    await until(() => p.getMetrics().writers.filter((w) => w.eventsStored > 0).length >= 2)
    await p.scalePool(1)
    expect(p.getState().members).toHaveLength(1)
    expect(p.getState().config.poolSize).toBe(1)
    await load.done
    const report = await p.stop({ timeoutMs: 10_000 })
    expect(scaled).toEqual([{ from: 1, to: 4 }, { from: 4, to: 1 }])
    expect(report).toMatchObject({ accepted: 60_000, stored: 60_000, duplicates: 0, balanced: true })
    expect((await storedSeqs(path)).exactlyOnce(60_000)).toBe(true)
  })
})

describe('getMetrics', () => {
  it('adds up the writers without double counting, with rates and latency percentiles', async () => {
    const p = await start({ poolSize: 2 })
    const load = produce(p.ring, { total: 20_000 })
    await load.done
    await until(() => p.getMetrics().totals.eventsStored === 20_000)
    const m = p.getMetrics()
    expect(m.writers.reduce((a, w) => a + w.eventsStored, 0)).toBe(m.totals.eventsStored)
    expect(m.writers.reduce((a, w) => a + w.batchesProcessed, 0)).toBe(m.totals.batchesProcessed)
    expect(m).toMatchObject({ workerCount: 2, healthyWorkers: 2, failedWorkers: 0 })
    expect(m.totals).toMatchObject({ eventsRead: 20_000, eventsProcessed: 20_000, duplicates: 0, errorCount: 0 })
    expect(m.latency.captureToCommitMs.p99).toBeGreaterThan(0)
    expect(m.latency.batchWriteMs.p50).toBeGreaterThan(0)
    expect(m.ring.totalWrites).toBe(20_000)
    expect(Object.keys(m.dropped)).toContain('full')
  })
})

describe('healthCheck', () => {
  it('is healthy with every writer running and degraded when one is gone for good', async () => {
    const p = await start({ restart: 'temporary' })
    expect(p.healthCheck().status).toBe('healthy')
    await p.killWriter(1)
    await until(() => p.getState().members.length === 1)
    const h = p.healthCheck()
    expect(h.status).toBe('degraded')
    expect(h.checks.find((c) => c.name === 'writers')).toMatchObject({ status: 'degraded', reason: 'writers below target: 1 of 2 running' })
  })

  it("answers the store check for SQLite from a stat of the writers' file, not a connection of its own", async () => {
    const p = await start({ health: { storeProbeMs: 10 } })
    await until(() => p.healthCheck().checks.some((c) => c.name === 'store'), 15_000, 'the first probe')
    expect(p.healthCheck().checks.find((c) => c.name === 'store')).toMatchObject({ status: 'healthy', reason: expect.stringMatching(/store file .* in place/) })
  })

  it('reports a full ring and old unstored events when the store stops answering', async () => {
    const ring = RingBuffer.create({ size: 256 })
    const p = await start({ ring, store: { target: fixture('blocking-store') }, batchTimeoutMs: 60_000, shutdown: 200, health: { oldestUnstoredMs: 100 } })
    for (let k = 0; k < 1000; k++) ring.write({ type: 'call', k })
    await new Promise((r) => setTimeout(r, 200))
    const h = p.healthCheck()
    expect(h.status).toBe('unhealthy')
    expect(h.checks.filter((c) => c.status !== 'healthy').map((c) => c.name)).toEqual(['ring_fill', 'oldest_unstored'])
    const report = await p.stop({ timeoutMs: 300 })
    expect(report).toMatchObject({ timedOut: true, stored: 0, inFlight: 256, accepted: 256, balanced: true })
    expect(report.rejected.full).toBe(1000 - 256)
  })
})

describe('updateConfig', () => {
  it('applies a patch to every writer live and returns the effective config with a new version', async () => {
    const p = await start({ poolSize: 2 })
    const changed: unknown[] = []
    p.on('config_changed', (e) => changed.push(e))
    const eff = await p.updateConfig({ batchSize: 77, lingerMs: 3 })
    expect(eff).toMatchObject({ batchSize: 77, lingerMs: 3, version: 2 })
    const writers = await p.inspectWriters()
    expect(writers.map((w) => [w.writerId, w.config.batchSize, w.config.lingerMs])).toEqual([
      ['writer-1', 77, 3],
      ['writer-2', 77, 3],
    ])
    expect(changed).toEqual([{ version: 2, changed: ['batchSize', 'lingerMs'] }])
  })

  it('refuses bad patches naming the key, and changes nothing', async () => {
    const p = await start()
    await expect(p.updateConfig({ batchSize: -1 })).rejects.toBeInstanceOf(PipelineConfigError)
    await expect(p.updateConfig({ strategy: 'one_for_all' })).rejects.toMatchObject({ code: 'not_live', option: 'strategy' })
    await expect(p.updateConfig({ poolSize: 1000 })).rejects.toMatchObject({ option: 'poolSize' })
    expect(p.getState().config.version).toBe(1)
    expect((await p.inspectWriters())[0]!.config.batchSize).toBe(p.getState().config.batchSize)
  })
})
