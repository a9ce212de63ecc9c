import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineManager, type PipelineOptions } from '../src/index.js'
import { produce, until } from './fixtures/produce.js'

// The control path with real writer threads: config changes are all or nothing, concurrent
// control calls converge to the last request, and every writer runs the config in force.

const dir = mkdtempSync(join(tmpdir(), 'ringside-control-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const dbPath = () => join(dir, `events-${++n}.db`)
const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url).href

let open: PipelineManager[] = []
afterEach(async () => {
  await Promise.all(open.map((p) => p.stop({ timeoutMs: 2_000 })))
  open = []
})
async function start(options: Partial<PipelineOptions> = {}) {
  const ring = RingBuffer.create({ size: 1 << 12 })
  const p = await PipelineManager.start({ store: { kind: 'sqlite', path: dbPath() }, poolSize: 2, ...options, ring })
  open.push(p)
  return p
}
const running = (p: PipelineManager) => p.getState().members.filter((m) => m.state === 'running').length

describe('updateConfig', () => {
  it('rolls the whole change back when its scale-up fails, and rejects with config_update_failed', async () => {
    const gate = new SharedArrayBuffer(4)
    // No store probe: it would open the gated store in this thread too, and say so in the health check.
    const p = await start({ store: { target: fixture('gated-store'), options: { gate } }, batchSize: 100, maxPoolSize: 6, health: { storeProbeMs: 0 } })
    const changed: unknown[] = []
    p.on('config_changed', (e) => changed.push(e))
    Atomics.store(new Int32Array(gate), 0, 1) // from now on, a new writer cannot open its store
    const err = await p.updateConfig({ poolSize: 4, batchSize: 77, maxRestarts: 9, breaker: { coolDownMs: 2_000 } }).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'ConfigUpdateError', code: 'config_update_failed', cause: { code: 'writer_start_failed' } })
    const { config, members, restarts } = p.getState()
    expect(config).toMatchObject({ version: 1, poolSize: 2, batchSize: 100, maxRestarts: 3, breaker: { coolDownMs: 1_000 } })
    expect(members.map((m) => [m.slot, m.state])).toEqual([
      [0, 'running'],
      [1, 'running'],
    ])
    expect((await p.inspectWriters()).map((w) => w.config.batchSize)).toEqual([100, 100])
    expect(p.healthCheck().checks.filter((c) => c.status !== 'healthy')).toEqual([])
    expect(restarts.total).toBe(0) // a writer that failed to start is the caller's failure, not a child to restart
    expect(changed).toEqual([])
    // And the pipeline still takes a change that works.
    Atomics.store(new Int32Array(gate), 0, 0)
    await expect(p.updateConfig({ poolSize: 3 })).resolves.toMatchObject({ version: 2, poolSize: 3 })
    expect(running(p)).toBe(3)
  })

  it('gives a writer that is starting while a change is applied the config in force', async () => {
    const p = await start({ restartBackoffMs: 0, batchSize: 100 })
    await p.killWriter(0)
    await until(() => p.getState().members.some((m) => m.slot === 0 && m.state === 'starting'), 15_000, 'replacement starting')
    await p.updateConfig({ batchSize: 33, lingerMs: 7 })
    await until(() => running(p) === 2, 15_000, 'both writers running')
    const writers = await p.inspectWriters()
    expect(writers.map((w) => [w.writerId, w.config.batchSize, w.config.lingerMs])).toEqual([
      ['writer-1', 33, 7],
      ['writer-2', 33, 7],
    ])
  })
})

describe('scalePool', () => {
  it('converges to the last of several concurrent requests', async () => {
    const p = await start({ poolSize: 2, maxPoolSize: 8 })
    await Promise.all([p.scalePool(6), p.scalePool(1), p.scalePool(3)])
    expect(p.getState().config.poolSize).toBe(3)
    expect(p.getState().members.map((m) => m.state)).toEqual(['running', 'running', 'running'])
    expect(p.healthCheck().status).toBe('healthy')
  })

  it('starts writers up to the pool size again when asked for the size already in force', async () => {
    const p = await start({ poolSize: 2, restart: 'temporary' })
    await p.killWriter(1)
    await until(() => p.getState().members.length === 1, 15_000, 'the temporary writer gone')
    await p.scalePool(2)
    expect(running(p)).toBe(2)
    expect(p.healthCheck().status).toBe('healthy')
  })
})

describe('control calls', () => {
  type Op = { kind: 'scale'; n: number } | { kind: 'update'; patch: { poolSize?: number; batchSize?: number; lingerMs?: number } }
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('scale' as const), n: fc.integer({ min: 1, max: 5 }) }),
    fc.record({
      kind: fc.constant('update' as const),
      patch: fc.record({ poolSize: fc.integer({ min: 1, max: 5 }), batchSize: fc.integer({ min: 1, max: 3_000 }), lingerMs: fc.integer({ min: 0, max: 50 }) }, { requiredKeys: [] }),
    }),
  )

  it('converge to the last request, with as many writers as poolSize, each running the config in force', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 2, maxLength: 5 }), async (ops) => {
        const p = await start({ poolSize: 2, maxPoolSize: 6, batchSize: 500, lingerMs: 10 })
        const load = produce(p.ring)
        // Issued together: none waits for another.
        const results = await Promise.allSettled(ops.map((op) => (op.kind === 'scale' ? p.scalePool(op.n) : p.updateConfig(op.patch))))
        expect(results.map((r) => r.status)).toEqual(ops.map(() => 'fulfilled'))
        let want = { poolSize: 2, batchSize: 500, lingerMs: 10 }
        for (const op of ops) want = op.kind === 'scale' ? { ...want, poolSize: op.n } : { ...want, ...op.patch }
        const state = p.getState()
        expect({ poolSize: state.config.poolSize, batchSize: state.config.batchSize, lingerMs: state.config.lingerMs, version: state.config.version }).toEqual({ ...want, version: 1 + ops.length })
        expect(state.members.map((m) => m.state)).toEqual(Array.from({ length: want.poolSize }, () => 'running'))
        const writers = await p.inspectWriters()
        expect(writers.map((w) => [w.config.batchSize, w.config.lingerMs])).toEqual(Array.from({ length: want.poolSize }, () => [want.batchSize, want.lingerMs]))
        await load.stop()
        const report = await p.stop({ timeoutMs: 10_000 })
        expect(report).toMatchObject({ inFlight: 0, balanced: true })
        open = open.filter((q) => q !== p)
      }),
      { numRuns: 6, endOnFailure: true },
    )
  }, 120_000)
})
