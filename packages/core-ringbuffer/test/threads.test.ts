import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { RingBuffer, type RingStats } from '../src/index.js'
import { viewsOf } from '../src/internal/views.js'
import { H_LOCK } from '../src/layout.js'

// Real worker threads: 3 producers and 2 consumers move 210,000 events through one ring; one
// consumer is terminated while it holds a claim, and its claim is taken over by a replacement.

const boot = new URL('./fixtures/boot.mjs', import.meta.url)
const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url).href
const start = (name: string, data: Record<string, unknown>) => new Worker(boot, { workerData: { entry: fixture(name), ...data } })
const exited = (w: Worker) => new Promise<number>((resolve) => w.once('exit', resolve))

describe('RingBuffer across threads', () => {
  it('delivers every accepted event exactly once, in per-producer order, through a consumer crash', async () => {
    const producers = 3
    const perProducer = 70_000
    const ring = RingBuffer.create({ size: 4096, maxConsumers: 4 })
    // total[0]: events still to be stored; total[1]: a word to hang on
    const total = new Int32Array(new SharedArrayBuffer(8))
    total[0] = producers * perProducer

    const seen = Array.from({ length: producers }, () => new Float64Array(perProducer).fill(-1))
    let duplicates = 0
    let bad = 0
    let handedOverBatches = 0
    let held: number[] = []
    const onMessage = (m: { kind: string; records?: Float64Array; bad?: number; seqs?: number[]; handedOver?: boolean }) => {
      if (m.kind === 'holding') held = m.seqs!
      if (m.kind !== 'stored') return
      bad += m.bad!
      if (m.handedOver) handedOverBatches++
      const r = m.records!
      for (let k = 0; k < r.length; k += 3) {
        const s = seen[r[k]!]!
        if (s[r[k + 1]!] !== -1) duplicates++
        s[r[k + 1]!] = r[k + 2]!
      }
    }

    const ps = Array.from({ length: producers }, (_, producer) => start('producer', { handle: ring.handle, producer, count: perProducer }))
    const victim = start('consumer', { handle: ring.handle, id: 0, hangAfter: 20, total })
    const steady = start('consumer', { handle: ring.handle, id: 1, total })
    for (const w of [victim, steady]) w.on('message', onMessage)

    // Wait until the victim holds a claim, then kill it and hand its claim to a replacement (id 2).
    await new Promise<void>((resolve) => victim.on('message', (m: { kind: string }) => m.kind === 'holding' && resolve()))
    expect(held.length).toBeGreaterThan(0)
    await victim.terminate()
    const handed = ring.takeOver(0, 2)
    expect(handed).toBe(held.length)
    const replacement = start('consumer', { handle: ring.handle, id: 2, total })
    replacement.on('message', onMessage)

    await Promise.all([...ps, steady, replacement].map(exited))

    expect(bad).toBe(0)
    expect(duplicates).toBe(0)
    expect(handedOverBatches).toBeGreaterThan(0)
    for (let p = 0; p < producers; p++) {
      const s = seen[p]!
      for (let n = 0; n < perProducer; n++) {
        if (s[n] === -1) throw new Error(`producer ${p} event ${n} never arrived`)
        if (n > 0 && !(s[n]! > s[n - 1]!)) throw new Error(`producer ${p}: event ${n} has seq ${s[n]} after ${s[n - 1]}`)
      }
    }
    const stats = ring.stats()
    expect(stats).toMatchObject({ totalWrites: producers * perProducer, totalCommitted: producers * perProducer, claimed: 0 })
    expect(stats.totalReads).toBe(producers * perProducer)
    expect(stats.available).toBe(4096)
  })
})

describe('stats', () => {
  it.each(['drop_oldest', 'drop_newest'] as const)('reports only possible values while producers and consumers race (%s)', async (overflowStrategy) => {
    const ring = RingBuffer.create({ size: 16, overflowStrategy, maxConsumers: 4 })
    const control = new Int32Array(new SharedArrayBuffer(4))
    const threads = [
      ...[0, 1].map((id) => start('churn', { handle: ring.handle, role: 'producer', id, control })),
      ...[0, 1].map((id) => start('churn', { handle: ring.handle, role: 'consumer', id, batch: 5, control })),
    ]
    const impossible: RingStats[] = []
    let samples = 0
    try {
      // Sample until the threads have moved a good many events (a count, not a time).
      while (ring.stats().totalCommitted < 10_000 || samples < 10_000) {
        const s = ring.stats()
        samples++
        const used = s.size - s.available
        const possible =
          s.available >= 0 && s.available <= s.size && s.utilization >= 0 && s.utilization <= 1 &&
          s.ready >= 0 && s.claimed >= 0 && s.ready + s.claimed <= used &&
          s.totalCommitted <= s.totalReads && s.totalReads <= s.totalWrites
        if (!possible && impossible.length < 5) impossible.push(s)
        if (samples % 1000 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      Atomics.store(control, 0, 1)
      await Promise.all(threads.map(exited))
    }
    expect(impossible).toEqual([])
  })
})

describe('takeOver', () => {
  /** Consumer 0 dies at its dieAt-th preemption site of claim(6) over 10 events; what does the ring say afterwards? */
  async function dieInClaim(dieAt: number) {
    const ring = RingBuffer.create({ size: 16, maxConsumers: 2 })
    for (let n = 0; n < 10; n++) ring.write({ type: 'call', n })
    const w = start('die-in-claim', { handle: ring.handle, id: 0, max: 6, dieAt })
    let report: { sites: number; claimed: number } | undefined
    w.on('message', (m: { sites: number; claimed: number }) => (report = m))
    await exited(w)
    const lockHeld = viewsOf(ring.handle.buffer).hdr[H_LOCK] === 1
    const handed = ring.takeOver(0, 1)
    const heir = ring.consumer(1)
    const seqs: number[] = []
    for (let c = heir.claim(100); c !== null; c = heir.claim(100)) {
      seqs.push(...c.records.map((r) => r.seq))
      heir.commit(c)
    }
    return { report, lockHeld, handed, seqs, stats: ring.stats() }
  }

  it('counts every event read exactly once in totalReads, wherever inside claim() its consumer died', async () => {
    const whole = await dieInClaim(Number.POSITIVE_INFINITY)
    expect(whole.report).toMatchObject({ claimed: 6 })
    const sites = whole.report!.sites
    expect(sites).toBeGreaterThan(6)
    const outcomes = []
    for (let dieAt = 1; dieAt <= sites; dieAt += 2) {
      const batch = [dieAt, dieAt + 1].filter((k) => k <= sites)
      outcomes.push(...(await Promise.all(batch.map(async (k) => ({ dieAt: k, ...(await dieInClaim(k)) })))))
    }
    for (const o of [...outcomes, { dieAt: 'after claim()', ...whole }]) {
      // Every event reaches the heir (handed over or fresh) and is committed; each was read once.
      expect({ dieAt: o.dieAt, seqs: [...new Set(o.seqs)].sort((a, b) => a - b) }).toEqual({ dieAt: o.dieAt, seqs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] })
      expect({ dieAt: o.dieAt, reads: o.stats.totalReads, committed: o.stats.totalCommitted, claimed: o.stats.claimed }).toEqual({
        dieAt: o.dieAt, reads: 10, committed: 10, claimed: 0,
      })
    }
    // The deaths inside claim() really left the lock held: takeOver had to break it.
    expect(outcomes.filter((o) => o.lockHeld).length).toBeGreaterThan(0)
  })
})

describe('waitForDataAsync', () => {
  const run = (ring: RingBuffer, timeoutMs: number, onWaiting: () => void) => {
    const w = start('wait-async', { handle: ring.handle, timeoutMs })
    const messages: { kind: string; ready?: boolean }[] = []
    w.on('message', (m: { kind: string; ready?: boolean }) => {
      messages.push(m)
      if (m.kind === 'waiting') onWaiting()
    })
    return exited(w).then((code) => ({ code, messages }))
  }

  it('keeps a worker alive while it waits for data, and wakes it when data comes', async () => {
    const ring = RingBuffer.create({ size: 4 })
    // The write follows the worker's 'waiting' message, so the worker is (or is about to be) asleep.
    const got = await run(ring, 60_000, () => void ring.write({ type: 'call' }))
    expect(got).toEqual({ code: 0, messages: [{ kind: 'waiting' }, { kind: 'woke', ready: true }] })
  })

  it('keeps a worker alive until its wait times out when no data comes', async () => {
    const ring = RingBuffer.create({ size: 4 })
    const got = await run(ring, 200, () => {})
    expect(got).toEqual({ code: 0, messages: [{ kind: 'waiting' }, { kind: 'woke', ready: false }] })
  })
})
