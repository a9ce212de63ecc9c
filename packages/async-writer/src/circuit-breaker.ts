// A circuit breaker shared by every writer of a pool, in shared memory: closed (store normally),
// open (nobody claims; the ring absorbs), half-open (one writer probes). It opens when the share of
// failed store attempts over a sliding window passes a threshold, and probes after a cool-down.
// The transitions are a pure function; the shared part is only counting and compare-and-swap.

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
}

export const BREAKER_DEFAULTS: BreakerConfig = Object.freeze({ failureRateThreshold: 0.5, minRequests: 10, windowMs: 10_000, coolDownMs: 1_000 })

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

// Layout: Int32 words [state, trips, prober], Float64 [openedAt, threshold, minRequests, windowMs,
// coolDownMs] from byte 16, then BUCKETS x Int32 [second, successes, failures] from byte 64.
const I_STATE = 0
const I_TRIPS = 1
const I_PROBER = 2
const F_OPENED_AT = 2
const F_THRESHOLD = 3
const F_MIN = 4
const F_WINDOW = 5
const F_COOL = 6
const BUCKETS = 60
const BUCKET_BASE = 16 // Int32 index of the first bucket

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
  }

  get config(): BreakerConfig {
    return { failureRateThreshold: this.#f[F_THRESHOLD]!, minRequests: this.#f[F_MIN]!, windowMs: this.#f[F_WINDOW]!, coolDownMs: this.#f[F_COOL]! }
  }

  get state(): BreakerState {
    return STATES[Atomics.load(this.#i, I_STATE)]!
  }

  get trips(): number {
    return Atomics.load(this.#i, I_TRIPS)
  }

  get openedAt(): number {
    return this.#f[F_OPENED_AT]!
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
    const state = this.state
    if (state === 'half_open' && Atomics.load(this.#i, I_PROBER) === writer + 1) {
      // The probe's outcome decides: close (and forget the bad window) or open again.
      if (ok) this.#reset()
      else this.#open(now)
    } else if (state === 'closed' && !ok && nextBreakerState('closed', this.window(now), this.config, 0, now) === 'open') {
      this.#open(now)
    }
  }

  /**
   * May this writer use the store now? Closed: yes. Open: no, until the cool-down has passed, when
   * exactly one writer (the first to ask) becomes the half-open probe. Half-open: only the probe.
   */
  allow(writer: number, now = Date.now()): boolean {
    const state = this.state
    if (state === 'closed') return true
    if (state === 'open') {
      if (nextBreakerState('open', { successes: 0, failures: 0 }, this.config, this.openedAt, now) !== 'half_open') return false
      if (Atomics.compareExchange(this.#i, I_STATE, 1, 2) !== 1) return Atomics.load(this.#i, I_PROBER) === writer + 1
      Atomics.store(this.#i, I_PROBER, writer + 1)
      return true
    }
    return Atomics.load(this.#i, I_PROBER) === writer + 1
  }

  /** May this writer claim a batch now? (Asked before claiming; `allow` is asked before storing.) */
  mayClaim(writer: number, now = Date.now()): boolean {
    return this.allow(writer, now)
  }

  /** A probe that died (its writer crashed) must not leave the breaker half-open forever. */
  releaseProbe(writer: number, now = Date.now()): void {
    if (this.state === 'half_open' && Atomics.compareExchange(this.#i, I_PROBER, writer + 1, 0) === writer + 1) this.#open(now)
  }

  #open(now: number): void {
    this.#f[F_OPENED_AT] = now
    const prev = Atomics.exchange(this.#i, I_STATE, 1)
    if (prev !== 1) Atomics.add(this.#i, I_TRIPS, prev === 0 ? 1 : 0)
    Atomics.store(this.#i, I_PROBER, 0)
  }

  #reset(): void {
    for (let k = 0; k < BUCKETS; k++) {
      Atomics.store(this.#i, BUCKET_BASE + k * 3 + 1, 0)
      Atomics.store(this.#i, BUCKET_BASE + k * 3 + 2, 0)
    }
    Atomics.store(this.#i, I_PROBER, 0)
    Atomics.store(this.#i, I_STATE, 0)
  }
}
