// Retention inside a running pipeline: real writer threads over a real SQLite file, with
// `retention.maxEvents` in the store spec. Slot 0's writer removes the oldest events between its
// batches while both writers keep writing: the store settles at the limit, the newest events are
// all kept, the exact counter matches the rows, and no event is stored twice.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { SqliteStore } from '@ringside/storage'
import { PipelineManager } from '@ringside/pipeline-manager'
import { untilAsync } from './fixtures/until.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-retention-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function look<T>(path: string, fn: (s: SqliteStore) => Promise<T>): Promise<T> {
  const s = SqliteStore.open({ path, readOnly: true })
  try {
    return await fn(s)
  } finally {
    await s.close()
  }
}

describe('retention in a running pipeline', () => {
  it('keeps the store at maxEvents while two writers write, losing none of the newest and counting each once', async () => {
    const path = join(dir, 'count.db')
    const limit = 3_000
    const ring = RingBuffer.create({ size: 1 << 14, overflowStrategy: 'drop_newest' })
    const p = await PipelineManager.start({ ring, store: { kind: 'sqlite', path, retention: { maxEvents: limit } }, poolSize: 2 })
    let written = 0
    let report: Awaited<ReturnType<typeof p.stop>> | undefined
    try {
      // Bursts the ring can hold, each written once the last is stored, so nothing is dropped.
      for (let burst = 0; burst < 12; burst++) {
        for (let i = 0; i < 2_000; i++) {
          const r = ring.write({ type: 'call', module: 'Shop.Cart', function: 'add', arity: 2, n: written })
          expect(r.ok).toBe(true)
          written++
        }
        await untilAsync(async () => p.getMetrics().totals.eventsStored >= written, 60_000, `burst ${burst} stored`)
      }
      // Retention keeps running while the pipeline does: the store comes down to the limit.
      await untilAsync(async () => (await look(path, (s) => s.countByRing(ring.id))).events <= limit, 60_000, 'the store down to maxEvents')
    } finally {
      report = await p.stop()
    }
    // Pruned events were stored first: the report counts them as stored, says how many are gone, and balances.
    expect(report).toMatchObject({ accepted: written, stored: written, pruned: written - limit, inFlight: 0, countedBy: 'store', balanced: true })
    const { rows, stats, seqs } = await look(path, async (s) => ({
      rows: (await s.countByRing(ring.id)).events,
      stats: await s.stats(),
      seqs: (await s.query({ order: 'asc' })).map((r) => r.seq),
    }))
    expect(rows).toBe(limit)
    expect(stats.totalEvents).toBe(rows)
    // The newest `limit` events, every one of them, once each.
    expect(seqs).toEqual(Array.from({ length: limit }, (_, i) => written - limit + i))
  }, 180_000)

  it('refuses a bad retention option at start, naming its path', async () => {
    const ring = RingBuffer.create({ size: 64 })
    const err = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: join(dir, 'bad.db'), retention: { maxEvents: -1 } }, poolSize: 1 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'PipelineConfigError', code: 'invalid_option', option: 'store.retention.maxEvents' })
    expect((err as Error).message).toMatch(/sqlite option 'retention\.maxEvents' must be an integer from 0/)
  })
})
