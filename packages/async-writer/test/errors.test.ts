import { describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { FaultyStoreControl, createFaultyStore } from '@ringside/storage/testing'
import { AsyncWriter, WRITER_DEFAULTS, WriterMetrics, applyWriterPatch, createMetricsBuffer, loadStages, maybeFault } from '../src/protocol.js'

// Every error the writer throws has a stable code; callers never match message text.

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('loadStages', () => {
  it('refuses a stage that cannot be loaded with stage_load_failed, naming the stage and keeping the cause', async () => {
    const err = await loadStages([{ target: '/nope/missing-stage.js' }]).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'StageLoadError', code: 'stage_load_failed', stage: 0, target: '/nope/missing-stage.js', cause: { code: 'ERR_MODULE_NOT_FOUND' } })
  })

  it('refuses a module without a stage factory with stage_load_failed', async () => {
    const err = await loadStages([{ target: 'node:path' }]).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'stage_load_failed', stage: 0 })
  })
})

describe('applyWriterPatch', () => {
  it('refuses a malformed patch with invalid_writer_config naming the key', () => {
    expect(() => applyWriterPatch(WRITER_DEFAULTS, { batchSize: -1 })).toThrow(expect.objectContaining({ name: 'WriterConfigError', code: 'invalid_writer_config', key: 'batchSize' }))
    expect(() => applyWriterPatch(WRITER_DEFAULTS, { nonsense: 1 } as never)).toThrow(expect.objectContaining({ code: 'invalid_writer_config', key: 'nonsense' }))
  })
})

describe('maybeFault', () => {
  it('throws injected_crash for a crash switch that fires', () => {
    expect(() => maybeFault({ kind: 'crash' }, 0, 'after_store')).toThrow(expect.objectContaining({ code: 'injected_crash' }))
  })
})

describe('AsyncWriter.stop', () => {
  it('gives up on a store still failing while stopping with store_failed_while_stopping, leaving the claim for an heir', async () => {
    const control = new FaultyStoreControl()
    control.mode = 'offline'
    const store = await createFaultyStore({ inner: { kind: 'memory' }, control: control.buffer })
    const ring = RingBuffer.create({ size: 1024 })
    const buffer = createMetricsBuffer(1)
    const writer = new AsyncWriter({
      writerId: 'writer-1',
      consumer: ring.consumer(0),
      store,
      stages: [],
      metrics: new WriterMetrics(buffer, 0),
      config: { ...WRITER_DEFAULTS, lingerMs: 1, pollIntervalMs: 5, retryBaseMs: 5, retryMaxMs: 10 },
    })
    const loop = writer.start().catch((e: unknown) => e)
    for (let k = 0; k < 10; k++) ring.write({ type: 'call', k })
    await until(() => ring.stats().claimed === 10)
    await writer.stop().catch(() => undefined)
    expect(await loop).toMatchObject({ code: 'store_failed_while_stopping', cause: { code: expect.any(String) } })
    expect(ring.stats().claimed).toBe(10)
  })
})
