import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore } from '@ringside/storage'
import { PipelineManager, type PipelineOptions } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

// One event that a user stage cannot handle (it throws, rejects, never settles, ends the thread or
// exhausts the heap) must cost that event alone: it goes to the dead letters with a reason, every
// other event is stored, and the pipeline keeps running. Real writer threads, a real SQLite file.

const dir = mkdtempSync(join(tmpdir(), 'ringside-poison-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const stage = { target: new URL('./fixtures/poison-stage.ts', import.meta.url).href }
let files = 0

/** Writes `n` events (those in `poison` marked) before the pipeline starts, so one claim takes them all. */
async function run(n: number, poison: Record<number, string>, options: Partial<PipelineOptions> = {}) {
  const path = join(dir, `events-${++files}.db`)
  const ring = RingBuffer.create({ size: 1024 })
  for (let k = 0; k < n; k++) expect(ring.write({ type: 'call', module: 'Shop.Cart', function: 'add', n: k, ...(poison[k] ? { poison: poison[k] } : {}) }).ok).toBe(true)
  const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path }, poolSize: 1, stages: [stage], ...options })
  const hung: unknown[] = []
  pipeline.on('writer_hung', (e) => hung.push(e))
  const done = () => {
    const t = pipeline.getMetrics().totals
    return t.eventsStored + t.invalid + t.stageErrors + t.killers + t.poisoned >= n
  }
  return { ring, pipeline, path, hung, done }
}

async function readStore(path: string) {
  const store = await createStore({ kind: 'sqlite', path })
  try {
    const rows = await store.query({ order: 'asc' })
    const dead = await store.listDeadLetters()
    return { stored: rows.map((r) => r.event.n as number).sort((a, b) => a - b), dead }
  } finally {
    await store.close()
  }
}

const allBut = (n: number, ...skip: number[]) => Array.from({ length: n }, (_, k) => k).filter((k) => !skip.includes(k))

describe('a user stage that fails on an event', { timeout: 150_000 }, () => {
  it('quarantines the event a stage throws on as stage_error and stores the rest, without restarting the writer', async () => {
    const { pipeline, path, done } = await run(10, { 3: 'throw', 7: 'reject' })
    await until(done, 30_000, 'every event stored or quarantined')
    expect(pipeline.getState().restarts.total).toBe(0)
    const report = await pipeline.stop()
    expect(report).toMatchObject({ accepted: 10, stored: 8, quarantined: 2, balanced: true })
    const { stored, dead } = await readStore(path)
    expect(stored).toEqual(allBut(10, 3, 7))
    expect(dead.map((d) => [d.record.event.n, d.reason, d.attempts])).toEqual([
      [3, 'stage_error', 1],
      [7, 'stage_error', 1],
    ])
    expect(dead[0]!.error).toBe('stage poison: TypeError: cannot handle event 3')
    expect(dead[1]!.error).toBe('stage poison: RangeError: rejected event 7')
  })

  it('makes health degraded, never failed, while a stage fails on most events', async () => {
    const poison = Object.fromEntries(Array.from({ length: 150 }, (_, k) => [k, 'throw']))
    const { pipeline, done } = await run(200, poison, { poolSize: 2 })
    await until(done, 30_000, 'every event stored or quarantined')
    const health = pipeline.healthCheck()
    const check = health.checks.find((c) => c.name === 'stages')
    expect(check?.status).toBe('degraded')
    expect(check?.reason).toMatch(/150 of 200 events/)
    expect(health.status).toBe('degraded')
    expect(pipeline.getState().status).toBe('running')
    expect(await pipeline.stop()).toMatchObject({ stored: 50, quarantined: 150, balanced: true })
  })
})

describe('an event that kills or hangs its writer', { timeout: 150_000 }, () => {
  it('isolates an event that calls process.exit from a stage into dead letters crashed_writer and stores the rest', async () => {
    const { pipeline, path, done } = await run(10, { 4: 'exit' })
    const killers: unknown[] = []
    pipeline.on('writer_killer_found', (e) => killers.push(e))
    await until(done, 60_000, 'every event stored or quarantined')
    expect(killers).toHaveLength(1)
    expect(pipeline.getState().status).toBe('running')
    expect(await pipeline.stop()).toMatchObject({ accepted: 10, stored: 9, quarantined: 1, balanced: true })
    const { stored, dead } = await readStore(path)
    expect(stored).toEqual(allBut(10, 4))
    expect(dead.map((d) => [d.record.event.n, d.reason])).toEqual([[4, 'crashed_writer']])
  })

  it('isolates an event that exhausts the writer heap into dead letters crashed_writer and stores the rest', async () => {
    const { pipeline, path, done } = await run(10, { 6: 'heap' }, { writerMaxHeapMb: 32, poolSize: 2 })
    await until(done, 90_000, 'every event stored or quarantined')
    expect(pipeline.getState().status).toBe('running')
    expect(await pipeline.stop()).toMatchObject({ accepted: 10, stored: 9, quarantined: 1, balanced: true })
    const { stored, dead } = await readStore(path)
    expect(stored).toEqual(allBut(10, 6))
    expect(dead.map((d) => [d.record.event.n, d.reason])).toEqual([[6, 'crashed_writer']])
  })

  it('replaces a writer whose stage never settles, and quarantines the event as timeout after it hangs twice', async () => {
    const { pipeline, path, done, hung } = await run(10, { 2: 'hang' }, { batchTimeoutMs: 1_500 })
    await until(done, 60_000, 'every event stored or quarantined')
    expect(hung).toHaveLength(3) // twice with the whole claim, once with the event alone
    expect(pipeline.getState().status).toBe('running')
    expect(pipeline.healthCheck().status).not.toBe('unhealthy')
    expect(await pipeline.stop()).toMatchObject({ accepted: 10, stored: 9, quarantined: 1, timedOut: false, balanced: true })
    const { stored, dead } = await readStore(path)
    expect(stored).toEqual(allBut(10, 2))
    expect(dead.map((d) => [d.record.event.n, d.reason])).toEqual([[2, 'timeout']])
  })

  it('quarantines an event that spins a stage forever as timeout', async () => {
    const { pipeline, path, done } = await run(6, { 5: 'spin' }, { batchTimeoutMs: 1_500 })
    await until(done, 60_000, 'every event stored or quarantined')
    expect(await pipeline.stop()).toMatchObject({ accepted: 6, stored: 5, quarantined: 1, balanced: true })
    expect((await readStore(path)).dead.map((d) => [d.record.event.n, d.reason])).toEqual([[5, 'timeout']])
  })

  it('isolates two killers of one claim without escalating the pool', async () => {
    const { pipeline, path, done } = await run(12, { 1: 'exit', 9: 'exit' })
    const escalations: unknown[] = []
    pipeline.on('escalated', (e) => escalations.push(e))
    await until(done, 60_000, 'every event stored or quarantined')
    expect(escalations).toEqual([])
    expect(await pipeline.stop()).toMatchObject({ accepted: 12, stored: 10, quarantined: 2, balanced: true })
    const { stored, dead } = await readStore(path)
    expect(stored).toEqual(allBut(12, 1, 9))
    expect(dead.map((d) => [d.record.event.n, d.reason]).sort()).toEqual([
      [1, 'crashed_writer'],
      [9, 'crashed_writer'],
    ])
  })
})

describe('a drill during isolation', { timeout: 150_000 }, () => {
  it('does not name the event in hand a killer when a drill kills a writer that processes a suspect claim alone', async () => {
    // Three slow events and one that ends its writer: two deaths put the claim under isolation;
    // the drill then kills the heir while it processes event 0 alone. Event 0 must be stored.
    const slow = { target: new URL('./fixtures/slow-stage.ts', import.meta.url).href, options: { ms: 400 } }
    const { pipeline, path, done } = await run(4, { 3: 'exit' }, { stages: [slow, stage] })
    const deaths = () => pipeline.getState().restarts.total
    await until(() => deaths() >= 2 && pipeline.getMetrics().writers.some((w) => w.state === 'running' && w.heldEvents > 0), 60_000, 'an heir holding the suspect claim')
    await pipeline.killWriter(0)
    await until(done, 90_000, 'every event stored or quarantined')
    expect(await pipeline.stop()).toMatchObject({ accepted: 4, stored: 3, quarantined: 1, balanced: true })
    const { stored, dead } = await readStore(path)
    expect(stored).toEqual([0, 1, 2])
    expect(dead.map((d) => [d.record.event.n, d.reason])).toEqual([[3, 'crashed_writer']])
  })
})

describe('batch deadline', { timeout: 150_000 }, () => {
  it('never judges a writer hung while it makes progress through a slow stage', async () => {
    // Each event takes a while in the stage, the batch as a whole far longer than batchTimeoutMs.
    const { pipeline, hung, done } = await run(40, Object.fromEntries(Array.from({ length: 40 }, (_, k) => [k, 'slow'])), {
      batchTimeoutMs: 2_000,
      stages: [{ target: new URL('./fixtures/slow-stage.ts', import.meta.url).href, options: { ms: 100 } }],
    })
    await until(done, 60_000, 'every event stored')
    expect(hung).toEqual([])
    expect(pipeline.getState().restarts.total).toBe(0)
    expect(await pipeline.stop()).toMatchObject({ stored: 40, balanced: true })
  })
})
