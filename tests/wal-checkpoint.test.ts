// WAL checkpoints outside the writers' turns, in a running pipeline: two real writer threads on one
// SQLite file with SQLite's own autocheckpoint off (walAutocheckpointPages 0), so only the writers'
// checkpoints keep the WAL in bounds. Under continuous writes the WAL file stays far below what the
// writes amount to, and after stop every event is in the file, once.

import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { SqliteStore } from '@ringside/storage'
import { PipelineManager } from '@ringside/pipeline-manager'
import { untilAsync } from './fixtures/until.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-wal-checkpoint-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const sizeOf = (p: string): number => statSync(p, { throwIfNoEntry: false })?.size ?? 0

describe('checkpoints outside the writers’ turns', () => {
  it('keep the WAL file bounded while two writers write continuously, and every event is in the file after stop', async () => {
    const path = join(dir, 'continuous.db')
    const ring = RingBuffer.create({ size: 1 << 16, overflowStrategy: 'drop_newest' })
    const p = await PipelineManager.start({ ring, store: { kind: 'sqlite', path, walCheckpointPages: 200, walAutocheckpointPages: 0 }, poolSize: 2 })
    let written = 0
    let largestWal = 0
    let report: Awaited<ReturnType<typeof p.stop>> | undefined
    try {
      // Bursts the ring can hold, each written once the last is stored, so nothing is dropped
      // and both writers stay busy; the WAL is looked at after every burst.
      for (let burst = 0; burst < 5; burst++) {
        for (let i = 0; i < 40_000; i++) {
          const r = ring.write({ type: 'call', module: 'Shop.Cart', function: 'add', arity: 2, pid: `<0.${i % 50}.0>`, n: written, note: 'x'.repeat(64) })
          expect(r.ok).toBe(true)
          written++
        }
        await untilAsync(async () => p.getMetrics().totals.eventsStored >= written, 60_000, `burst ${burst} stored`)
        largestWal = Math.max(largestWal, sizeOf(`${path}-wal`))
      }
    } finally {
      report = await p.stop()
    }
    expect(report).toMatchObject({ accepted: written, stored: written, inFlight: 0, balanced: true })
    // Every page of the database went through the WAL at least once: a WAL that never started over
    // would be at least as large as the database. Bounded: a small fraction of it.
    const database = sizeOf(path)
    expect(database).toBeGreaterThan(16 << 20)
    expect(largestWal).toBeLessThan(database / 4)
    const s = SqliteStore.open({ path, readOnly: true })
    try {
      expect((await s.countByRing(ring.id)).events).toBe(written)
      expect((await s.stats()).totalEvents).toBe(written)
    } finally {
      await s.close()
    }
  }, 300_000)
})
