import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { WRITER_DEFAULTS } from '@ringside/async-writer'
import { createBreakerBuffer, createMetricsBuffer, createStoreLockBuffer, readStoreLock, BREAKER_DEFAULTS } from '@ringside/async-writer/protocol'
import { AsyncWriterPool } from '../src/writer-pool.js'
import { storeLockFor } from '../src/supervisor/store-locks.js'
import { CALLS, HANGING, INSIDE, MOST_INSIDE, PROBE_WORDS, ARMED } from './fixtures/lock-probe-store.js'
import { sqliteTruth } from './fixtures/sqlite-truth.js'
import { produce, until } from './fixtures/produce.js'

// The writers' write lock on a SQLite file, with real writer threads and a real file: a store
// target counts in shared memory how many writers are inside a store call at once.

const dir = mkdtempSync(join(tmpdir(), 'ringside-lock-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

function poolOn(ring: RingBuffer, path: string, probe: SharedArrayBuffer, storeLock: SharedArrayBuffer | undefined): AsyncWriterPool {
  return new AsyncWriterPool({
    ring,
    store: { target: new URL('./fixtures/lock-probe-store.ts', import.meta.url).href, options: { path, probe } },
    stages: [],
    writerConfig: { ...WRITER_DEFAULTS, batchSize: 100, lingerMs: 2, batchTimeoutMs: 60_000 },
    supervision: { strategy: 'one_for_one', restart: 'permanent', shutdown: 5_000, maxRestarts: 50, maxSeconds: 5, restartBackoffMs: 10, restartBackoffMaxMs: 100 },
    metricsBuffer: createMetricsBuffer(4),
    breakerBuffer: createBreakerBuffer(BREAKER_DEFAULTS),
    maxPoolSize: 4,
    abandonAfterMs: 2_000,
    writerMaxHeapMb: 256,
    ...(storeLock ? { storeLock } : {}),
    logger: pino({ level: 'silent' }),
  })
}

describe('store write lock', () => {
  it('never lets two writers inside a store transaction at once', async () => {
    const path = join(dir, `e-${++n}.db`)
    const probe = new SharedArrayBuffer(PROBE_WORDS * 4)
    const c = new Int32Array(probe)
    const lock = createStoreLockBuffer()
    const ring = RingBuffer.create({ size: 1 << 12 })
    const pool = poolOn(ring, path, probe, lock)
    await pool.start(3)
    const p = produce(ring, { total: 20_000 })
    await p.done
    await until(() => sqliteTruthSize(path, ring.id) === 20_000, 120_000, 'every event stored')
    await pool.stopAll(5_000)
    expect(Atomics.load(c, CALLS)).toBeGreaterThan(20)
    expect(Atomics.load(c, MOST_INSIDE)).toBe(1)
    expect(readStoreLock(lock).contended).toBeGreaterThan(0) // the writers did meet at the lock
    expect(readStoreLock(lock).owner).toBe(0)
  }, 180_000)

  it('is released when its holder is killed mid-transaction, and every event is stored exactly once', async () => {
    const path = join(dir, `e-${++n}.db`)
    const probe = new SharedArrayBuffer(PROBE_WORDS * 4)
    const c = new Int32Array(probe)
    const lock = createStoreLockBuffer()
    const ring = RingBuffer.create({ size: 1 << 12 })
    const pool = poolOn(ring, path, probe, lock)
    const exits: string[] = []
    pool.on('writer_exited', (e) => exits.push(e.reason))
    await pool.start(2)
    const p = produce(ring, { total: 10_000 })
    for (let kill = 0; kill < 3; kill++) {
      Atomics.store(c, HANGING, 0)
      Atomics.store(c, ARMED, 1)
      await until(() => Atomics.load(c, HANGING) === 1, 30_000, 'a writer hangs inside its transaction')
      const holder = readStoreLock(lock).owner
      const m = pool.members().find((x) => x.threadId === holder)
      expect(m, 'the hanging writer holds the lock').toBeDefined()
      // While it hangs holding the lock, nobody else gets into a store call.
      const calls = Atomics.load(c, CALLS)
      await new Promise((r) => setTimeout(r, 200))
      expect(Atomics.load(c, CALLS)).toBe(calls)
      await pool.kill(m!.slot)
      // The other writer (and the heir) store again: the lock and SQLite's own lock were both freed.
      await until(() => Atomics.load(c, CALLS) > calls + 5, 30_000, 'stores resume after the kill')
    }
    await p.done
    await until(() => sqliteTruthSize(path, ring.id) === 10_000, 60_000, 'every event stored')
    await pool.stopAll(5_000)
    const truth = sqliteTruth(path, ring.id)
    expect(truth.events.size).toBe(10_000)
    expect([...truth.events].every((s) => s >= 0 && s < 10_000)).toBe(true)
    expect(exits.filter((r) => r === 'crash')).toHaveLength(3)
    expect(Atomics.load(c, MOST_INSIDE)).toBe(1)
    expect(Atomics.load(c, INSIDE)).toBe(3) // the killed writers' calls never left; nobody else is inside
    expect(readStoreLock(lock).owner).toBe(0)
  }, 240_000)
})

describe('storeLockFor', () => {
  it('gives one lock per SQLite file and none to other stores', () => {
    const a = storeLockFor({ kind: 'sqlite', path: join(dir, 'x.db') })
    expect(a).toBeInstanceOf(SharedArrayBuffer)
    expect(storeLockFor({ kind: 'sqlite', path: join(dir, '.', 'x.db') })).toBe(a)
    expect(storeLockFor({ kind: 'sqlite', path: join(dir, 'y.db') })).not.toBe(a)
    expect(storeLockFor({ kind: 'sqlite', path: ':memory:' })).toBeUndefined()
    expect(storeLockFor({ kind: 'memory' })).toBeUndefined()
  })
})

function sqliteTruthSize(path: string, ringId: string): number {
  try {
    return sqliteTruth(path, ringId).events.size
  } catch {
    return 0
  }
}
