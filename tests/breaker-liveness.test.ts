// The breaker's liveness on real writer threads and a real SQLite file: after the last store fault
// clears, every accepted event is stored within a bounded time, with no new traffic to help.
// Little traffic on purpose: one writer holds the only claim while the other has nothing to store,
// the case where a half-open probe taken by an idle writer used to hold the breaker forever.

import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { PipelineManager } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-liveness-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A burst of store faults: its kind, how long it lasts, and the quiet after it. */
const burst = fc.record({
  mode: fc.constantFrom('offline' as const, 'transient' as const),
  ms: fc.integer({ min: 100, max: 700 }),
  gapMs: fc.integer({ min: 0, max: 300 }),
})
/** A few events written as the first burst begins (one writer usually claims them all), then the bursts. */
const schedule = fc.record({ events: fc.integer({ min: 1, max: 5 }), bursts: fc.array(burst, { minLength: 1, maxLength: 3 }) })

describe('PipelineManager with a failing store', () => {
  it('stores every accepted event within a bounded time after the last fault clears, with no new traffic', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(schedule, async ({ events, bursts }) => {
        const control = new FaultyStoreControl()
        const ring = RingBuffer.create({ size: 1 << 10 })
        const pipeline = await PipelineManager.start({
          ring,
          store: { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path: join(dir, `run-${run++}.db`) }, control: control.buffer } },
          poolSize: 2,
          // A long retry backoff keeps the failing writer asleep past the cool-down, so that the idle one asks first.
          retryBaseMs: 1_500,
          retryMaxMs: 1_500,
          breaker: { minRequests: 1, coolDownMs: 100, windowMs: 1_000 },
        })
        try {
          for (const [i, b] of bursts.entries()) {
            control.mode = b.mode
            if (i === 0) for (let n = 0; n < events; n++) expect(ring.write({ type: 'call', n }).ok).toBe(true)
            await sleep(b.ms)
            control.heal()
            await sleep(b.gapMs)
          }
          const stored = () => pipeline.getMetrics().totals.eventsStored
          await until(() => stored() === events, 30_000, `all ${events} accepted events stored after the faults (breaker ${pipeline.getMetrics().breaker.state})`)
          const report = await pipeline.stop({ timeoutMs: 10_000 })
          expect(report).toMatchObject({ accepted: events, stored: events, inFlight: 0, balanced: true })
        } finally {
          await pipeline.stop({ timeoutMs: 5_000 })
        }
      }),
      // Each run is real threads and seconds of time: few runs, and no shrinking of a failure.
      { numRuns: 3, endOnFailure: true },
    )
  }, 150_000)
})
