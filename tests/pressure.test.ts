import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore } from '@ringside/storage'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { PipelineManager, type PressureEvent } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

// Backpressure end to end, with real writer threads and a real SQLite file behind a store slowed
// down on purpose: the ring fills, the pipeline reports 'pressure', the application turns the
// ring's sampling on in its listener, sampling thins out the calls (never the errors), and the
// stop report still puts every offered event in one bucket.

const dir = mkdtempSync(join(tmpdir(), 'ringside-pressure-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const tick = () => new Promise((r) => setImmediate(r))

describe('pressure and sampling', () => {
  it('reports the ring filling behind a slow store, lets the application sample, and still accounts for every event', async () => {
    const path = join(dir, 'slow.db')
    const control = new FaultyStoreControl()
    control.slowMs = 200
    const ring = RingBuffer.create({ size: 1024 })
    const pipeline = await PipelineManager.start({
      ring,
      store: { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path }, control: control.buffer } },
      poolSize: 1,
      batchSize: 20,
      pressure: { levels: [0.5, 0.9], hysteresis: 0.1, intervalMs: 20 },
    })
    const events: PressureEvent[] = []
    // What an application does: sample from the first level up, stop sampling once back below it.
    pipeline.on('pressure', (e) => {
      events.push(e)
      if (e.rising) ring.setSampling({ above: 0.5, keepOneIn: 10, alwaysKeep: ['error'] })
      else if (e.level === 0) ring.setSampling(null)
    })

    let errors = 0
    const refusedErrors: string[] = []
    let n = 0
    // Write until sampling has left out a good number of calls, yielding so the sampler runs.
    while (ring.stats().dropped.sampled < 500) {
      for (let k = 0; k < 50; k++, n++) {
        const type = n % 10 === 0 ? 'error' : 'call'
        const r = ring.write({ type, n })
        if (type === 'error') {
          if (r.ok) errors++
          else refusedErrors.push(r.reason)
        }
      }
      await tick()
      if (n > 2_000_000) throw new Error('sampling never started')
    }
    // The first crossing is up, driven by the ring (a sample may see it past both levels at once).
    expect(events[0]).toMatchObject({ previous: 0, rising: true, reason: 'ring_fill' })
    expect([0.5, 0.9]).toContain(events[0]!.level)
    expect(events[0]!.value).toBeGreaterThanOrEqual(events[0]!.level)
    // Errors are never sampled out; only a full ring refuses them.
    expect(refusedErrors.every((r) => r === 'full')).toBe(true)

    // The store recovers: the ring drains and the pressure falls back below every level.
    control.heal()
    await until(() => events.some((e) => !e.rising && e.level === 0), 30_000, 'pressure fell to 0')
    expect(ring.sampling).toBeNull()
    expect(pipeline.pressure.level).toBe(0)

    const report = await pipeline.stop({ timeoutMs: 30_000 })
    const s = ring.stats()
    expect(report.rejected.sampled).toBe(s.dropped.sampled)
    expect(report.rejected.sampled).toBeGreaterThanOrEqual(500)
    expect(report.offered).toBe(n)
    expect(report.offered).toBe(report.accepted + Object.values(report.rejected).reduce((a, b) => a + b, 0))
    expect(report).toMatchObject({ stored: report.accepted, inFlight: 0, quarantined: 0, balanced: true, countedBy: 'store' })
    const store = await createStore({ kind: 'sqlite', path })
    try {
      expect((await store.query({ type: 'error', limit: 1_000_000 })).length).toBe(errors)
    } finally {
      await store.close()
    }
  })
})
