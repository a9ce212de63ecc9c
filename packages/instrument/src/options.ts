// Capture options in three parts: the all-optional user type, frozen defaults, and a resolve step
// that checks one field at a time and throws InstrumentOptionError naming the option.

import type { RingBuffer } from '@ringside/core-ringbuffer'
import { InstrumentOptionError } from './errors.js'
import { SUMMARY_DEFAULTS, type SummaryLimits } from './summary.js'

/** Options of `instrument()`; every one is optional. */
export interface InstrumentOptions {
  /** The ring events go to. Defaults to the one set before, else none (events are counted as `noRing`). */
  ring?: RingBuffer
  /** Record 1 call in N of each function; exceptions are always recorded. 1 .. 2^31. Defaults to 1 (every call). */
  sampleEvery?: number
  /** Most calls recorded per function per second; the rest are counted as `rateLimited`. 0 means no cap. Defaults to 10000. */
  maxCallsPerSecond?: number
  /** Limits of argument and result summaries, and the keys to redact. */
  summary?: Partial<SummaryLimits>
  /** Lines of an exception's stack kept after its message line. 0 .. 50. Defaults to 5. */
  stackLines?: number
}

/** Options after defaults. */
export interface ResolvedInstrumentOptions {
  readonly sampleEvery: number
  readonly maxCallsPerSecond: number
  readonly summary: SummaryLimits
  readonly stackLines: number
}

export const INSTRUMENT_DEFAULTS: ResolvedInstrumentOptions = Object.freeze({
  sampleEvery: 1,
  maxCallsPerSecond: 10_000,
  summary: SUMMARY_DEFAULTS,
  stackLines: 5,
})

const KEYS = new Set(['ring', 'sampleEvery', 'maxCallsPerSecond', 'summary', 'stackLines'])
const SUMMARY_KEYS = new Set(Object.keys(SUMMARY_DEFAULTS))

function int(option: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InstrumentOptionError(option, `${option} must be an integer from ${min} to ${max}, got ${String(v)}`)
  return v
}

/** Applies `patch` over `base`, checking each given field. */
export function resolveOptions(patch: InstrumentOptions, base: ResolvedInstrumentOptions = INSTRUMENT_DEFAULTS): ResolvedInstrumentOptions {
  if (typeof patch !== 'object' || patch === null) throw new InstrumentOptionError('options', 'options must be an object')
  for (const k of Object.keys(patch)) if (!KEYS.has(k)) throw new InstrumentOptionError(k, `unknown option ${k}`)
  let summary = base.summary
  if (patch.summary !== undefined) {
    const s = patch.summary
    if (typeof s !== 'object' || s === null) throw new InstrumentOptionError('summary', 'summary must be an object')
    for (const k of Object.keys(s)) if (!SUMMARY_KEYS.has(k)) throw new InstrumentOptionError(`summary.${k}`, `unknown option summary.${k}`)
    const redact = s.redact ?? summary.redact
    if (!Array.isArray(redact) || redact.some((r) => typeof r !== 'string' || r === '')) throw new InstrumentOptionError('summary.redact', 'summary.redact must be an array of non-empty strings')
    summary = Object.freeze({
      maxDepth: s.maxDepth === undefined ? summary.maxDepth : int('summary.maxDepth', s.maxDepth, 0, 16),
      maxStringLength: s.maxStringLength === undefined ? summary.maxStringLength : int('summary.maxStringLength', s.maxStringLength, 1, 1 << 20),
      maxItems: s.maxItems === undefined ? summary.maxItems : int('summary.maxItems', s.maxItems, 0, 10_000),
      maxBytes: s.maxBytes === undefined ? summary.maxBytes : int('summary.maxBytes', s.maxBytes, 16, 1 << 20),
      redact: Object.freeze([...redact]),
    })
  }
  return Object.freeze({
    sampleEvery: patch.sampleEvery === undefined ? base.sampleEvery : int('sampleEvery', patch.sampleEvery, 1, 2 ** 31),
    maxCallsPerSecond: patch.maxCallsPerSecond === undefined ? base.maxCallsPerSecond : int('maxCallsPerSecond', patch.maxCallsPerSecond, 0, 2 ** 31),
    summary,
    stackLines: patch.stackLines === undefined ? base.stackLines : int('stackLines', patch.stackLines, 0, 50),
  })
}
