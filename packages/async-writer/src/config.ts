// The writer's live configuration: defaults, and the check of a patch. The manager validates user
// input first (with option paths); this is the writer's own guard against a malformed message.

import { WriterConfigError } from './errors.js'
import { checkRetryPolicy, type RetryPolicy } from './retry-policy.js'

/** Settings a writer applies live. */
export interface WriterConfig {
  /** Most events per stored batch. */
  readonly batchSize: number
  /** About this many encoded bytes per batch (at least one event is always taken). */
  readonly maxBatchBytes: number
  /** Longest time an event waits for its batch to fill before a partial batch is written, ms. */
  readonly lingerMs: number
  /** Longest sleep while waiting for data, ms (the writer also wakes as soon as data arrives). */
  readonly pollIntervalMs: number
  /** Report every batch to the manager, which logs it (the debug preset turns this on). */
  readonly logBatches: boolean
  /** First delay after a store error, ms; doubled per attempt with full jitter. */
  readonly retryBaseMs: number
  /** Longest delay between store attempts, ms. */
  readonly retryMaxMs: number
  /** Attempts of a batch failing with a permanent error before it is split to isolate the poison. */
  readonly permanentAttempts: number
  /**
   * Deadline of each step of work on a held claim (its stages, each store attempt), ms. Past it the
   * supervisor judges the writer hung and replaces it; an asynchronous store call fails as a
   * transient error at 90 % of it. Waits (linger, retry backoff, an open breaker) do not count.
   */
  readonly batchTimeoutMs: number
  /**
   * The store retry policy (see RetryPolicy). Absent: transient errors are retried without limit,
   * backoff from `retryBaseMs` doubling up to `retryMaxMs`, while the ring absorbs new events.
   */
  readonly retry?: RetryPolicy | undefined
}

export const WRITER_DEFAULTS: WriterConfig = Object.freeze({
  batchSize: 500,
  maxBatchBytes: 4 << 20,
  lingerMs: 20,
  pollIntervalMs: 20,
  logBatches: false,
  retryBaseMs: 50,
  retryMaxMs: 5_000,
  permanentAttempts: 2,
  batchTimeoutMs: 35_000,
})

const NUMERIC = ['batchSize', 'maxBatchBytes', 'lingerMs', 'pollIntervalMs', 'retryBaseMs', 'retryMaxMs', 'permanentAttempts', 'batchTimeoutMs'] as const

/** Returns `base` with `patch` applied; throws WriterConfigError (`invalid_writer_config`) naming the key for anything malformed. */
export function applyWriterPatch(base: WriterConfig, patch: Partial<WriterConfig>): WriterConfig {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    if ((NUMERIC as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new WriterConfigError(key, `writer config '${key}' must be a number >= 0`)
    } else if (key === 'retry') {
      const problem = value === undefined ? undefined : checkRetryPolicy(value)
      if (problem !== undefined) throw new WriterConfigError(key, `writer config: ${problem}`)
    } else if (key === 'logBatches') {
      if (typeof value !== 'boolean') throw new WriterConfigError(key, `writer config 'logBatches' must be a boolean`)
    } else {
      throw new WriterConfigError(key, `unknown writer config '${key}'`)
    }
    out[key] = value
  }
  return Object.freeze(out) as unknown as WriterConfig
}
