import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore } from '@ringside/storage'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { PipelineManager, type PipelineOptions } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

// The store retry policy in a real writer thread against a real failing store (the faulty store
// over a SQLite file): attempts, the code filter, and the default of retrying without limit.

const dir = mkdtempSync(join(tmpdir(), 'ringside-retry-policy-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

/** A ring holding `events` events before any writer starts (so the first claim takes them all), and a faulty store failing transiently. */
function setup(events: number) {
  const path = join(dir, `r${++n}.db`)
  const control = new FaultyStoreControl()
  control.mode = 'transient'
  const ring = RingBuffer.create({ size: 256 })
  for (let k = 0; k < events; k++) ring.write({ type: 'call', k })
  const options = (extra: Partial<PipelineOptions>): PipelineOptions => ({
    ring,
    store: { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path }, control: control.buffer } },
    poolSize: 1,
    breaker: { minRequests: 1_000 }, // the breaker stays closed: these tests are about the policy alone
    ...extra,
  })
  return { path, control, ring, options }
}

describe('retry.maxAttempts', () => {
  it('sends a batch the store keeps failing to the dead letters as retries_exhausted after maxAttempts', async () => {
    const { path, control, options } = setup(5)
    const p = await PipelineManager.start(options({ retry: { maxAttempts: 3, baseMs: 1, maxMs: 5 } }))
    try {
      // Three failed storeEvents calls, then the dead letters (failing too, retried until healed).
      await until(() => control.failures >= 4, 30_000, 'three attempts and a dead-letter call')
      control.heal()
      await until(() => p.getMetrics().totals.retriesExhausted === 5, 30_000, 'five events given up')
    } finally {
      const report = await p.stop({ timeoutMs: 20_000 })
      expect(report).toMatchObject({ stored: 0, quarantined: 5, inFlight: 0, balanced: true })
    }
    const store = await createStore({ kind: 'sqlite', path })
    try {
      const dead = await store.listDeadLetters()
      expect(dead).toHaveLength(5)
      for (const d of dead) {
        expect(d).toMatchObject({ reason: 'retries_exhausted', attempts: 3 })
        expect(d.error).toContain('gave up after 3 attempts')
      }
    } finally {
      await store.close()
    }
  })
})

describe('retry.shouldRetry', () => {
  it('sends the batch to the dead letters at once when the error code is not one to retry', async () => {
    const { path, control, options } = setup(3)
    const p = await PipelineManager.start(options({ retry: { maxAttempts: 50, shouldRetry: { codes: ['busy'] } } }))
    try {
      await until(() => control.failures >= 2, 30_000, 'one attempt and a dead-letter call')
      control.heal()
      await until(() => p.getMetrics().totals.retriesExhausted === 3, 30_000, 'three events given up')
      expect(p.getMetrics().totals.eventsStored).toBe(0)
    } finally {
      await p.stop({ timeoutMs: 20_000 })
    }
    const store = await createStore({ kind: 'sqlite', path })
    try {
      const dead = await store.listDeadLetters()
      expect(dead.map((d) => [d.reason, d.attempts])).toEqual(new Array(3).fill(['retries_exhausted', 1]))
      expect(dead[0]!.error).toContain('shouldRetry refuses code io_error')
    } finally {
      await store.close()
    }
  })
})

describe('retry', () => {
  it('is off by default: a failing batch is retried without limit and stored once the store heals', async () => {
    const { control, options } = setup(4)
    const p = await PipelineManager.start(options({ retryBaseMs: 1, retryMaxMs: 5 }))
    try {
      await until(() => control.failures >= 20, 30_000, 'twenty failed attempts')
      expect(p.getMetrics().totals.retriesExhausted).toBe(0)
      control.heal()
      await until(() => p.getMetrics().totals.eventsStored === 4, 30_000, 'every event stored')
    } finally {
      const report = await p.stop({ timeoutMs: 20_000 })
      expect(report).toMatchObject({ stored: 4, quarantined: 0, balanced: true })
    }
  })

  it('is set and turned off live through updateConfig', async () => {
    const { control, options } = setup(2)
    const p = await PipelineManager.start(options({ retryBaseMs: 1, retryMaxMs: 5 }))
    try {
      await until(() => control.failures >= 5, 30_000, 'failed attempts')
      const c = await p.updateConfig({ retry: { maxAttempts: 2, baseMs: 1, maxMs: 5, multiplier: 3 } })
      expect(c.retry).toEqual({ maxAttempts: 2, baseMs: 1, maxMs: 5, multiplier: 3 })
      // The batch in hand already spent its two attempts: the next failure gives it up.
      await until(() => control.failures >= 10, 30_000, 'dead letters tried')
      control.heal()
      await until(() => p.getMetrics().totals.retriesExhausted === 2, 30_000, 'given up under the new policy')
      expect((await p.updateConfig({ retry: null })).retry).toBeUndefined()
    } finally {
      await p.stop({ timeoutMs: 20_000 })
    }
  })

  it('refuses a malformed policy naming its path', async () => {
    const { options } = setup(0)
    await expect(PipelineManager.start(options({ retry: { baseMs: 10, maxMs: 5 } }))).rejects.toMatchObject({ code: 'invalid_option', option: 'retry.maxMs' })
    await expect(PipelineManager.start(options({ retry: { shouldRetry: { codes: [1] } } as never }))).rejects.toMatchObject({ code: 'invalid_option', option: 'retry.shouldRetry.codes' })
    await expect(PipelineManager.start(options({ retry: { tries: 3 } as never }))).rejects.toMatchObject({ code: 'invalid_option', option: 'retry.tries' })
  })
})
