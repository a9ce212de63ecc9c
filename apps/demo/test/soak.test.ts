import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore } from '@ringside/storage'
import { runSoak } from '../src/soak.js'
import { Ledger } from '../src/soak-ledger.js'
import { Watchdog } from '../src/soak-watch.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-soak-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough()
  let text = ''
  out.on('data', (c: Buffer) => (text += c.toString()))
  return { out, text: () => text }
}

describe('runSoak (short)', () => {
  it('injects faults of every kind and ends with nothing lost, nothing doubled, the accounting exact', async () => {
    const { out, text } = capture()
    const r = await runSoak({ seconds: 10, rate: 5_000, dbPath: join(dir, 'soak.db'), faultEverySec: 0.7, minFaults: 5, seed: 7, out })
    expect(Object.values(r.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5)
    expect(r.stall).toBeUndefined()
    expect(r.lost).toBe(0)
    expect(r.duplicated).toBe(0)
    expect(r.report).toMatchObject({ balanced: true, inFlight: 0, countedBy: 'store' })
    expect(r.report!.offered).toBe(r.offeredByApp)
    expect(r.storedRows + r.deadLetters).toBe(r.report!.accepted)
    expect(r.verification).toMatchObject({ phantom: 0, altered: 0, misrouted: 0 })
    expect(r.ok).toBe(true)
    expect(text()).toMatch(/store holds every accepted event once: yes/)
  }, 120_000)

  it('with the full mix (priority ring, sampling, retention) counts every sampled, evicted and pruned event and loses none', async () => {
    const { out, text } = capture()
    // A small budget, so each store outage samples (and, when a writer does not hold the oldest low
    // events, evicts: how many is up to the scheduler, so only their accounting is asserted; the
    // rule itself is tests/priority-pipeline.test.ts's); retention well below what is stored. Only faults that never make a writer store a batch twice (no writer crash after
    // storing, no store call timed out after it stored): an event pruned and then stored again by
    // a crashed writer's heir would be counted twice, a race of retention this soak would report.
    const r = await runSoak({
      seconds: 20,
      rate: 5_000,
      dbPath: join(dir, 'full.db'),
      faultEverySec: 0.7,
      faultKinds: ['offline', 'transient', 'file_lock', 'stage_throw', 'stage_hang', 'stage_exit', 'reentrant'],
      seed: 7,
      out,
      mix: 'full',
      ringSize: 2_048,
      retainEvents: 5_000,
    })
    expect(r.stall).toBeUndefined()
    expect(r.lost).toBe(0)
    expect(r.duplicated).toBe(0)
    expect(r.report).toMatchObject({ balanced: true, inFlight: 0, countedBy: 'store' })
    expect(r.report!.rejected.sampled).toBeGreaterThan(0)
    expect(r.gone!.high.evicted + r.gone!.normal.evicted + r.gone!.low.evicted).toBe(r.report!.evicted)
    expect(r.report!.pruned).toBeGreaterThan(0)
    // What the store holds now, with what it pruned and what the ring evicted, is every accepted event.
    expect(r.storedRows + r.deadLetters + r.report!.pruned + r.report!.evicted).toBe(r.report!.accepted)
    expect(r.verification).toMatchObject({ phantom: 0, altered: 0, misrouted: 0 })
    expect(r.ok).toBe(true)
    expect(text()).toMatch(/sampled at the door [\d,]+, evicted [\d,]+, pruned by retention [\d,]+/)
    expect(text()).toMatch(/store holds every accepted event once: yes/)
  }, 180_000)

  it('fails a wait that runs past its limit, with a dump of the state, instead of hanging', async () => {
    const { out, text } = capture()
    // A breaker that never cools down: the first outage stops the pipeline for good.
    const r = await runSoak({
      seconds: 60,
      rate: 2_000,
      dbPath: join(dir, 'stuck.db'),
      faultEverySec: 0.5,
      faultKinds: ['offline'],
      stallAfterSec: 4,
      progressEverySec: 1,
      seed: 11,
      out,
      pipeline: { breaker: { minRequests: 1, coolDownMs: 86_400_000, windowMs: 2_000 } },
    })
    expect(r.ok).toBe(false)
    expect(r.stall?.what).toMatch(/committed|backlog/)
    expect(text()).toMatch(/SOAK FAILED: waited .* for /)
    expect(text()).toMatch(/breaker: open, \d+ trips/)
    expect(text()).toMatch(/slot 0 writer-\d+: running/)
    expect(text()).toMatch(/ring: write position [\d,]+, committed position [\d,]+, ready [\d,]+, claimed/)
    expect(text()).toMatch(/s traffic: offered/) // progress lines while it ran
  }, 120_000)
})

describe('Ledger.verify', () => {
  it('finds an accepted event the store lacks, one held twice, one it holds that the ring refused, one altered and one quarantined for the wrong reason', async () => {
    const ring = RingBuffer.create({ size: 64 })
    const ledger = new Ledger()
    for (let n = 0; n < 6; n++) ledger.write(ring, { type: 'call', pid: '<0.1.0>', n }, n === 5 ? 'invalid_event' : 'stored')
    expect(ledger.write(ring, { type: 'call', bad: 1n }).ok).toBe(false)
    expect(ledger).toMatchObject({ offered: 7, accepted: 6 })
    const store = await createStore({ kind: 'memory' })
    const rec = (seq: number, n: number) => ({ key: `${ring.id}:${seq}`, ringId: ring.id, seq, capturedAt: 1, event: { type: 'call', pid: '<0.1.0>', n } })
    // seq 0 fine; 1 missing; 2 also a dead letter; 3 altered; 4 fine; 5 quarantined for the wrong reason; 9 never accepted.
    await store.storeEvents([rec(0, 0), rec(2, 2), rec(3, 33), rec(4, 4), rec(9, 9)])
    await store.storeDeadLetters([
      { record: rec(2, 2), error: 'x', attempts: 1, reason: 'permanent_error' },
      { record: rec(5, 5), error: 'x', attempts: 1, reason: 'stage_error' },
    ])
    const v = await ledger.verify(store, { [ring.id]: 0 }, ['<0.1.0>'], () => undefined)
    expect(v).toMatchObject({ rows: 5, deadLetters: 2, lost: 1, duplicated: 1, phantom: 1, altered: 1, misrouted: 1, collateral: { permanent_error: 1 } })
    expect(v.quarantinedByReason).toEqual({ permanent_error: 1, stage_error: 1 })
    await store.close()
  })
})

describe('Watchdog', () => {
  it('reports the longest-overdue wait once past its limit, and nothing before or after it ends', () => {
    const w = new Watchdog()
    w.begin('a', 'A to happen', 1_000, 0)
    w.begin('b', 'B to happen', 500, 100)
    expect(w.overdue(599)).toBeUndefined()
    expect(w.overdue(600)).toEqual({ what: 'B to happen', waitedMs: 500, limitMs: 500 })
    expect(w.overdue(1_500)).toMatchObject({ what: 'B to happen' }) // 900 late against A's 500
    w.end('b')
    expect(w.overdue(1_500)).toEqual({ what: 'A to happen', waitedMs: 1_500, limitMs: 1_000 })
    w.begin('a', 'A to happen', 1_000, 1_500) // restarted: progress was made
    expect(w.overdue(2_000)).toBeUndefined()
  })
})
