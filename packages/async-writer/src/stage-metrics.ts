// Per-stage metrics in shared memory: for each writer slot and each user stage, how many events
// went in, passed unchanged, came out changed, were filtered, failed or were put off (retryLater), and a histogram of the time
// each event spent in the stage. Written only by the slot's writer, read by the pool without asking,
// so the counts outlive a writer and a replacement keeps adding to them (like the writer's own row).

import { BUCKETS, bucketOf } from './metrics.js'

/** What a stage did with one event. */
export type StageOutcome = 'passed' | 'changed' | 'filtered' | 'failed' | 'deferred'

/** Counter fields of a stage's row, in order. */
export const STAGE_FIELDS = ['in', 'passed', 'changed', 'filtered', 'failed', 'deferred'] as const
export type StageField = (typeof STAGE_FIELDS)[number]
const FIELD: Readonly<Record<StageField, number>> = { in: 0, passed: 1, changed: 2, filtered: 3, failed: 4, deferred: 5 }
const HIST = STAGE_FIELDS.length
/** Float64 words per (slot, stage). */
const STAGE_WORDS = HIST + BUCKETS

/** Creates the shared per-stage metrics for `rows` pool slots and `stages` user stages. */
export function createStageMetricsBuffer(rows: number, stages: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(1, rows * stages * STAGE_WORDS) * 8)
}

/** The writer's view of its own stage rows. */
export class StageMetrics {
  readonly #w: Float64Array
  readonly #stages: number

  constructor(buffer: SharedArrayBuffer, slot: number, stages: number) {
    this.#stages = stages
    this.#w = new Float64Array(buffer, slot * stages * STAGE_WORDS * 8, stages * STAGE_WORDS)
  }

  /** Counts one event through stage `index` with its outcome and the time it took. */
  record(index: number, outcome: StageOutcome, ms: number): void {
    if (index >= this.#stages) return
    const at = index * STAGE_WORDS
    this.#w[at + FIELD.in]! += 1
    this.#w[at + FIELD[outcome]]! += 1
    this.#w[at + HIST + bucketOf(ms)]! += 1
  }
}

/** One stage's counters and time histogram in one slot. */
export interface StageSnapshot extends Readonly<Record<StageField, number>> {
  readonly timeHistogram: readonly number[]
}

/** Every stage's snapshot for one slot. */
export function readStageMetrics(buffer: SharedArrayBuffer, slot: number, stages: number): StageSnapshot[] {
  const w = new Float64Array(buffer, slot * stages * STAGE_WORDS * 8, stages * STAGE_WORDS)
  return Array.from({ length: stages }, (_, i) => {
    const at = i * STAGE_WORDS
    return {
      in: w[at + FIELD.in]!,
      passed: w[at + FIELD.passed]!,
      changed: w[at + FIELD.changed]!,
      filtered: w[at + FIELD.filtered]!,
      failed: w[at + FIELD.failed]!,
      deferred: w[at + FIELD.deferred]!,
      timeHistogram: Array.from(w.subarray(at + HIST, at + HIST + BUCKETS)),
    }
  })
}
