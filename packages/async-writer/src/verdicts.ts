// Verdicts on claims that killed their writers, in shared memory. The pool, which sees writers die,
// records each death of a writer holding a claim (by the claim's sequence range) and, for a writer
// that died while processing one event alone, that event as a killer. Every writer reads them when
// it takes over a claim: a claim that has killed two writers is processed one event at a time, and a
// killer goes to the dead letters unprocessed. Shared memory, so a restarted writer and a live one
// adopting orphaned claims see the same verdicts.

/** Why an event was quarantined by the supervisor: it killed its writer, or hung it past the batch deadline. */
export type KillerReason = 'crashed_writer' | 'timeout'

const SUSPECTS = 64
const KILLERS = 128
const SUSPECT_WORDS = 3 // from, to, deaths
const KILLER_WORDS = 2 // seq, reason code
const HEADER = 2 // [0] suspects written, [1] killers written
const REASONS: readonly KillerReason[] = ['crashed_writer', 'timeout']

/** Deaths of the same claim after which its heir processes it one event at a time. */
export const ISOLATE_AFTER_DEATHS = 2

export function createVerdictBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER + SUSPECTS * SUSPECT_WORDS + KILLERS * KILLER_WORDS) * 8)
}

/**
 * The table is written by one thread only (the pool's), and read after a hand-over that the ring
 * orders with atomics; the tables are circular, and sequence numbers are unique forever, so an old
 * entry that is overwritten only loses a verdict about a claim long committed.
 */
export class ClaimVerdicts {
  readonly #w: Float64Array

  constructor(buffer: SharedArrayBuffer) {
    this.#w = new Float64Array(buffer)
  }

  /** Records a death of a writer that held the claim spanning sequence numbers from..to; returns that claim's deaths so far. */
  recordDeath(from: number, to: number): number {
    const deaths = this.deathsOf(from, to) + 1
    const n = this.#w[0]!
    const at = HEADER + (n % SUSPECTS) * SUSPECT_WORDS
    this.#w[at] = from
    this.#w[at + 1] = to
    this.#w[at + 2] = deaths
    this.#w[0] = n + 1
    return deaths
  }

  /** Most deaths recorded for a claim overlapping from..to (0 when none). */
  deathsOf(from: number, to: number): number {
    const n = Math.min(this.#w[0]!, SUSPECTS)
    let most = 0
    for (let k = 0; k < n; k++) {
      const at = HEADER + k * SUSPECT_WORDS
      if (this.#w[at]! <= to && from <= this.#w[at + 1]!) most = Math.max(most, this.#w[at + 2]!)
    }
    return most
  }

  /** Records that the event with sequence number `seq` killed (or hung) a writer while processed alone. */
  recordKiller(seq: number, reason: KillerReason): void {
    const n = this.#w[1]!
    const at = HEADER + SUSPECTS * SUSPECT_WORDS + (n % KILLERS) * KILLER_WORDS
    this.#w[at] = seq
    this.#w[at + 1] = REASONS.indexOf(reason)
    this.#w[1] = n + 1
  }

  /** True when any killer was ever recorded (the writer's fast path skips the lookups otherwise). */
  get anyVerdict(): boolean {
    return this.#w[0]! > 0 || this.#w[1]! > 0
  }

  /** Why the event `seq` is a killer, or undefined when it is not. */
  killerReason(seq: number): KillerReason | undefined {
    const n = Math.min(this.#w[1]!, KILLERS)
    for (let k = 0; k < n; k++) {
      const at = HEADER + SUSPECTS * SUSPECT_WORDS + k * KILLER_WORDS
      if (this.#w[at] === seq) return REASONS[this.#w[at + 1]!]
    }
    return undefined
  }
}
