// The soak: a pipeline into SQLite (behind the fault-injection wrapper) runs at a steady rate while
// faults of every kind are injected at random: writers terminated, exiting, crashing and hanging
// while holding a claim; the store going offline, failing transiently, slowing down; poison events
// the store refuses for good; invalid and unserializable events from the application. At the end it
// checks that the accounting balances exactly and that the store holds every accepted event once.

import type { Writable } from 'node:stream'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore, FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage'
import { PipelineManager, type AccountingReport } from '@ringside/pipeline-manager'
import { Pacer } from './pacer.js'

export interface SoakOptions {
  readonly seconds: number
  readonly rate: number
  readonly dbPath: string
  /** Mean seconds between injected faults. Defaults to 1.5. */
  readonly faultEverySec?: number
  readonly seed?: number
  readonly out: Writable
}

export interface SoakResult {
  readonly report: AccountingReport
  readonly faults: Record<string, number>
  readonly offeredByApp: number
  readonly storedRows: number
  readonly distinctKeys: number
  readonly deadLetters: number
  readonly lost: number
  readonly duplicated: number
  readonly recoveryMs: { readonly writerRestart: number[]; readonly storeOutage: number[] }
  readonly ok: boolean
}

const FAULTS = ['terminate', 'exit', 'crash', 'hang', 'offline', 'transient', 'slow'] as const
const n = (x: number) => Math.round(x).toLocaleString('en-US')

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const say = (s: string) => o.out.write(`${s}\n`)
  let seed = o.seed ?? 0x5eed
  const rand = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 2 ** 32
  }
  const control = new FaultyStoreControl()
  control.rejectPoison = true
  const ring = RingBuffer.create({ size: 1 << 16 })
  const pipeline = await PipelineManager.start({
    ring,
    store: { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path: o.dbPath }, control: control.buffer } },
    poolSize: 2,
    maxRestarts: 1000,
    maxSeconds: 5,
    heartbeatTimeoutMs: 1000,
    retryBaseMs: 10,
    retryMaxMs: 200,
    // A short window, so that outages of a second or less trip the breaker against a busy store.
    breaker: { minRequests: 5, coolDownMs: 300, windowMs: 2_000 },
  })
  const faults: Record<string, number> = Object.fromEntries(FAULTS.map((f) => [f, 0]))
  const writerRestart: number[] = []
  const storeOutage: number[] = []
  const killedAt = new Map<number, number>()
  pipeline.on('writer_restarted', (e) => {
    const t = killedAt.get(e.slot)
    if (t !== undefined) writerRestart.push(performance.now() - t)
    killedAt.delete(e.slot)
  })

  const inject = async (): Promise<void> => {
    const kind = FAULTS[Math.floor(rand() * FAULTS.length)]!
    const running = pipeline.getState().members.filter((m) => m.state === 'running')
    const target = running[Math.floor(rand() * running.length)]
    if (['terminate', 'exit', 'crash', 'hang'].includes(kind)) {
      if (!target || killedAt.has(target.slot)) return
      killedAt.set(target.slot, performance.now())
      faults[kind]!++
      if (kind === 'terminate') await pipeline.killWriter(target.slot)
      else await pipeline.setWriterFault(target.slot, { kind: kind as 'exit' | 'crash' | 'hang', at: rand() < 0.5 ? 'before_store' : 'after_store', code: kind === 'exit' ? 0 : 1 })
      return
    }
    faults[kind]!++
    // Outages last long enough (1.5-3.5 s) to outweigh the successes in the breaker's window;
    // transient failures and slowness are shorter blips (0.2-1 s).
    const ms = kind === 'offline' ? 1500 + Math.floor(rand() * 2000) : 200 + Math.floor(rand() * 800)
    if (kind === 'slow') control.slowMs = 20 + Math.floor(rand() * 80)
    else control.mode = kind === 'offline' ? 'offline' : 'transient'
    await new Promise((r) => setTimeout(r, ms))
    control.heal()
    if (kind === 'offline') {
      // Recovery: from the store's return until the breaker is closed and the backlog is stored.
      const back = performance.now()
      while (pipeline.getMetrics().breaker.state !== 'closed' || ring.stats().utilization > 0.01) await new Promise((r) => setTimeout(r, 10))
      storeOutage.push(performance.now() - back)
    }
  }

  say(`soak: ${n(o.rate)} events/s for ${o.seconds} s, a random fault every ~${o.faultEverySec ?? 1.5} s, into ${o.dbPath}`)
  const pacer = new Pacer(o.rate)
  let offered = 0
  let poison = 0
  let k = 0
  const t0 = performance.now()
  let nextFault = t0 + 1000
  let lastLine = t0
  let injecting: Promise<void> = Promise.resolve()
  while (performance.now() - t0 < o.seconds * 1000) {
    for (let due = pacer.due(); due > 0; due--) {
      offered++
      const r = rand()
      if (r < 0.0005) {
        ring.write({ type: 'call', bad: 10n }) // refused at the door: not_serializable
      } else if (r < 0.001) {
        ring.write({ pid: '<0.1.0>', note: 'no type' }) // accepted, then quarantined by validation
      } else if (r < 0.0015) {
        poison++
        ring.write({ type: 'call', n: k++, poison: true }) // accepted, then refused for good by the store
      } else {
        ring.write({ type: 'call', pid: `<0.${k % 50}.0>`, module: 'Soak.Worker', function: 'run', arity: 1, n: k++ })
      }
    }
    const now = performance.now()
    if (now >= nextFault) {
      nextFault = now + (o.faultEverySec ?? 1.5) * 1000 * (0.5 + rand())
      injecting = injecting.then(inject).catch((e: Error) => {
        say(`  (fault injection skipped: ${e.message})`)
      })
    }
    if (now - lastLine >= 5000) {
      lastLine = now
      const m = pipeline.getMetrics()
      say(`  ${((now - t0) / 1000).toFixed(0)} s: stored ${n(m.totals.eventsStored)}, restarts ${pipeline.getState().restarts.total}, breaker ${m.breaker.state} (${m.breaker.trips} trips), ring ${(m.ring.utilization * 100).toFixed(1)}%`)
    }
    await new Promise((r) => setTimeout(r, 2))
  }
  await injecting
  control.heal()
  const report = await pipeline.stop({ timeoutMs: 60_000 })
  const store = await createStore({ kind: 'sqlite', path: o.dbPath, readOnly: true })
  const counted = await store.countByRing!(ring.id)
  const rows = await store.query({ order: 'asc' })
  await store.close()
  const distinctKeys = new Set(rows.map((r) => r.key)).size
  const lost = report.accepted - (counted.events + counted.deadLetters + report.filtered + report.evicted + report.inFlight)
  const result: SoakResult = {
    report,
    faults,
    offeredByApp: offered,
    storedRows: counted.events,
    distinctKeys,
    deadLetters: counted.deadLetters,
    lost,
    duplicated: rows.length - distinctKeys,
    recoveryMs: { writerRestart, storeOutage },
    ok: report.balanced && lost === 0 && rows.length === distinctKeys && report.inFlight === 0 && report.offered === offered,
  }
  const med = (xs: number[]) => (xs.length === 0 ? '–' : `${n([...xs].sort((a, b) => a - b)[xs.length >> 1]!)} ms (max ${n(Math.max(...xs))})`)
  say('')
  say(`faults injected: ${Object.entries(faults).map(([f, c]) => `${f} ${c}`).join(', ')}`)
  say(`events: offered ${n(offered)}, accepted ${n(report.accepted)}, refused at the door ${n(Object.values(report.rejected).reduce((a, b) => a + b, 0))}, stored ${n(counted.events)}, quarantined ${n(counted.deadLetters)} (${n(poison)} poison + invalid), in flight ${report.inFlight}`)
  say(`lost ${lost}, duplicated ${result.duplicated}, re-stored after crashes (ignored as duplicates) ${n(report.duplicates)}`)
  say(`recovery: writer fault to replacement ready, median ${med(writerRestart)}; store back to backlog stored, median ${med(storeOutage)}`)
  say(`circuit breaker trips: ${pipeline.getMetrics().breaker.trips}; writer restarts: ${pipeline.getState().restarts.total}`)
  say(`accounting ${report.balanced ? 'balances' : 'DOES NOT balance'}; store holds every accepted event once: ${result.ok ? 'yes' : 'NO'}`)
  return result
}
