// The soak: a pipeline into SQLite (behind the fault-injection wrapper, with a user stage loaded in
// every writer) runs at a steady rate while faults of every kind are injected on their own
// schedule: writers terminated, exiting, crashing, hanging; the store offline, failing, slow;
// poison, invalid and unserializable events; with --stage-faults, a stage that throws, hangs or
// exits and re-entrant writes. It never hangs: every wait is bounded, progress is printed, and a
// wait past its limit fails the soak with a dump. At the end the store is checked event by event.
// The full mix (`mix: 'full'`) adds the ways an event leaves on purpose: a priority ring under one
// budget with drop_lowest (low events evicted when a store outage fills it), the ring's sampling
// policy above half its fill, and the store's retention (`maxEvents`) pruning while it runs; each
// is counted (by the ring, by the store per sub-ring) and checked against what the store lacks.

import type { Writable } from 'node:stream'
import { PRIORITIES, PriorityRing, RingBuffer, type Priority, type WriteResult } from '@ringside/core-ringbuffer'
import { createStore } from '@ringside/storage'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { PipelineConfigError, PipelineManager, type AccountingReport, type PipelineOptions } from '@ringside/pipeline-manager'
import { Pacer } from './pacer.js'
import { FILE_FAULTS, FaultSchedule, STAGE_FAULTS, STORE_FAULTS, WRITER_FAULTS, type FaultKind } from './soak-faults.js'
import { sqliteFileLock } from './soak-file-lock.js'
import { Ledger, type Fate, type Verification } from './soak-ledger.js'
import { SOAK_STAGE_TARGET, STAGE_FAULT_FIELD, type StageFault } from './soak-stage.js'
import { describeState, Watchdog, type Stall } from './soak-watch.js'

export interface SoakOptions {
  readonly seconds: number
  readonly rate: number
  readonly dbPath: string
  /** Mean seconds between injected faults. Defaults to 1.5. */
  readonly faultEverySec?: number
  /**
   * Keep writing past `seconds` until at least this many faults were injected (a fault is skipped
   * while the last one's recovery runs, which takes longer on a busy machine), for at most
   * 5 x `seconds` in all. Defaults to 0.
   */
  readonly minFaults?: number
  readonly seed?: number
  readonly out: Writable
  /**
   * Also inject stage faults (a stage that throws, hangs, exits) and re-entrant writes. They need a
   * pipeline that quarantines them (dead letters `stage_error`, `timeout`, `crashed_writer`; option
   * `batchTimeoutMs`); meant to be on by default once it has that. Defaults to false.
   */
  readonly stageFaults?: boolean
  /** Only these fault kinds (default: every kind the flags allow). */
  readonly faultKinds?: readonly FaultKind[]
  /** Limit of the wait for an event to be committed while the ring holds some, s (4x for a backlog after an outage and the final drain). Defaults to 30. */
  readonly stallAfterSec?: number
  /** Seconds between progress lines. Defaults to 5. */
  readonly progressEverySec?: number
  /** Pipeline options over the soak's own (for drills of the soak itself). */
  readonly pipeline?: Partial<PipelineOptions>
  /**
   * `faults` (the default): a plain ring, every event kept or quarantined. `full`: also a priority
   * ring with drop_lowest (events high, normal, low), sampling above half its fill, and store
   * retention: evicted, sampled and pruned events are counted, not lost.
   */
  readonly mix?: SoakMix
  /** With the full mix: most events the store keeps (retention `maxEvents`). Defaults to 10 s of events at `rate`, at least 20,000. */
  readonly retainEvents?: number
  /** With the full mix: the priority ring's budget, a power of two. Defaults to 16,384. */
  readonly ringSize?: number
}

export type SoakMix = 'faults' | 'full'

/** The full mix's ring: budget, and its sampling policy (1 in 4 of each type kept from half full). */
const FULL_MIX_RING = { size: 1 << 14, overflowStrategy: 'drop_lowest', sampling: { above: 0.5, keepOneIn: 4, alwaysKeep: ['drill'] } } as const
/** The full mix's share of events per priority (the rest normal); fault events are high. */
const HIGH_SHARE = 0.1
const LOW_SHARE = 0.3

export interface SoakResult {
  readonly report: AccountingReport | undefined
  readonly faults: Record<string, number>
  readonly faultsSkipped: number
  readonly offeredByApp: number
  readonly acceptedByFate: Record<Fate, number>
  readonly storedRows: number
  readonly deadLetters: number
  /** With the full mix: accepted events gone on purpose, by priority (evicted by drop_lowest, pruned by retention). */
  readonly gone?: Readonly<Record<Priority, { readonly evicted: number; readonly pruned: number }>>
  /** Accepted events the store does not hold (NaN when the store was not checked: the soak failed before). */
  readonly lost: number
  readonly duplicated: number
  readonly verification: Verification | undefined
  readonly recoveryMs: { readonly writerRestart: number[]; readonly storeOutage: number[] }
  /** The wait that ran past its limit, when the soak failed that way. */
  readonly stall: Stall | undefined
  readonly ok: boolean
}

const n = (x: number) => Math.round(x).toLocaleString('en-US')
const PIDS = Array.from({ length: 50 }, (_, k) => `<0.${k}.0>`)
/** The pid of events written from inside another write (re-entrant). */
const INNER_PID = '<0.99.0>'
const STAGE_FATE: Record<StageFault, Fate> = { throw: 'stage_error', hang: 'timeout', exit: 'crashed_writer' }

function xorshift(seed: number): () => number {
  let s = seed
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const say = (s: string) => o.out.write(`${s}\n`)
  const rand = xorshift(o.seed ?? 0x5eed)
  const stallMs = (o.stallAfterSec ?? 30) * 1000
  const control = new FaultyStoreControl()
  control.rejectPoison = true
  const full = o.mix === 'full'
  const ring = full ? PriorityRing.create({ ...FULL_MIX_RING, size: o.ringSize ?? FULL_MIX_RING.size }) : RingBuffer.create({ size: 1 << 16 })
  const retainEvents = o.retainEvents ?? Math.max(20_000, o.rate * 10)
  const inner = full ? { kind: 'sqlite', path: o.dbPath, retention: { maxEvents: retainEvents } } : { kind: 'sqlite', path: o.dbPath }
  /** A regular event's priority in the full mix; undefined for a plain ring. */
  const pick = (): Priority | undefined => {
    if (!full) return undefined
    const r = rand()
    return r < HIGH_SHARE ? 'high' : r < HIGH_SHARE + LOW_SHARE ? 'low' : 'normal'
  }
  /** Fault events are high (evicted last) and of a type sampling always keeps, so most of them do fire. */
  const faultPriority: Priority | undefined = full ? 'high' : undefined
  const faultType = full ? 'drill' : 'call'
  const options: Record<string, unknown> = {
    ring,
    store: { target: FAULTY_STORE_TARGET, options: { inner, control: control.buffer } },
    stages: [{ target: SOAK_STAGE_TARGET }],
    poolSize: 2,
    maxRestarts: 1000,
    maxSeconds: 5,
    batchTimeoutMs: 2000,
    retryBaseMs: 10,
    retryMaxMs: 200,
    // A short window, so that outages of a second or less trip the breaker against a busy store.
    breaker: { minRequests: 5, coolDownMs: 300, windowMs: 2_000 },
    // A hanging stage is cut off by the batch deadline (a pipeline that has one).
    ...(o.stageFaults ? { batchTimeoutMs: 2_000 } : {}),
    ...o.pipeline,
  }
  const pipeline = await PipelineManager.start(options as unknown as PipelineOptions).catch((err: unknown) => {
    if (err instanceof PipelineConfigError && err.option === 'batchTimeoutMs') {
      throw new Error('--stage-faults needs a pipeline that quarantines stage faults (with a batch deadline, batchTimeoutMs); this one has none', { cause: err })
    }
    throw err
  })
  const ledger = new Ledger()
  const watchdog = new Watchdog()
  let k = 0
  // What the ring answered to re-entrant writes, by outcome.
  const reentrant = { outer: {} as Record<string, number>, inner: {} as Record<string, number> }
  const tally = (t: Record<string, number>, r: WriteResult) => {
    const word = r.ok ? 'accepted' : r.reason
    t[word] = (t[word] ?? 0) + 1
    return r.ok
  }
  const writeFaultEvent = (kind: (typeof STAGE_FAULTS)[number]) => {
    const pid = PIDS[k % PIDS.length]!
    if (kind !== 'reentrant') {
      const fault = kind.slice('stage_'.length) as StageFault
      ledger.write(ring, { type: faultType, pid, n: k++, [STAGE_FAULT_FIELD]: fault }, STAGE_FATE[fault], faultPriority)
      return
    }
    // The application writes from inside a write: toJSON runs while the ring encodes the outer event.
    const inner = { type: 'call', pid: INNER_PID, n: k++ }
    const nested = { toJSON: () => ({ innerAccepted: tally(reentrant.inner, ledger.write(ring, inner)) }) }
    tally(reentrant.outer, ledger.write(ring, { type: faultType, pid, n: k++, nested }, 'stored', faultPriority))
  }
  const kinds = o.faultKinds ?? [...WRITER_FAULTS, ...STORE_FAULTS, ...FILE_FAULTS, ...(o.stageFaults ? STAGE_FAULTS : [])]
  // The writers created the file when they started: a connection of the soak's own can open it now.
  const fileLock = kinds.includes('file_lock') ? sqliteFileLock(o.dbPath) : undefined
  // The backlog after an outage can be a full ring, stored at whatever rate this machine allows: a
  // backstop, four times the limit of the progress check (which catches a standstill much sooner).
  const faults = new FaultSchedule({ pipeline, control, watchdog, rand, kinds, writeFaultEvent, recoveryLimitMs: 4 * stallMs, ...(fileLock ? { fileLock } : {}) })

  say(`soak: ${n(o.rate)} events/s for ${o.seconds} s, a random fault every ~${o.faultEverySec ?? 1.5} s (${kinds.join(', ')}), into ${o.dbPath}`)
  if (full) {
    say(
      `  full mix: a priority ring of ${n(o.ringSize ?? FULL_MIX_RING.size)} events (drop_lowest; ${HIGH_SHARE * 100} % high, ${LOW_SHARE * 100} % low, the rest normal), ` +
        `sampling 1 in ${FULL_MIX_RING.sampling.keepOneIn} from ${FULL_MIX_RING.sampling.above * 100} % full (fault events, type drill, kept), retention maxEvents ${n(retainEvents)}`,
    )
  }
  if (!kinds.some((f) => (STAGE_FAULTS as readonly string[]).includes(f))) say('  (stage faults and re-entrant writes are off; --stage-faults turns them on)')
  const t0 = performance.now()
  let phase = 'traffic'
  let stall: Stall | undefined
  let lastLine = t0
  let lastCommitted = -1
  let watching = true
  // The monitor runs on its own timer whatever the soak is doing: faults heal, waits are checked, progress is printed.
  const monitor = setInterval(() => {
    const now = performance.now()
    const r = ring.stats()
    faults.tick(now, r)
    if (watching) {
      if (r.committedPosition !== lastCommitted || r.ready + r.claimed === 0 || faults.storeFaultActive) {
        lastCommitted = r.committedPosition
        watchdog.begin('progress', 'an event to be committed while the ring holds some and the store is up', stallMs, now)
      }
      stall ??= watchdog.overdue(now)
    }
    if (now - lastLine >= (o.progressEverySec ?? 5) * 1000) {
      lastLine = now
      const m = pipeline.getMetrics()
      const doing = faults.activity
      say(
        `  ${((now - t0) / 1000).toFixed(0)} s ${phase}: offered ${n(ledger.offered)}, stored ${n(m.totals.eventsStored)}, restarts ${pipeline.getState().restarts.total}, ` +
          `breaker ${m.breaker.state} (${m.breaker.trips} trips), ring ${(m.ring.utilization * 100).toFixed(1)}%` +
          `${full ? `, sampled ${n(m.ring.dropped.sampled)}, evicted ${n(m.ring.dropped.evicted)}` : ''}${doing ? `, ${doing}` : ''}`,
      )
    }
  }, 100)

  try {
    const pacer = new Pacer(o.rate)
    let nextFault = t0 + 1000
    const injected = () => Object.values(faults.injected).reduce((a, b) => a + b, 0)
    const writing = (elapsed: number) => elapsed < o.seconds * 1000 || (injected() < (o.minFaults ?? 0) && elapsed < 5 * o.seconds * 1000)
    while (writing(performance.now() - t0) && stall === undefined) {
      for (let due = pacer.due(); due > 0; due--) {
        const r = rand()
        if (r < 0.0005) {
          ledger.write(ring, { type: 'call', bad: 10n }, 'stored', faultPriority) // refused at the door: not_serializable
        } else if (r < 0.001) {
          ledger.write(ring, { pid: '<0.1.0>', note: 'no type', n: k++ }, 'invalid_event', faultPriority) // accepted, then quarantined by validation
        } else if (r < 0.0015) {
          ledger.write(ring, { type: faultType, n: k++, poison: true }, 'permanent_error', faultPriority) // accepted, then refused for good by the store
        } else {
          ledger.write(ring, { type: 'call', pid: PIDS[k % PIDS.length]!, module: 'Soak.Worker', function: 'run', arity: 1, n: k++ }, 'stored', pick())
        }
      }
      const now = performance.now()
      if (now >= nextFault) {
        nextFault = now + (o.faultEverySec ?? 1.5) * 1000 * (0.5 + rand())
        faults.fire(now)
      }
      await new Promise((r) => setTimeout(r, 2))
    }
    faults.healAll()
    fileLock?.close()
    if (stall === undefined) {
      phase = 'draining'
      // Up to a full ring, at this machine's rate: a backstop as for the backlog after an outage.
      watchdog.begin('drain', 'the ring to be drained after the last event', 4 * stallMs, performance.now())
      while (stall === undefined && ring.stats().ready + ring.stats().claimed > 0) await new Promise((r) => setTimeout(r, 20))
      watchdog.end('drain')
    }
  } finally {
    // From here on the soak only stops and counts, each step bounded on its own.
    watching = false
  }

  let dump = ''
  if (stall) {
    dump = await describeState(pipeline, [`faults: ${faults.activity || 'none in progress'}; store mode ${control.mode}; injected ${JSON.stringify(faults.injected)}`])
    say(`\nSOAK FAILED: waited ${(stall.waitedMs / 1000).toFixed(1)} s (limit ${stall.limitMs / 1000} s) for ${stall.what}. State:\n${dump}`)
  }
  phase = 'stopping'
  const report = await Promise.race([
    pipeline.stop({ timeoutMs: stall ? 5_000 : 60_000 }),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), (stall ? 5_000 : 60_000) + 30_000).unref()),
  ])
  clearInterval(monitor)
  if (!report) say('the pipeline did not stop within its deadline')
  let v: Verification | undefined
  if (report && !stall) {
    const store = await createStore({ kind: 'sqlite', path: o.dbPath, readOnly: true })
    try {
      let lastSaid = performance.now()
      // What each ring may lack: nothing (a plain ring), or what a sub-ring evicted and the store pruned of it.
      const expectedGone: Record<string, number> =
        ring instanceof PriorityRing
          ? Object.fromEntries(PRIORITIES.map((p) => [ring.rings[p].id, report.priorities![p].evicted + (report.priorities![p].pruned ?? Number.NaN)]))
          : { [ring.id]: report.pruned }
      v = await ledger.verify(store, expectedGone, [...PIDS, INNER_PID], (done, total) => {
        if (performance.now() - lastSaid < 2_000 && done < total) return
        lastSaid = performance.now()
        say(`  verifying the store against what was written: ${done}/${total} pids read`)
      })
    } finally {
      await store.close()
    }
  }
  const counted = v ? { events: v.rows, deadLetters: v.deadLetters } : { events: report?.stored ?? 0, deadLetters: report?.quarantined ?? 0 }
  const lost = v ? v.lost : Number.NaN
  const duplicated = v ? v.duplicated : 0
  const ok =
    stall === undefined &&
    report !== undefined &&
    v !== undefined &&
    report.balanced &&
    report.inFlight === 0 &&
    report.offered === ledger.offered &&
    report.accepted === ledger.accepted &&
    // Pruned events were stored (or quarantined) first: the report counts them there, the store no longer holds them.
    (report.pruned === 0 ? counted.events === report.stored && counted.deadLetters === report.quarantined : counted.events + counted.deadLetters + report.pruned === report.stored + report.quarantined) &&
    lost === 0 &&
    duplicated === 0 &&
    v.phantom === 0 &&
    v.altered === 0 &&
    v.misrouted === 0
  const result: SoakResult = {
    report,
    faults: faults.injected,
    faultsSkipped: faults.skipped,
    offeredByApp: ledger.offered,
    acceptedByFate: ledger.acceptedByFate,
    storedRows: counted.events,
    deadLetters: counted.deadLetters,
    ...(report?.priorities ? { gone: Object.fromEntries(PRIORITIES.map((p) => [p, { evicted: report.priorities![p].evicted, pruned: report.priorities![p].pruned ?? 0 }])) as Record<Priority, { evicted: number; pruned: number }> } : {}),
    lost,
    duplicated,
    verification: v,
    recoveryMs: { writerRestart: faults.writerRestartMs, storeOutage: faults.storeOutageMs },
    stall,
    ok,
  }
  printSummary(say, result, pipeline)
  if (faults.injected.reentrant) say(`re-entrant writes (outer / inner): ${JSON.stringify(reentrant.outer)} / ${JSON.stringify(reentrant.inner)}`)
  return result
}

function printSummary(say: (s: string) => void, r: SoakResult, pipeline: PipelineManager): void {
  const med = (xs: number[]) => (xs.length === 0 ? '–' : `${n([...xs].sort((a, b) => a - b)[xs.length >> 1]!)} ms (max ${n(Math.max(...xs))})`)
  const kv = (o: Record<string, number>) => Object.entries(o).map(([f, c]) => `${f} ${n(c)}`).join(', ') || 'none'
  const { report, verification: v } = r
  say('')
  say(`faults injected: ${kv(r.faults)}; skipped (target busy or down) ${r.faultsSkipped}`)
  if (report) {
    say(
      `events: offered ${n(r.offeredByApp)}, accepted ${n(report.accepted)}, refused at the door ${n(Object.values(report.rejected).reduce((a, b) => a + b, 0))}, ` +
        `stored ${n(r.storedRows)}${report.pruned > 0 ? ` (held now; ${n(report.stored)} with those pruned since)` : ''}, quarantined ${n(r.deadLetters)}, in flight ${report.inFlight}`,
    )
  }
  if (report && (report.rejected.sampled > 0 || report.evicted > 0 || report.pruned > 0 || r.gone)) {
    say(`sampled at the door ${n(report.rejected.sampled)}, evicted ${n(report.evicted)}, pruned by retention ${n(report.pruned)} (counted, not lost)`)
    if (report.priorities) {
      const by = (p: Priority) => {
        const a = report.priorities![p]
        return `${p}: offered ${n(a.offered)}, accepted ${n(a.accepted)}, sampled ${n(a.rejected.sampled)}, full ${n(a.rejected.full)}, evicted ${n(a.evicted)}, stored ${n(a.stored ?? Number.NaN)} (pruned since ${n(a.pruned ?? Number.NaN)}), quarantined ${n(a.quarantined ?? Number.NaN)}`
      }
      for (const p of [...PRIORITIES].reverse()) say(`  ${by(p)}`)
    }
  }
  const faulty = Object.entries(r.acceptedByFate).filter(([f]) => f !== 'stored')
  say(`written to be quarantined: ${faulty.map(([f, c]) => `${f} ${n(c)}`).join(', ')}`)
  if (v) {
    say(`quarantined by reason: ${kv(v.quarantinedByReason)}; healthy events quarantined with a faulty one: ${kv(v.collateral)}`)
    say(`lost ${r.lost}, duplicated ${r.duplicated}, never accepted but stored ${v.phantom}, altered ${v.altered}, quarantined for the wrong reason or not at all ${v.misrouted}`)
  }
  if (report) say(`re-stored after crashes (ignored as duplicates) ${n(report.duplicates)}`)
  say(`recovery: writer fault to replacement ready, median ${med(r.recoveryMs.writerRestart)}; store back to backlog stored, median ${med(r.recoveryMs.storeOutage)}`)
  say(`circuit breaker trips: ${pipeline.getMetrics().breaker.trips}; writer restarts: ${pipeline.getState().restarts.total}`)
  if (r.stall) say(`SOAK FAILED: a wait ran past its limit (${r.stall.what})`)
  else say(`accounting ${report?.balanced ? 'balances' : 'DOES NOT balance'}; store holds every accepted event once: ${r.ok ? 'yes' : 'NO'}`)
}
