// Backpressure signals for the application: the ring's fill, an open store breaker and writers
// that are down, folded into one value whose crossings of configured levels become 'pressure'
// events. The rule (stepPressure) is a pure function of a sample; PressureWatch only samples on a timer.

/** What is pushing back: the ring filling, the store breaker open, or writers down. */
export type PressureReason = 'ring_fill' | 'store_breaker_open' | 'writers_down'

/** The `pressure` option. */
export interface PressureConfig {
  /** Levels (0..1, increasing) whose crossings are reported. 1 to 8 of them. Defaults to [0.5, 0.8, 0.95]. */
  levels: readonly number[]
  /** How far below a level the value must fall before the level is left (no flapping); 0 .. below the lowest level. Defaults to 0.05. */
  hysteresis: number
  /** How often the manager samples, ms; 0 never (no 'pressure' events). 0 or 10 .. 60000. Defaults to 250. */
  intervalMs: number
}

export const PRESSURE_DEFAULTS: Readonly<PressureConfig> = Object.freeze({ levels: Object.freeze([0.5, 0.8, 0.95]), hysteresis: 0.05, intervalMs: 250 })

/** One reading of the pipeline's condition. */
export interface PressureSample {
  /** ring.pressure(): 0..1. */
  readonly ringFill: number
  /** The store circuit breaker is open (writers do not try the store). */
  readonly breakerOpen: boolean
  /** Writers the pool should run, and those running. */
  readonly writersTarget: number
  readonly writersRunning: number
}

/** The manager's 'pressure' event: the level now in force (0: below every level) and what drove it. */
export interface PressureEvent {
  /** The level now in force: one of `levels`, or 0 once the value fell below the lowest. */
  readonly level: number
  /** The level before this crossing. */
  readonly previous: number
  /** True when the level went up. */
  readonly rising: boolean
  /** The strongest signal in the sample that crossed. */
  readonly reason: PressureReason
  /** Its value, 0..1. */
  readonly value: number
}

/**
 * The strongest of the sample's signals, each 0..1: the ring's fill; 1 while the breaker is open
 * (events wait in the ring whatever its fill); the share of writers down. Ties go to the ring.
 */
export function strongest(s: PressureSample): { reason: PressureReason; value: number } {
  let reason: PressureReason = 'ring_fill'
  let value = Math.min(1, Math.max(0, s.ringFill))
  if (s.breakerOpen && value < 1) {
    reason = 'store_breaker_open'
    value = 1
  }
  const down = s.writersTarget > 0 ? Math.max(0, s.writersTarget - s.writersRunning) / s.writersTarget : 0
  if (down > value) {
    reason = 'writers_down'
    value = down
  }
  return { reason, value }
}

/**
 * The level after a value, from the level in force: up to the highest level the value reaches; down
 * only once the value is more than `hysteresis` below the level in force, and then to the highest
 * lower level it is still within `hysteresis` of (0 below them all). Otherwise unchanged.
 */
export function nextLevel(current: number, value: number, levels: readonly number[], hysteresis: number): number {
  let up = 0
  for (const l of levels) if (value >= l) up = l
  if (up > current) return up
  if (value >= current - hysteresis) return current
  let down = 0
  for (const l of levels) if (l < current && value >= l - hysteresis) down = l
  return down
}

/** One step of the rule: the next level, and the event when it changed. */
export function stepPressure(current: number, sample: PressureSample, config: Pick<PressureConfig, 'levels' | 'hysteresis'>): { level: number; event?: PressureEvent } {
  const { reason, value } = strongest(sample)
  const level = nextLevel(current, value, config.levels, config.hysteresis)
  if (level === current) return { level }
  return { level, event: { level, previous: current, rising: level > current, reason, value } }
}

/** Samples on a timer (unref'd) and reports each crossing. */
export class PressureWatch {
  readonly #read: () => PressureSample
  readonly #emit: (e: PressureEvent) => void
  #config: PressureConfig
  #level = 0
  #last: { reason: PressureReason; value: number } = { reason: 'ring_fill', value: 0 }
  #timer: NodeJS.Timeout | undefined

  constructor(read: () => PressureSample, emit: (e: PressureEvent) => void, config: PressureConfig) {
    this.#read = read
    this.#emit = emit
    this.#config = config
  }

  /** The level in force and the latest reading. */
  get state(): { level: number; reason: PressureReason; value: number } {
    return { level: this.#level, ...this.#last }
  }

  /** Applies a new config (live): the level in force stays until the next sample moves it by the new rule. */
  configure(config: PressureConfig): void {
    const restart = config.intervalMs !== this.#config.intervalMs
    this.#config = config
    if (restart) this.start()
  }

  start(): void {
    this.stop()
    if (this.#config.intervalMs === 0) return
    this.#timer = setInterval(() => this.sample(), this.#config.intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Takes one sample now; emits when the level changed. */
  sample(): void {
    const s = this.#read()
    this.#last = strongest(s)
    const { level, event } = stepPressure(this.#level, s, this.#config)
    this.#level = level
    if (event) this.#emit(event)
  }
}
