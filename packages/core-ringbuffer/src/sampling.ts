// The capture-side sampling policy: above a fill level, keep 1 in N events of each `type` and
// always keep the types listed. The policy lives in the ring's shared memory (layout.ts, P_*), so
// a change made in any thread applies to every producer; each thread keeps its own copy and its
// own per-type counts, refreshed when the policy's sequence word moves.

import { RingOptionError } from './errors.js'
import { MAX_KEEP_BYTES, POLICY_WORDS, P_ABOVE, P_ABOVE_PPM, P_EVERY, P_KEEP_LEN, P_SEQ } from './layout.js'
import { usedSlots } from './pressure.js'
import type { Views } from './internal/views.js'

/** A sampling policy as the user gives it (ring option `sampling`, or `ring.setSampling`). */
export interface SamplingPolicy {
  /** Fill (0..1, slots in use / size) from which events are sampled. 0 samples always. Defaults to 0.8. */
  above?: number
  /** Keep 1 in this many events of each type, the first of every N; an integer from 1 to 1000000 (1 keeps all). Required. */
  keepOneIn: number
  /** Types never sampled out (compared with the event's own `type` string). At most 64 names, 1 KiB as JSON. Defaults to none. */
  alwaysKeep?: readonly string[]
}

/** A policy after defaults and validation. */
export interface ResolvedSamplingPolicy {
  readonly above: number
  readonly keepOneIn: number
  readonly alwaysKeep: readonly string[]
}

const DEFAULT_ABOVE = 0.8
/** Distinct types one thread counts separately; later ones share one counter (bounded memory). */
const MAX_COUNTED_TYPES = 1024
/** How long setSampling waits for another thread's change to finish before taking over (that thread died mid-change). */
const SEQ_WAIT_MS = 100
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Where a policy lives: a ring's policy region, or a priority ring's own (its `size` is the budget). */
export type PolicyViews = Pick<Views, 'policy' | 'keep' | 'size'>

/** A policy region of its own (a priority ring's): the words and the always-kept list, in one buffer. */
export function policyViewsOf(sab: SharedArrayBuffer, size: number): PolicyViews {
  return { policy: new Int32Array(sab, 0, POLICY_WORDS), keep: new Uint8Array(sab, POLICY_WORDS * 4, MAX_KEEP_BYTES), size }
}

/** Bytes of a policy region of its own. */
export const POLICY_BYTES = POLICY_WORDS * 4 + MAX_KEEP_BYTES

function fail(option: string, message: string): never {
  throw new RingOptionError('invalid_option', option, `option '${option}' ${message}`)
}

/** Validates a policy; throws RingOptionError naming the field (`sampling.keepOneIn`, ...). */
export function resolveSampling(value: unknown, name = 'sampling'): ResolvedSamplingPolicy {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(name, 'must be an object { above?, keepOneIn, alwaysKeep? }')
  const o = value as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (key !== 'above' && key !== 'keepOneIn' && key !== 'alwaysKeep') fail(`${name}.${key}`, 'is not a sampling option')
  }
  const above = o.above === undefined ? DEFAULT_ABOVE : o.above
  if (typeof above !== 'number' || !(above >= 0 && above <= 1)) fail(`${name}.above`, `must be a number from 0 to 1, got ${String(above)}`)
  const n = o.keepOneIn
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1_000_000) fail(`${name}.keepOneIn`, `must be an integer from 1 to 1000000, got ${String(n)}`)
  const keep = o.alwaysKeep === undefined ? [] : o.alwaysKeep
  if (!Array.isArray(keep) || keep.length > 64 || !keep.every((t) => typeof t === 'string' && t !== '')) {
    fail(`${name}.alwaysKeep`, 'must be an array of at most 64 non-empty type names')
  }
  if (encoder.encode(JSON.stringify(keep)).length > MAX_KEEP_BYTES) fail(`${name}.alwaysKeep`, `must take at most ${MAX_KEEP_BYTES} bytes as JSON`)
  return Object.freeze({ above, keepOneIn: n, alwaysKeep: Object.freeze([...(keep as string[])]) })
}

/** Writes `policy` (null: off) into the ring's shared memory; every thread applies it from its next write. */
export function storeSampling(v: PolicyViews, policy: ResolvedSamplingPolicy | null): void {
  const p = v.policy
  const deadline = performance.now() + SEQ_WAIT_MS
  let seq: number
  for (;;) {
    seq = Atomics.load(p, P_SEQ)
    if ((seq & 1) === 0) {
      if (Atomics.compareExchange(p, P_SEQ, seq, (seq + 1) | 0) === seq) break
    } else if (performance.now() > deadline) {
      // A change left half-written by a thread that died in it: take it over, staying odd.
      if (Atomics.compareExchange(p, P_SEQ, seq, (seq + 2) | 0) === seq) {
        seq = (seq + 1) | 0
        break
      }
    } else {
      Atomics.wait(p, P_SEQ, seq, 1)
    }
  }
  const bytes = policy === null ? new Uint8Array(0) : encoder.encode(JSON.stringify(policy.alwaysKeep))
  v.keep.set(bytes)
  Atomics.store(p, P_KEEP_LEN, bytes.length)
  Atomics.store(p, P_EVERY, policy === null ? 0 : policy.keepOneIn)
  // In slots, rounded up, so the producer's test is one integer comparison.
  Atomics.store(p, P_ABOVE, policy === null ? 0 : Math.ceil(policy.above * v.size))
  Atomics.store(p, P_ABOVE_PPM, policy === null ? 0 : Math.round(policy.above * 1e6))
  Atomics.store(p, P_SEQ, (seq + 2) | 0)
  Atomics.notify(p, P_SEQ)
}

/** One thread's view of the policy and its per-type counts. */
export class Sampler {
  readonly #v: PolicyViews
  /** Slots in use, compared with the level: the ring's own, or a priority ring's whole budget. */
  readonly #used: () => number
  #seq = -1
  #every = 0
  #aboveSlots = 0
  #policy: ResolvedSamplingPolicy | null = null
  #keep: ReadonlySet<string> = new Set()
  #counts = new Map<string, number>()
  #others = 0

  constructor(v: Views)
  constructor(v: PolicyViews, used: () => number)
  constructor(v: PolicyViews, used?: () => number) {
    this.#v = v
    this.#used = used ?? (() => usedSlots(v as Views))
  }

  /** The policy in force (null: off). */
  get policy(): ResolvedSamplingPolicy | null {
    this.#refresh()
    return this.#policy
  }

  /**
   * True when `event` is sampled out. The producer's pre-check, before encoding: one Atomics load
   * when off; above the level, a property read and a map update. A `type` getter that throws is
   * not sampled here (encoding then refuses the event with its own reason).
   */
  skips(event: object): boolean {
    // A plain read of the sequence word on every write; #refresh reads the policy with Atomics.
    if (this.#v.policy[P_SEQ] !== this.#seq) this.#refresh()
    if (this.#every <= 1 || this.#used() < this.#aboveSlots) return false
    let type: unknown
    try {
      type = (event as { type?: unknown }).type
    } catch {
      return false
    }
    if (typeof type === 'string' && this.#keep.has(type)) return false
    let n: number
    if (typeof type === 'string' && (this.#counts.has(type) || this.#counts.size < MAX_COUNTED_TYPES)) {
      n = this.#counts.get(type) ?? 0
      this.#counts.set(type, n + 1)
    } else {
      n = this.#others++
    }
    return n % this.#every !== 0
  }

  /** Reads the shared policy under its sequence lock; a change in progress keeps the old copy until the next write. */
  #refresh(): void {
    const p = this.#v.policy
    const seq = Atomics.load(p, P_SEQ)
    if (seq === this.#seq || (seq & 1) !== 0) return
    const every = Atomics.load(p, P_EVERY)
    const aboveSlots = Atomics.load(p, P_ABOVE)
    const abovePpm = Atomics.load(p, P_ABOVE_PPM)
    const len = Atomics.load(p, P_KEEP_LEN)
    const bytes = this.#v.keep.slice(0, Math.min(len, MAX_KEEP_BYTES)) // a private copy: TextDecoder refuses shared memory
    if (Atomics.load(p, P_SEQ) !== seq) return
    let keep: string[] = []
    try {
      keep = len === 0 ? [] : (JSON.parse(decoder.decode(bytes)) as string[])
    } catch {
      return // torn read: the sequence check above makes this unreachable, but never throw from write
    }
    this.#seq = seq
    this.#every = every
    this.#aboveSlots = aboveSlots
    this.#keep = new Set(keep)
    this.#counts = new Map()
    this.#others = 0
    this.#policy = every === 0 ? null : Object.freeze({ above: abovePpm / 1e6, keepOneIn: every, alwaysKeep: Object.freeze(keep) })
  }
}
