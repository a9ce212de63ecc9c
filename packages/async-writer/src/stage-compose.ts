// Stage combinators: `when` (run a stage only on events a predicate accepts), `parallel` (run
// stages side by side on one event and merge what they return), `withTimeout` (a stage that does
// not settle in time fails the event), and the `retryLater` marker a stage returns to have an event
// tried again after a delay. The spec forms that name them in a writer thread are in stage-specs.ts.

import type { Stage, StageContext } from './stages.js'
import { StageTimeoutError } from './errors.js'

/** Marks a stage's answer "try this event again later". Symbol.for: two copies of the package agree. */
export const RETRY_LATER: unique symbol = Symbol.for('ringside.retryLater') as never

/** What `retryLater()` returns. */
export interface RetryLater {
  readonly [RETRY_LATER]: true
  /** Wait before the event goes through this stage again, ms. */
  readonly delayMs: number
  /** Times an event may be put off by this stage; asked once more, it is dead-lettered (`stage_error`). */
  readonly maxTimes: number
  /** Said in the dead letter's error if the event runs out of retries. */
  readonly reason: string | undefined
}

/** Defaults of `retryLater()`: 1 s, three times. */
export const RETRY_LATER_DEFAULTS = Object.freeze({ delayMs: 1_000, maxTimes: 3 })

/**
 * Returned by a stage's `process`: the event is not stored now; it comes back to this same stage
 * (as the stage received it) after `delayMs`, without holding up the rest of its batch. After
 * `maxTimes` put-offs the next request sends it to the dead letters (`stage_error`).
 */
export function retryLater(options: { delayMs?: number; maxTimes?: number; reason?: string } = {}): RetryLater {
  const delayMs = options.delayMs ?? RETRY_LATER_DEFAULTS.delayMs
  const maxTimes = options.maxTimes ?? RETRY_LATER_DEFAULTS.maxTimes
  if (!(Number.isFinite(delayMs) && delayMs >= 0)) throw new RangeError(`retryLater: delayMs must be a number >= 0, got ${String(delayMs)}`)
  if (!(Number.isInteger(maxTimes) && maxTimes >= 0)) throw new RangeError(`retryLater: maxTimes must be an integer >= 0, got ${String(maxTimes)}`)
  return Object.freeze({ [RETRY_LATER]: true as const, delayMs, maxTimes, reason: options.reason })
}

export const isRetryLater = (v: unknown): v is RetryLater => v !== null && typeof v === 'object' && (v as Record<symbol, unknown>)[RETRY_LATER] === true

/** An event predicate: sync or async. A predicate that throws fails the event (`stage_error`). */
export type EventPredicate = (event: Record<string, unknown>, context: StageContext) => boolean | Promise<boolean>

type Result = Awaited<ReturnType<Stage['process']>>

/** Runs `stage` only on events `predicate` accepts; the others pass unchanged. */
export function when(predicate: EventPredicate, stage: Stage, name = `when(${stage.name ?? 'stage'})`): Stage {
  return {
    name,
    async process(event, context) {
      return (await predicate(event, context)) ? stage.process(event, context) : event
    },
  }
}

/**
 * Runs `stages` side by side on the same event, each on its own shallow copy, and merges:
 * an error (the first in list order) fails the event; else a `retryLater` puts it off (the longest
 * delay, the fewest maxTimes); else a drop (null) drops it; else each branch's patch (the top-level
 * fields it added, changed or deleted against the input) is applied in list order, so on a
 * conflict the later branch wins. A nested value is shared between branches: replace it, do not
 * mutate it in place. Every branch settles before the merge (no branch is left running).
 */
export function parallel(stages: readonly Stage[], name = `parallel(${stages.map((s, i) => s.name ?? `#${i}`).join(', ')})`): Stage {
  return {
    name,
    async process(event, context) {
      const settled = await Promise.allSettled(stages.map(async (s) => s.process({ ...event }, context)))
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
      const results = settled.map((r) => (r as PromiseFulfilledResult<Result>).value)
      const later = results.filter(isRetryLater)
      if (later.length > 0) {
        return retryLater({
          delayMs: Math.max(...later.map((l) => l.delayMs)),
          maxTimes: Math.min(...later.map((l) => l.maxTimes)),
          reason: later.map((l) => l.reason).filter((r) => r !== undefined).join('; ') || undefined,
        } as { delayMs: number; maxTimes: number; reason?: string })
      }
      if (results.some((r) => r === null || r === undefined)) return null
      const out: Record<string, unknown> = { ...event }
      for (const r of results as Record<string, unknown>[]) {
        for (const k of Object.keys(r)) if (!Object.hasOwn(event, k) || r[k] !== event[k]) out[k] = r[k]
        for (const k of Object.keys(event)) if (!Object.hasOwn(r, k)) delete out[k]
      }
      return out
    },
  }
}

/**
 * Fails an event whose pass through `stage` does not settle within `timeoutMs` (StageTimeoutError,
 * code `stage_timeout`: a `stage_error` dead letter). The late result is ignored. A stage that
 * blocks its thread (a synchronous loop) cannot be timed here: the pool's batchTimeoutMs catches it.
 */
export function withTimeout(stage: Stage, timeoutMs: number): Stage {
  const name = stage.name
  return {
    ...(name === undefined ? {} : { name }),
    process(event, context) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StageTimeoutError(name ?? 'stage', timeoutMs)), timeoutMs)
      })
      return Promise.race([Promise.resolve().then(() => stage.process(event, context)), timeout]).finally(() => clearTimeout(timer))
    },
  }
}
