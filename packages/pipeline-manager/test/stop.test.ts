import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import type { FaultSwitch } from '@ringside/async-writer'
import { PipelineManager, type AccountingReport } from '../src/index.js'
import { until } from './fixtures/produce.js'
import { sqliteTruth, storedCount } from './fixtures/sqlite-truth.js'

// stop()'s report against what the SQLite file really holds, with real writer threads stopped at
// awkward moments: every accepted event must be in exactly one bucket.

const dir = mkdtempSync(join(tmpdir(), 'ringside-stop-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const dbPath = () => join(dir, `events-${++n}.db`)

/** Checks a report against the file: stored and quarantined are what it holds, in flight what the ring holds that it does not. */
function checkAgainstFile(report: AccountingReport, ring: RingBuffer, path: string): void {
  const truth = sqliteTruth(path, ring.id)
  const pending = ring.exportPending().filter((p) => !truth.events.has(p.seq) && !truth.deadLetters.has(p.seq))
  expect({ accepted: report.accepted, stored: report.stored, quarantined: report.quarantined, inFlight: report.inFlight, countedBy: report.countedBy }).toEqual({
    accepted: ring.stats().totalWrites,
    stored: truth.events.size,
    quarantined: truth.deadLetters.size,
    inFlight: pending.length,
    countedBy: 'store',
  })
  expect(report.balanced).toBe(true)
}

describe('stop', () => {
  it('counts a batch its writer stored but had not committed when the deadline terminated it as stored, not in flight', async () => {
    const path = dbPath()
    const ring = RingBuffer.create({ size: 1 << 10 })
    // One batch of exactly 100: the writer waits (lingerMs) until all 100 are there, however slow the machine.
    const p = await PipelineManager.start({ ring, store: { kind: 'sqlite', path }, poolSize: 1, batchSize: 100, lingerMs: 60_000, shutdown: 100, batchTimeoutMs: 60_000 })
    // The writer stores its next batch, then spins before committing it, as if its thread were stuck.
    await p.setWriterFault(0, { kind: 'hang', at: 'after_store' })
    for (let k = 0; k < 100; k++) expect(ring.write({ type: 'call', k }).ok).toBe(true)
    await until(() => storedCount(path, ring.id) === 100, 30_000, 'the batch in the file')
    const report = await p.stop({ timeoutMs: 300 })
    expect(report).toMatchObject({ accepted: 100, stored: 100, inFlight: 0, timedOut: true, balanced: true })
    checkAgainstFile(report, ring, path)
  })

  it('puts every accepted event in exactly one bucket, whenever stop comes and whatever the writers are doing', async () => {
    const faultArb = fc.option(
      fc.record({ kind: fc.constantFrom('exit', 'crash', 'hang'), at: fc.constantFrom('before_store', 'after_store'), afterBatches: fc.integer({ min: 0, max: 3 }), code: fc.constant(3) }),
      { nil: undefined },
    )
    const runArb = fc.record({
      poolSize: fc.integer({ min: 1, max: 3 }),
      batchSize: fc.constantFrom(1, 7, 100, 500, 2_000, 3_000),
      lingerMs: fc.integer({ min: 0, max: 20 }),
      shutdown: fc.oneof(fc.constant('brutal_kill' as const), fc.integer({ min: 0, max: 200 })),
      fault: faultArb,
      stopAfterMs: fc.integer({ min: 0, max: 400 }),
      timeoutMs: fc.constantFrom(1, 2, 10, 50, 200, 1_000),
    })
    // Bounded in time: once 25 s are spent the remaining runs pass at once (a run in progress is
    // never cut off, so no pipeline outlives the test).
    const budgetEnd = Date.now() + 25_000
    let runs = 0
    await fc.assert(
      fc.asyncProperty(runArb, async (r) => {
        if (Date.now() > budgetEnd) return
        runs++
        const path = dbPath()
        const ring = RingBuffer.create({ size: 1 << 13 })
        const p = await PipelineManager.start({
          ring,
          store: { kind: 'sqlite', path },
          poolSize: r.poolSize,
          batchSize: r.batchSize,
          lingerMs: r.lingerMs,
          shutdown: r.shutdown,
          batchTimeoutMs: 300,
          maxRestarts: 1_000,
          restartBackoffMs: 1,
        })
        if (r.fault) await p.setWriterFault(0, r.fault as FaultSwitch)
        // The application: writes as fast as the ring takes it until the ring closes; one event in
        // a hundred has no type, so validation quarantines it.
        let k = 0
        const producing = (async () => {
          for (;;) {
            for (let i = 0; i < 500; i++, k++) {
              const w = ring.write(k % 100 === 99 ? { n: k } : { type: 'call', pid: `<0.${k % 7}.0>`, n: k })
              if (!w.ok && w.reason === 'closed') return
              if (!w.ok) break
            }
            await new Promise((resolve) => setImmediate(resolve))
          }
        })()
        await new Promise((resolve) => setTimeout(resolve, r.stopAfterMs))
        const report = await p.stop({ timeoutMs: r.timeoutMs })
        await producing
        checkAgainstFile(report, ring, path)
      }),
      { numRuns: 40, endOnFailure: true },
    )
    expect(runs).toBeGreaterThanOrEqual(5)
  }, 120_000)
})
