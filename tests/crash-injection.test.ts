import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore } from '@ringside/storage'
import { PipelineManager } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

// End to end with real writer threads and a real SQLite file: while 200,000 events flow, writers
// are killed in each way; afterwards the store holds every accepted event exactly once and the
// accounting report balances exactly.

const dir = mkdtempSync(join(tmpdir(), 'ringside-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))


describe('crash injection', () => {
  it('stores every accepted event exactly once while writers are terminated, exit, throw and hang', async () => {
    const AT_LEAST = 200_000
    let drillsDone = false
    const path = join(dir, 'events.db')
    const flag = new SharedArrayBuffer(4)
    const ring = RingBuffer.create({ size: 1 << 15 })
    const pipeline = await PipelineManager.start({
      ring,
      store: { kind: 'sqlite', path },
      poolSize: 2,
      batchSize: 500,
      maxRestarts: 20,
      maxSeconds: 5,
      batchTimeoutMs: 3_000,
      stages: [{ target: new URL('./fixtures/armed-enricher.ts', import.meta.url).href, options: { flag } }],
    })
    const exits: { reason: string; code: number; detail?: string }[] = []
    pipeline.on('writer_exited', (e) => exits.push(e))
    const hung: unknown[] = []
    pipeline.on('writer_hung', (e) => hung.push(e))

    // The application: writes events from the main thread at about 50k/s, yielding between bursts,
    // until every drill is done and at least AT_LEAST events were accepted.
    let accepted = 0
    const producing = (async () => {
      while (!drillsDone || accepted < AT_LEAST) {
        await new Promise((r) => setTimeout(r, 10))
        for (let k = 0; k < 500; k++) {
          const r = ring.write({ type: 'call', pid: `<0.${accepted % 64}.0>`, module: 'Shop.Cart', function: 'add', arity: 2, n: accepted })
          if (r.ok) accepted++
          else break // full: let the writers catch up
        }
      }
    })()
    const stored = () => pipeline.getMetrics().totals.eventsStored
    const running = () => pipeline.getState().members.filter((m) => m.state === 'running').length === 2
    const restarts = () => pipeline.getState().restarts.total

    // 1. worker terminated from outside
    await until(() => stored() > 20_000, 30_000, 'first events stored')
    await pipeline.killWriter(0)
    await until(() => restarts() >= 1 && running(), 30_000, 'restart after terminate')

    // 2. process.exit inside the writer, after storing a batch and before committing it
    await pipeline.setWriterFault(1, { kind: 'exit', code: 3, at: 'after_store' })
    await until(() => restarts() >= 2 && running(), 30_000, 'restart after process.exit')

    // 3. an uncaught exception in the writer's own code
    await pipeline.setWriterFault(1, { kind: 'crash', at: 'before_store' })
    await until(() => restarts() >= 3 && running(), 30_000, 'restart after an uncaught exception')

    // An exception thrown by an enricher (a user stage) on one event: that event is quarantined,
    // the writer keeps running (no restart), the rest of its batch is stored.
    Atomics.store(new Int32Array(flag), 0, 1)
    await until(() => pipeline.getMetrics().totals.stageErrors === 1, 30_000, 'the event the enricher threw on quarantined')
    expect(restarts()).toBe(3)

    // 4. an infinite loop while holding a claim: past batchTimeoutMs the pool terminates it
    await pipeline.setWriterFault(0, { kind: 'hang', at: 'before_store' })
    await until(() => restarts() >= 4 && running(), 30_000, 'restart after a hang')
    drillsDone = true

    await producing
    const TOTAL = accepted
    expect(TOTAL).toBeGreaterThanOrEqual(AT_LEAST)
    const report = await pipeline.stop({ timeoutMs: 30_000 })

    expect(exits.filter((e) => e.reason === 'crash')).toHaveLength(4)
    expect(exits.some((e) => e.code === 3)).toBe(true)
    expect(exits.some((e) => /injected crash/.test(e.detail ?? ''))).toBe(true)
    expect(hung).toHaveLength(1)
    expect(report).toMatchObject({ accepted: TOTAL, stored: TOTAL - 1, inFlight: 0, filtered: 0, quarantined: 1, timedOut: false, countedBy: 'store', balanced: true })
    expect(report.duplicates).toBeGreaterThan(0) // the batch stored before process.exit was stored again, once
    expect(report.offered).toBe(TOTAL + report.rejected.full)

    const store = await createStore({ kind: 'sqlite', path })
    try {
      expect((await store.stats()).totalEvents).toBe(TOTAL - 1)
      const dead = await store.listDeadLetters()
      expect(dead.map((d) => d.reason)).toEqual(['stage_error'])
      expect(dead[0]!.error).toMatch(/stage armed-enricher: Error: enricher bug/)
      const rows = await store.query({ order: 'asc' })
      const seqs = [...rows.map((r) => r.seq), dead[0]!.record.seq].sort((a, b) => a - b)
      expect(seqs.length).toBe(TOTAL)
      expect(seqs.every((q, i) => q === i)).toBe(true)
      expect(new Set(rows.map((r) => r.event.n)).size).toBe(TOTAL - 1)
      expect(rows.every((r) => r.event.enriched === true && typeof r.event.writerId === 'string')).toBe(true)
    } finally {
      await store.close()
    }
  }, 240_000) // 200,000 events and four drills; a loaded machine can take minutes
})
