// A circuit breaker shared by every writer of a pool, in shared memory: closed (store normally),
// open (nobody stores; the ring absorbs), half-open (one writer probes, under a lease). It opens when
// the share of failed store attempts over a sliding window passes a threshold, and probes after a
// cool-down. The rules are pure functions; the shared part is only counting and compare-and-swap.

export type BreakerState = 'closed' | 'open' | 'half_open'
const STATES: readonly BreakerState[] = ['closed', 'open', 'half_open']

/** Breaker thresholds, live-updatable. */
export interface BreakerConfig {
  /** Failed / all store attempts in the window from which the breaker opens, (0, 1]. */
  readonly failureRateThreshold: number
  /** Fewest attempts in the window before the rate is trusted. */
  readonly minRequests: number
  /** Length of the sliding window, ms (whole seconds, 1 to 60 s). */
  readonly windowMs: number
  /** How long the breaker stays open before one writer probes, ms. */
  readonly coolDownMs: number
  /**
   * How long a half-open probe is held by one writer before another writer with a batch may take
   * it over, ms. Longer than a store call should take; a prober that hangs or never stores cannot
   * hold the breaker half-open past it.
   */
  readonly probeLeaseMs: number
}

export const BREAKER_DEFAULTS: BreakerConfig = Object.freeze({ failureRateThreshold: 0.5, minRequests: 10, windowMs: 10_000, coolDownMs: 1_000, probeLeaseMs: 5_000 })

/** The pure decision: the state after seeing the window's counts at `now`. */
export function nextBreakerState(
  state: BreakerState,
  window: { successes: number; failures: number },
  config: BreakerConfig,
  openedAt: number,
  now: number,
): BreakerState {
  if (state === 'closed') {
    const total = window.successes + window.failures
    return total >= config.minRequests && window.failures / total >= config.failureRateThreshold ? 'open' : 'closed'
  }
  if (state === 'open') return now - openedAt >= config.coolDownMs ? 'half_open' : 'open'
  return 'half_open'
}

/** What the breaker's shared word says about the half-open probe, decoded. */
export interface ProbeView {
  readonly state: BreakerState
  /** The writer holding the probe; undefined when nobody does (not yet taken, or handed back). */
  readonly prober: number | undefined
  /** The holder is taking the probe right now: its lease start is not written yet. */
  readonly taking: boolean
  /** When the holder's lease began, ms since the epoch. */
  readonly probeSince: number
  readonly openedAt: number
}

/** `store`: go ahead; `take_probe`: try to become the probe, then store; `wait`: leave the store alone. */
export type ProbeDecision = 'store' | 'take_probe' | 'wait'

/**
 * The pure probe rule: what may `writer` do at `now`? Closed: store. Open: wait until the cool-down
 * has passed, then take the probe. Half-open: the holder stores; anyone else waits while the probe
 * is held under a running lease, and takes it when nobody holds it or the lease has expired.
 * Only a writer with a batch in hand may act on `take_probe` (see `mayClaim` and `allow`).
 */
export function probeDecision(v: ProbeView, writer: number, config: BreakerConfig, now: number): ProbeDecision {
  switch (v.state) {
    case 'closed':
      return 'store'
    case 'open':
      return nextBreakerState('open', { successes: 0, failures: 0 }, config, v.openedAt, now) === 'half_open' ? 'take_probe' : 'wait'
    case 'half_open':
      if (v.taking) return 'wait'
      if (v.prober === writer) return 'store'
      return v.prober === undefined || now - v.probeSince >= config.probeLeaseMs ? 'take_probe' : 'wait'
  }
}

// Layout: Int32 [word, trips], then Float64 [openedAt, threshold, minRequests, windowMs, coolDownMs,
// probeLeaseMs, probeSince] at Float64 indexes 1-7, then BUCKETS x Int32 [second, successes,
// failures] from byte 64. The word holds the state and the probe's holder together, so that opening
// to half-open and naming the probe is one compare-and-swap: bits 0-1 the state, bit 2 `taking`,
// bits 3 and up the holder's writer id + 1 (0: none).
const I_WORD = 0
const I_TRIPS = 1
const F_OPENED_AT = 1
const F_THRESHOLD = 2
const F_MIN = 3
const F_WINDOW = 4
const F_COOL = 5
const F_LEASE = 6
const F_PROBE_SINCE = 7
const BUCKETS = 60
const BUCKET_BASE = 16 // Int32 index of the first bucket
const CLOSED = 0
const OPEN = 1
const HALF_OPEN = 2
const TAKING = 4
const held = (writer: number, taking = false) => HALF_OPEN | (taking ? TAKING : 0) | ((writer + 1) << 3)

export function createBreakerBuffer(config: BreakerConfig = BREAKER_DEFAULTS): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(64 + BUCKETS * 12)
  new SharedBreaker(sab).configure(config)
  return sab
}

/** One writer's (or the manager's) handle on the pool's breaker. */
export class SharedBreaker {
  readonly #i: Int32Array
  readonly #f: Float64Array

  constructor(sab: SharedArrayBuffer) {
    this.#i = new Int32Array(sab)
    this.#f = new Float64Array(sab, 0, 8)
  }

  configure(c: BreakerConfig): void {
    this.#f[F_THRESHOLD] = c.failureRateThreshold
    this.#f[F_MIN] = c.minRequests
    this.#f[F_WINDOW] = c.windowMs
    this.#f[F_COOL] = c.coolDownMs
    this.#f[F_LEASE] = c.probeLeaseMs
  }

  get config(): BreakerConfig {
    const f = this.#f
    return { failureRateThreshold: f[F_THRESHOLD]!, minRequests: f[F_MIN]!, windowMs: f[F_WINDOW]!, coolDownMs: f[F_COOL]!, probeLeaseMs: f[F_LEASE]! }
  }

  get state(): BreakerState {
    return STATES[Atomics.load(this.#i, I_WORD) & 3]!
  }

  /** The writer holding the half-open probe, if any. */
  get prober(): number | undefined {
    return this.probe().prober
  }

  get trips(): number {
    return Atomics.load(this.#i, I_TRIPS)
  }

  get openedAt(): number {
    return this.#f[F_OPENED_AT]!
  }

  /** The state and the probe's holder and lease, read together. */
  probe(): ProbeView {
    return this.#view(Atomics.load(this.#i, I_WORD))
  }

  /** Counts of the sliding window at `now`. */
  window(now = Date.now()): { successes: number; failures: number } {
    const sec = Math.floor(now / 1000)
    const span = Math.max(1, Math.min(BUCKETS, Math.round(this.#f[F_WINDOW]! / 1000)))
    let successes = 0
    let failures = 0
    for (let k = 0; k < BUCKETS; k++) {
      const at = BUCKET_BASE + k * 3
      const s = Atomics.load(this.#i, at)
      if (sec - s < span && s <= sec) {
        successes += Atomics.load(this.#i, at + 1)
        failures += Atomics.load(this.#i, at + 2)
      }
    }
    return { successes, failures }
  }

  /** Records one store attempt and moves the breaker if it should. */
  record(ok: boolean, writer: number, now = Date.now()): void {
    const sec = Math.floor(now / 1000)
    const at = BUCKET_BASE + (sec % BUCKETS) * 3
    const s = Atomics.load(this.#i, at)
    if (s !== sec && Atomics.compareExchange(this.#i, at, s, sec) === s) {
      // This second's bucket is new: its old counts belong to a minute ago.
      Atomics.store(this.#i, at + 1, 0)
      Atomics.store(this.#i, at + 2, 0)
    }
    Atomics.add(this.#i, at + (ok ? 1 : 2), 1)
    const word = Atomics.load(this.#i, I_WORD)
    if (word === held(writer)) {
      // The probe's outcome decides: close (and forget the bad window) or open again. A probe whose
      // lease was taken over meanwhile is only counted; its successor decides.
      if (ok) this.#close(word)
      else this.#open(word, now)
    } else if (word === CLOSED && !ok && nextBreakerState('closed', this.window(now), this.config, 0, now) === 'open') {
      this.#open(CLOSED, now)
    }
  }

  /**
   * May this writer claim a batch now? Asked before claiming, it never takes the probe: a writer
   * that finds nothing to claim must not hold the breaker half-open while another writer waits with
   * a batch. Yes when the breaker is closed, when this writer holds the probe, and when the probe
   * could be taken (the writer then claims, and `allow` takes the probe with the batch in hand).
   */
  mayClaim(writer: number, now = Date.now()): boolean {
    return probeDecision(this.probe(), writer, this.config, now) !== 'wait'
  }

  /**
   * May this writer, with a batch in hand, use the store now? Closed: yes. Open: no, until the
   * cool-down has passed, when exactly one writer (the first to ask) becomes the half-open probe,
   * for `probeLeaseMs`. Half-open: only the probe, or whoever asks first once its lease has expired.
   */
  allow(writer: number, now = Date.now()): boolean {
    const word = Atomics.load(this.#i, I_WORD)
    const decision = probeDecision(this.#view(word), writer, this.config, now)
    if (decision !== 'take_probe') return decision === 'store'
    // Take the probe in one swap of the word, then publish the lease's start. While `taking` is set
    // nobody else judges the lease, so a stale start is never read as an expired lease.
    if (Atomics.compareExchange(this.#i, I_WORD, word, held(writer, true)) !== word) return false
    this.#f[F_PROBE_SINCE] = now
    Atomics.store(this.#i, I_WORD, held(writer))
    return true
  }

  /** A probe whose writer died (crashed, or was killed hung) opens the breaker again, as a failed probe would. */
  releaseProbe(writer: number, now = Date.now()): void {
    const word = Atomics.load(this.#i, I_WORD)
    if (word === held(writer) || word === held(writer, true)) this.#open(word, now)
  }

  #view(word: number): ProbeView {
    const holder = word >>> 3
    return {
      state: STATES[word & 3]!,
      prober: holder === 0 ? undefined : holder - 1,
      taking: (word & TAKING) !== 0,
      probeSince: this.#f[F_PROBE_SINCE]!,
      openedAt: this.#f[F_OPENED_AT]!,
    }
  }

  #open(from: number, now: number): void {
    // openedAt first: whoever sees the breaker open must see when it opened.
    this.#f[F_OPENED_AT] = now
    if (Atomics.compareExchange(this.#i, I_WORD, from, OPEN) === from && from === CLOSED) Atomics.add(this.#i, I_TRIPS, 1)
  }

  #close(from: number): void {
    for (let k = 0; k < BUCKETS; k++) {
      Atomics.store(this.#i, BUCKET_BASE + k * 3 + 1, 0)
      Atomics.store(this.#i, BUCKET_BASE + k * 3 + 2, 0)
    }
    Atomics.compareExchange(this.#i, I_WORD, from, CLOSED)
  }
}
