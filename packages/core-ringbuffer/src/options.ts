// Ring options: an all-optional type, frozen defaults, and one resolve step that checks a field at
// a time and throws a RingOptionError naming the option (piscina's shape, with stable codes).

import { RingOptionError } from './errors.js'
import { MAX_SIZE, OVERFLOW_NAMES, type OverflowStrategy } from './layout.js'
import { resolveSampling, type SamplingPolicy } from './sampling.js'

/** Options of `RingBuffer.create`. */
export interface RingBufferOptions {
  /**
   * Capacity in events; a power of two from 1 to 2^24. Defaults to 16384 (8 MiB of shared memory
   * with the default `maxEventBytes`): about a third of a second of two SQLite writers' drain at
   * full speed, more than a writer's restart takes (see the package README, "Choosing a size").
   */
  size?: number
  /**
   * What a write does when the ring is full: `drop_newest` refuses the new event, `drop_oldest`
   * discards the oldest event no consumer has claimed, `block` waits up to `blockTimeoutMs` for
   * space and then refuses with `timeout`. Defaults to `drop_newest`.
   */
  overflowStrategy?: OverflowStrategy
  /**
   * Byte budget of one encoded event; a larger event is refused with `too_large`. Each slot
   * reserves this many bytes, so the ring's memory is about `size * maxEventBytes`. An integer
   * from 64 to 1 MiB. Defaults to 512.
   */
  maxEventBytes?: number
  /** Longest wait of a `block` write, in ms; an integer from 0 to 10000. Defaults to 10. */
  blockTimeoutMs?: number
  /** Number of consumer ids (0 .. maxConsumers-1) the ring can track claims for; 1 to 1024. Defaults to 64. */
  maxConsumers?: number
  /**
   * A sampling policy in force from the start (see `setSampling`): above a fill level, keep 1 in N
   * events of each type. It lives in shared memory, not in `options`: read it with `ring.sampling`.
   * Defaults to none.
   */
  sampling?: SamplingPolicy
}

/** Options after defaults and validation. */
export interface ResolvedRingOptions {
  readonly size: number
  readonly overflowStrategy: OverflowStrategy
  readonly maxEventBytes: number
  readonly blockTimeoutMs: number
  readonly maxConsumers: number
}

/** Defaults of every ring option. */
export const RING_DEFAULTS: ResolvedRingOptions = Object.freeze({
  size: 16384,
  overflowStrategy: 'drop_newest',
  maxEventBytes: 512,
  blockTimeoutMs: 10,
  maxConsumers: 64,
})

const KNOWN = new Set([...Object.keys(RING_DEFAULTS), 'sampling'])

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RingOptionError(
      'invalid_option',
      name,
      `option '${name}' must be an integer from ${min} to ${max}, got ${describe(value)}`,
    )
  }
  return value
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}

/** Applies defaults and validates; throws RingOptionError naming the first bad option. */
export function resolveRingOptions(options: unknown): ResolvedRingOptions {
  if (options === undefined) return RING_DEFAULTS
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new RingOptionError('invalid_option', 'options', `options must be an object, got ${describe(options)}`)
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new RingOptionError('invalid_option', key, `unknown option '${key}'`)
  }
  let size = RING_DEFAULTS.size
  if (o.size !== undefined) {
    const s = o.size
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 1) {
      throw new RingOptionError('invalid_size', 'size', `option 'size' must be a positive integer, got ${describe(s)}`)
    }
    if ((s & (s - 1)) !== 0 || s > MAX_SIZE) {
      throw new RingOptionError(
        'size_must_be_power_of_2',
        'size',
        `option 'size' must be a power of two no larger than ${MAX_SIZE}, got ${s}`,
      )
    }
    size = s
  }
  let overflowStrategy = RING_DEFAULTS.overflowStrategy
  if (o.overflowStrategy !== undefined) {
    if (!OVERFLOW_NAMES.includes(o.overflowStrategy as OverflowStrategy)) {
      throw new RingOptionError(
        'invalid_overflow_strategy',
        'overflowStrategy',
        `option 'overflowStrategy' must be one of ${OVERFLOW_NAMES.join(', ')}, got ${describe(o.overflowStrategy)}`,
      )
    }
    overflowStrategy = o.overflowStrategy as OverflowStrategy
  }
  const pick = (name: keyof ResolvedRingOptions, min: number, max: number): number =>
    o[name] === undefined ? (RING_DEFAULTS[name] as number) : integerIn(name, o[name], min, max)
  const maxEventBytes = pick('maxEventBytes', 64, 1 << 20)
  const blockTimeoutMs = pick('blockTimeoutMs', 0, 10_000)
  const maxConsumers = pick('maxConsumers', 1, 1024)
  if (o.sampling !== undefined) resolveSampling(o.sampling) // checked here, in option order; create stores it
  const totalData = size * maxEventBytes
  if (totalData > 2 ** 30) {
    throw new RingOptionError(
      'invalid_option',
      'maxEventBytes',
      `size * maxEventBytes must be at most 1 GiB, got ${size} * ${maxEventBytes}`,
    )
  }
  return Object.freeze({ size, overflowStrategy, maxEventBytes, blockTimeoutMs, maxConsumers })
}
