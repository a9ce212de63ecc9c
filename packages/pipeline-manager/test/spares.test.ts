import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineConfigError, PipelineManager, type PipelineOptions } from '../src/index.js'
import { produce, until } from './fixtures/produce.js'
import { sqliteTruth, storedCount } from './fixtures/sqlite-truth.js'

// Warm spares with real writer threads and a real SQLite file.

const dir = mkdtempSync(join(tmpdir(), 'ringside-spares-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
let open: PipelineManager[] = []
afterEach(async () => {
  await Promise.all(open.map((p) => p.stop({ timeoutMs: 2_000 })))
  open = []
})
async function start(options: Partial<PipelineOptions> = {}): Promise<{ p: PipelineManager; ring: RingBuffer; path: string }> {
  const ring = RingBuffer.create({ size: 1 << 13 })
  const path = join(dir, `e-${++n}.db`)
  const p = await PipelineManager.start({ ring, store: { kind: 'sqlite', path }, poolSize: 2, spares: 1, maxRestarts: 20, batchSize: 200, lingerMs: 2, ...options })
  open.push(p)
  return { p, ring, path }
}
const readySpares = (p: PipelineManager) => p.getState().spares.filter((s) => s.state === 'running')

describe('spares', () => {
  it('starts a ready spare that is not a member and claims nothing', async () => {
    const { p, ring } = await start()
    const spare = p.getState().spares
    expect(spare).toHaveLength(1)
    expect(spare[0]!.state).toBe('running')
    expect(p.getState().members.map((m) => m.slot)).not.toContain(spare[0]!.slot)
    const prod = produce(ring, { total: 5_000 })
    await prod.done
    await until(() => p.getMetrics().totals.eventsStored === 5_000, 30_000, 'events stored')
    const row = p.getMetrics().writers.find((w) => w.slot === spare[0]!.slot)
    expect(row).toBeUndefined() // not a member: not among the writers
  }, 180_000)

  it('takes a dead writer\'s place at once, with its claims, and every event is stored exactly once', async () => {
    const { p, ring, path } = await start()
    const restarted: { slot: number; spare?: boolean; delayMs: number }[] = []
    p.on('writer_restarted', (e) => restarted.push(e))
    const spareSlot = p.getState().spares[0]!.slot
    const prod = produce(ring, { total: 40_000 })
    await until(() => p.getMetrics().totals.eventsStored > 2_000, 30_000, 'first events stored')
    await p.killWriter(0)
    await until(() => restarted.length === 1, 10_000, 'a writer took the dead one\'s place')
    expect(restarted[0]).toMatchObject({ slot: spareSlot, spare: true, delayMs: 0 })
    expect(p.getState().members.map((m) => m.slot).sort()).toEqual([1, spareSlot].sort())
    expect(p.getState().restarts.total).toBe(1)
    // A new spare is started in the background.
    await until(() => readySpares(p).length === 1, 30_000, 'a new spare')
    expect(readySpares(p)[0]!.slot).not.toBe(spareSlot)
    await prod.done
    // Counted in the file: a writer killed between its commit and its metrics leaves the heir duplicates.
    await until(() => storedCount(path, ring.id) === 40_000, 60_000, 'every event stored')
    const report = await p.stop()
    expect(report.balanced).toBe(true)
    const truth = sqliteTruth(path, ring.id)
    expect(truth.events.size).toBe(40_000)
  }, 180_000)

  it('keeps taking over through several kills, spending the restart budget like restarts', async () => {
    const { p, ring, path } = await start({ maxRestarts: 3, maxSeconds: 60 })
    const escalated: unknown[] = []
    p.on('escalated', (e) => escalated.push(e))
    const prod = produce(ring, { total: 30_000 })
    for (let k = 0; k < 3; k++) {
      await until(() => readySpares(p).length === 1 && p.getState().members.filter((m) => m.state === 'running').length === 2, 30_000, 'pool and spare ready')
      await p.killWriter(p.getState().members[0]!.slot)
      await until(() => p.getState().restarts.total === k + 1, 10_000, `takeover ${k + 1}`)
    }
    expect(p.getState().restarts.inWindow).toBe(3)
    expect(escalated).toHaveLength(0)
    await prod.done
    await until(() => storedCount(path, ring.id) === 30_000, 60_000, 'every event stored')
    expect(sqliteTruth(path, ring.id).events.size).toBe(30_000)
  }, 180_000)

  it('replaces a killed spare', async () => {
    const { p } = await start({ restartBackoffMs: 10 })
    const first = readySpares(p)[0]!
    const exited: { slot: number; reason: string }[] = []
    p.on('writer_exited', (e) => exited.push(e))
    await p.killWriter(first.slot)
    await until(() => exited.length === 1, 10_000, 'the spare exited')
    expect(exited[0]).toMatchObject({ slot: first.slot, reason: 'crash' })
    await until(() => readySpares(p).length === 1 && readySpares(p)[0]!.threadId !== first.threadId, 30_000, 'a new spare')
    expect(p.getState().restarts.total).toBe(1)
    expect(p.getState().members.filter((m) => m.state === 'running')).toHaveLength(2)
  }, 180_000)

  it('keeps its spare apart when the pool is scaled up and down', async () => {
    const { p, ring } = await start({ maxPoolSize: 4 })
    const spareSlot = p.getState().spares[0]!.slot
    await p.scalePool(3)
    const members = p.getState().members
    expect(members).toHaveLength(3)
    expect(members.map((m) => m.slot)).not.toContain(spareSlot)
    expect(readySpares(p).map((s) => s.slot)).toEqual([spareSlot])
    await expect(p.scalePool(4)).rejects.toBeInstanceOf(PipelineConfigError) // 4 + 1 spare > maxPoolSize
    await p.scalePool(1)
    expect(p.getState().members).toHaveLength(1)
    expect(readySpares(p)).toHaveLength(1)
    const prod = produce(ring, { total: 5_000 })
    await prod.done
    await until(() => p.getMetrics().totals.eventsStored === 5_000, 30_000, 'events stored with one writer')
    // The one writer dies: the spare takes its place.
    await p.killWriter(p.getState().members[0]!.slot)
    await until(() => p.getState().members.some((m) => m.slot === spareSlot && m.state === 'running'), 10_000, 'the spare took over')
  }, 180_000)

  it('refuses spares that do not fit in maxPoolSize', async () => {
    const ring = RingBuffer.create({ size: 64 })
    await expect(PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 2, maxPoolSize: 2, spares: 1 })).rejects.toMatchObject({ option: 'spares' })
  })
})
