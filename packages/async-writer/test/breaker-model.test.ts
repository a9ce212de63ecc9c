// A model of a pool's writers around the shared breaker, in simulated time: each model writer asks
// the breaker what AsyncWriter asks (mayClaim before claiming, allow before each store attempt) and
// records each attempt's outcome; fast-check picks the writers, the interleaving, the store's
// faults, slow calls, backoffs and writer deaths. The rule kept: once the last fault has cleared,
// every event is stored within a bounded time, whoever holds claims and whoever does not.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BREAKER_DEFAULTS, SharedBreaker, createBreakerBuffer, type BreakerConfig } from '../src/protocol.js'

interface ModelWriter {
  /** Events of the claim in hand (0: nothing in hand). */
  batch: number
  /** In a retry backoff until then. */
  busyUntil: number
  /** A store call in flight: its outcome, when it ends, and the backoff after a failure. */
  call: { ok: boolean; endsAt: number; backoffMs: number } | undefined
}

interface Step {
  readonly writer: number
  readonly dt: number
  readonly callMs: number
  readonly backoffMs: number
  readonly dies: boolean
  /** A store call started now never settles (the writer's heartbeat goes on: nobody kills it). */
  readonly hangs: boolean
}

const T0 = 1_700_000_000_000
const BATCH = 4
const MAX_CALL_MS = 3_000
const MAX_BACKOFF_MS = 5_000

const config: fc.Arbitrary<BreakerConfig> = fc.record({
  failureRateThreshold: fc.constantFrom(0.25, 0.5, 1),
  minRequests: fc.integer({ min: 1, max: 4 }),
  windowMs: fc.constantFrom(1_000, 2_000, 5_000),
  coolDownMs: fc.integer({ min: 0, max: 1_000 }),
  probeLeaseMs: fc.integer({ min: 1, max: 2_000 }),
})

const step: fc.Arbitrary<Step> = fc.record({
  writer: fc.nat({ max: 7 }),
  dt: fc.integer({ min: 0, max: 80 }),
  callMs: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: MAX_CALL_MS })),
  backoffMs: fc.integer({ min: 0, max: MAX_BACKOFF_MS }),
  dies: fc.integer({ min: 0, max: 40 }).map((x) => x === 0),
  hangs: fc.integer({ min: 0, max: 15 }).map((x) => x === 0),
})

/** Store outages as [start, end) offsets from T0. */
const outages = fc.array(fc.tuple(fc.integer({ min: 0, max: 4_000 }), fc.integer({ min: 1, max: 2_000 })), { minLength: 1, maxLength: 4 })

/** Runs the model; returns what is stored, and when the last event was, relative to the end of the faults. */
function simulate(cfg: BreakerConfig, pool: number, events: number, faults: readonly [number, number][], steps: readonly Step[]) {
  const breaker = new SharedBreaker(createBreakerBuffer(cfg))
  const writers: ModelWriter[] = Array.from({ length: pool }, () => ({ batch: 0, busyUntil: 0, call: undefined }))
  const healthy = (t: number) => !faults.some(([s, len]) => t >= T0 + s && t < T0 + s + len)
  let ready = events
  let stored = 0
  let t = T0

  // Store calls that have ended by `now` report their outcome, as the writer does after its await.
  const settle = (now: number) => {
    for (const [w, m] of writers.entries()) {
      if (m.call === undefined || m.call.endsAt > now) continue
      const { ok, endsAt, backoffMs } = m.call
      m.call = undefined
      breaker.record(ok, w, endsAt)
      if (ok) {
        stored += m.batch
        m.batch = 0
      } else m.busyUntil = endsAt + backoffMs
    }
  }
  // One turn of a writer's loop at `now`: claim if the breaker lets it, else store if it lets it.
  const act = (w: number, now: number, callMs: number, backoffMs: number, hangs = false) => {
    const m = writers[w]!
    if (m.call !== undefined || m.busyUntil > now) return
    if (m.batch === 0) {
      if (breaker.mayClaim(w, now) && ready > 0) {
        m.batch = Math.min(BATCH, ready)
        ready -= m.batch
      }
    } else if (breaker.allow(w, now)) {
      m.call = { ok: healthy(now), endsAt: hangs ? Infinity : now + callMs, backoffMs }
    }
  }

  for (const s of steps) {
    t += s.dt
    settle(t)
    const w = s.writer % pool
    if (s.dies) {
      // The pool sees the thread exit: the probe is released and the claim goes back for the heir.
      breaker.releaseProbe(w, t)
      ready += writers[w]!.batch
      writers[w] = { batch: 0, busyUntil: 0, call: undefined }
    } else act(w, t, s.callMs, s.backoffMs, s.hangs && w !== 0) // writer 0 never hangs: with every writer hung nothing could be stored
  }

  // Quiet: the last fault is over; every writer takes a turn every 10 ms; no new events arrive.
  const quietFrom = Math.max(t, ...faults.map(([s, len]) => T0 + s + len))
  const bound = MAX_CALL_MS + MAX_BACKOFF_MS + cfg.coolDownMs + cfg.probeLeaseMs + 1_000
  // A writer whose call never settles keeps its claim (nothing here can free it): what it holds is
  // out of reach, but it must not keep anybody else from storing.
  const hung = () => writers.reduce((n, m) => n + (m.call?.endsAt === Infinity ? m.batch : 0), 0)
  const reachable = events - hung()
  t = quietFrom
  while (t <= quietFrom + bound && stored < reachable) {
    settle(t)
    for (let w = 0; w < pool; w++) act(w, t, 5, MAX_BACKOFF_MS)
    t += 10
  }
  return { stored, reachable, held: writers.map((m) => (m.call?.endsAt === Infinity ? 0 : m.batch)), state: breaker.state, afterQuietMs: t - quietFrom, bound }
}

describe('SharedBreaker (model of a pool)', () => {
  it('lets every held and waiting event be stored within a bounded time after the last fault, whichever writer asks first and even if a prober hangs', () => {
    fc.assert(
      fc.property(config, fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 20 }), outages, fc.array(step, { minLength: 1, maxLength: 300, size: 'max' }), (cfg, pool, events, faults, steps) => {
        const r = simulate(cfg, pool, events, faults, steps)
        expect(r, `breaker ${r.state}, claims held ${r.held.join('/')}`).toMatchObject({ stored: r.reachable, held: new Array(pool).fill(0) })
      }),
      { numRuns: 500 },
    )
  })

  it('stores the one claim whose writer failed while an idle writer asked first after the cool-down', () => {
    // The deterministic case: writer 1 holds the only claim and fails; writer 0 has nothing to store.
    const cfg = { ...BREAKER_DEFAULTS, minRequests: 1, coolDownMs: 100, windowMs: 1_000 }
    const steps: Step[] = [
      { writer: 1, dt: 0, callMs: 0, backoffMs: 0, dies: false, hangs: false }, // claims the only event
      { writer: 1, dt: 1, callMs: 1, backoffMs: 5_000, dies: false, hangs: false }, // stores: fails, backs off 5 s
      { writer: 0, dt: 200, callMs: 0, backoffMs: 0, dies: false, hangs: false }, // idle, asks after the cool-down
    ]
    const r = simulate(cfg, 2, 1, [[0, 150]], steps)
    expect(r).toMatchObject({ stored: 1, held: [0, 0], state: 'closed' })
  })

  it('lets another writer with a batch take over the probe once the lease of a prober whose call hangs has expired', () => {
    const cfg = { ...BREAKER_DEFAULTS, minRequests: 1, coolDownMs: 100, windowMs: 1_000, probeLeaseMs: 1_000 }
    const at = (writer: number, dt: number, o: Partial<Step> = {}): Step => ({ writer, dt, callMs: 1, backoffMs: 0, dies: false, hangs: false, ...o })
    const steps: Step[] = [
      at(1, 0), // claims 4 of the 8 events
      at(1, 1), // stores: fails; the breaker opens
      at(1, 200, { hangs: true }), // after the cool-down: takes the probe, and its call never settles
    ]
    const r = simulate(cfg, 2, 8, [[0, 500]], steps)
    expect(r).toMatchObject({ stored: 4, reachable: 4, held: [0, 0], state: 'closed' })
  })
})
