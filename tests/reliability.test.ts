import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore } from '@ringside/storage'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { PipelineManager } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

// Store faults with real writer threads and a real SQLite file behind the fault-injection wrapper.

const dir = mkdtempSync(join(tmpdir(), 'ringside-rel-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
/** A pipeline into SQLite behind the fault-injection wrapper, driven by the returned control. */
async function startFaulty(path: string, options: Partial<Parameters<typeof PipelineManager.start>[0]>) {
  const control = new FaultyStoreControl()
  const ring = RingBuffer.create({ size: 1 << 14 })
  const pipeline = await PipelineManager.start({
    ring,
    store: { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path }, control: control.buffer } },
    poolSize: 2,
    ...options,
  })
  return { control, ring, pipeline }
}


describe('store health probe', () => {
  it('shows an outage of the store in the health check while it lasts, and stores everything after', async () => {
    const path = join(dir, 'probe.db')
    const { control, ring, pipeline } = await startFaulty(path, { retryBaseMs: 5, retryMaxMs: 50, health: { storeProbeMs: 100 } })
    const storeCheck = () => pipeline.healthCheck().checks.find((c) => c.name === 'store')
    await until(() => storeCheck()?.status === 'healthy', 5_000, 'first probe answered')
    control.mode = 'offline'
    for (let k = 0; k < 300; k++) expect(ring.write({ type: 'call', pid: '<0.1.0>', n: k }).ok).toBe(true)
    await until(() => storeCheck()?.status === 'degraded', 5_000, 'outage shown')
    expect(storeCheck()!.reason).toBe('store unhealthy: injected outage: store offline')
    expect(pipeline.healthCheck().status).not.toBe('healthy')
    control.heal()
    await until(() => storeCheck()?.status === 'healthy', 5_000, 'recovery shown')
    const report = await pipeline.stop({ timeoutMs: 20_000 })
    expect(report).toMatchObject({ accepted: 300, stored: 300, inFlight: 0, balanced: true })
  })

  it('can be switched off, and on again live', async () => {
    const { pipeline } = await startFaulty(join(dir, 'probe-off.db'), { health: { storeProbeMs: 0 } })
    await new Promise((r) => setTimeout(r, 200))
    expect(pipeline.healthCheck().checks.map((c) => c.name)).not.toContain('store')
    await pipeline.updateConfig({ health: { storeProbeMs: 50 } })
    await until(() => pipeline.healthCheck().checks.some((c) => c.name === 'store'), 5_000, 'probe on')
    await pipeline.stop()
  })
})

describe('circuit breaker', () => {
  it('opens while the store is offline (the ring absorbs, health is degraded), then stores everything after recovery', async () => {
    const path = join(dir, 'breaker.db')
    const { control, ring, pipeline } = await startFaulty(path, {
      retryBaseMs: 5,
      retryMaxMs: 20,
      breaker: { minRequests: 4, failureRateThreshold: 0.5, coolDownMs: 200, windowMs: 5_000 },
    })
    const write = (from: number, n: number) => {
      for (let k = from; k < from + n; k++) expect(ring.write({ type: 'call', pid: '<0.1.0>', n: k }).ok).toBe(true)
    }
    write(0, 500)
    await until(() => pipeline.getMetrics().totals.eventsStored === 500, 10_000, 'first events stored')
    control.mode = 'offline'
    write(500, 2_000)
    await until(() => pipeline.getMetrics().breaker.state !== 'closed', 10_000, 'breaker opened')
    const health = pipeline.healthCheck()
    expect(health.status).toBe('degraded')
    expect(health.checks.find((c) => c.name === 'store_breaker')!.reason).toMatch(/circuit breaker (open|half-open)/)
    write(2_500, 1_000) // the ring absorbs while the breaker is open
    expect(ring.stats().ready + ring.stats().claimed).toBeGreaterThan(1_000)
    expect(pipeline.getMetrics().breaker.trips).toBeGreaterThanOrEqual(1)
    control.heal()
    await until(() => pipeline.getMetrics().breaker.state === 'closed', 10_000, 'breaker closed again')
    const report = await pipeline.stop({ timeoutMs: 20_000 })
    expect(report).toMatchObject({ accepted: 3_500, stored: 3_500, quarantined: 0, inFlight: 0, balanced: true })
    const store = await createStore({ kind: 'sqlite', path })
    expect((await store.stats()).totalEvents).toBe(3_500)
    await store.close()
  })

  it('takes new breaker thresholds live', async () => {
    const ring = RingBuffer.create({ size: 1 << 10 })
    const pipeline = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1 })
    const eff = await pipeline.updateConfig({ breaker: { coolDownMs: 5_000 } })
    expect(eff.breaker).toMatchObject({ coolDownMs: 5_000, minRequests: 10 })
    await expect(pipeline.updateConfig({ breaker: { failureRateThreshold: 3 } })).rejects.toMatchObject({ option: 'breaker.failureRateThreshold' })
    await pipeline.stop()
  })
})

describe('poison events', () => {
  it('isolates events that fail permanently into dead letters, stores the rest, and counts them as quarantined', async () => {
    const path = join(dir, 'poison.db')
    const { control, ring, pipeline } = await startFaulty(path, { retryBaseMs: 1, retryMaxMs: 5, batchSize: 200 })
    control.rejectPoison = true
    let poisoned = 0
    for (let n = 0; n < 5_000; n++) {
      const poison = n % 997 === 13
      if (poison) poisoned++
      ring.write({ type: 'call', n, ...(poison ? { poison: true } : {}) })
    }
    const report = await pipeline.stop({ timeoutMs: 20_000 })
    expect(report).toMatchObject({ accepted: 5_000, stored: 5_000 - poisoned, quarantined: poisoned, inFlight: 0, countedBy: 'store', balanced: true })
    const store = await createStore({ kind: 'sqlite', path })
    const dead = await store.listDeadLetters()
    expect(dead.map((d) => d.reason)).toEqual(new Array(poisoned).fill('permanent_error'))
    expect(dead.every((d) => d.record.event.poison === true)).toBe(true)
    await store.close()
  })
})
