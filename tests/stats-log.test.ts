import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { PipelineManager } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

// The pipeline logs itself through its pino logger: a periodic stats line when asked, and warnings
// when something needs a person's attention.

const dir = mkdtempSync(join(tmpdir(), 'ringside-stats-log-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function capture() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = []
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as (typeof lines)[number]) })
  return { lines, logger }
}

describe('statsLogIntervalMs', () => {
  it('logs a stats line on its interval, and stops when set to 0 live', async () => {
    const { lines, logger } = capture()
    const ring = RingBuffer.create({ size: 256 })
    const p = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1, logger, statsLogIntervalMs: 100 })
    try {
      ring.write({ type: 'call' })
      const stats = () => lines.filter((l) => l.msg === 'pipeline stats')
      await until(() => stats().length >= 2, 30_000, 'two stats lines')
      expect(stats()[0]).toMatchObject({ level: 30, writers: '1/1', restarts: 0, breaker: 'closed' })
      expect(typeof stats()[0]!.ringFill).toBe('number')
      await p.updateConfig({ statsLogIntervalMs: 0 })
      const seen = stats().length
      await new Promise((r) => setTimeout(r, 600))
      expect(stats().length).toBe(seen)
    } finally {
      await p.stop()
    }
  })

  it('is off by default', async () => {
    const { lines, logger } = capture()
    const p = await PipelineManager.start({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'memory' }, poolSize: 1, logger })
    await new Promise((r) => setTimeout(r, 300))
    await p.stop()
    expect(lines.filter((l) => l.msg === 'pipeline stats')).toEqual([])
  })
})

describe('warning logs', () => {
  it('warns when the store breaker trips', async () => {
    const { lines, logger } = capture()
    const control = new FaultyStoreControl()
    const ring = RingBuffer.create({ size: 256 })
    const p = await PipelineManager.start({
      ring,
      logger,
      poolSize: 1,
      retryBaseMs: 5,
      retryMaxMs: 20,
      breaker: { minRequests: 2, coolDownMs: 200, windowMs: 2_000 },
      store: { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path: join(dir, 'b.db') }, control: control.buffer } },
    })
    try {
      control.mode = 'offline'
      ring.write({ type: 'call' })
      await until(() => lines.some((l) => l.level === 40 && /store circuit breaker opened/.test(l.msg)), 30_000, 'a breaker warning')
      control.heal()
      await until(() => p.getMetrics().totals.eventsStored === 1, 30_000, 'the event stored after the outage')
    } finally {
      await p.stop()
    }
  })
})
