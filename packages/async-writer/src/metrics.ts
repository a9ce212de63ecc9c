// Writer metrics in shared memory: one Float64 row per pool member, written only by the writer that
// owns the row and read by the pool without asking, so the counts survive the writer's death and a
// replacement keeps adding to them. Two latency histograms per row (batch write, capture to commit).

/** Counter and gauge fields of a writer's row, in order. */
export const METRIC_FIELDS = [
  'eventsRead', // events delivered by claims (a handed-over event is read again by its heir)
  'eventsProcessed', // events that went through validation, enrichment and the user's stages
  'eventsStored', // new rows reported by the store
  'duplicates', // events the store already held (a re-stored claim after a crash)
  'filtered', // events dropped by a user stage
  'invalid', // events refused by validation (sent to dead letters)
  'poisoned', // events isolated after permanent store errors (sent to dead letters)
  'stageErrors', // events a user stage threw on or rejected (sent to dead letters, reason stage_error)
  'retriesExhausted', // events given up by the store retry policy (dead letters retries_exhausted)
  'retriedLater', // times a stage asked to retry an event later (each request; not a bucket)
  'deferred', // events waiting for a retry a stage asked for (claimed, not committed)
  'killers', // events that killed or hung their writer when processed alone (dead letters crashed_writer / timeout)
  'batches', // batches stored and committed
  'errors', // store errors (each failed attempt)
  'lastPollAt', // ms since the epoch
  'heartbeatAt', // ms since the epoch; stops moving when the writer's event loop is stuck
  'heldEvents', // events claimed and not yet committed
  'heldSince', // ms since the epoch when the held claim was taken (0 when none)
  'state', // WriterState code
  'incarnation', // starts of this row's writer (1 for the first)
  'busySince', // ms since the epoch when the current step of work on the held claim began (0 while waiting)
  'heldFirstSeq', // lowest sequence number of the held claim (-1 when none)
  'heldLastSeq', // highest sequence number of the held claim (-1 when none)
  'isolating', // 1 while the writer processes a suspect claim one event at a time
  'currentSeq', // while isolating: the sequence number of the event being processed alone (-1 otherwise)
] as const
export type MetricField = (typeof METRIC_FIELDS)[number]
const FIELD: Readonly<Record<MetricField, number>> = Object.fromEntries(METRIC_FIELDS.map((f, i) => [f, i])) as Record<MetricField, number>

export const WRITER_STATES = ['starting', 'ready', 'draining', 'stopped'] as const
export type WriterState = (typeof WRITER_STATES)[number]

/** Histogram buckets: geometric, ratio 1.25 from 0.05 ms; bucket k holds values up to BOUND[k]. */
export const BUCKETS = 64
const BASE_MS = 0.05
const RATIO = 1.25
const LOG_RATIO = Math.log(RATIO)
export const BUCKET_BOUNDS_MS: readonly number[] = Array.from({ length: BUCKETS }, (_, k) => BASE_MS * RATIO ** k)

const HIST_WRITE = METRIC_FIELDS.length
const HIST_E2E = HIST_WRITE + BUCKETS
/** Float64 words per writer row. */
export const ROW_WORDS = HIST_E2E + BUCKETS
/** Header words before the rows: [0] the pool-wide processing order counter (see nextOrder). */
const HEADER_WORDS = 2

export function bucketOf(ms: number): number {
  if (!(ms > BASE_MS)) return 0
  const k = Math.ceil(Math.log(ms / BASE_MS) / LOG_RATIO)
  return k < BUCKETS ? k : BUCKETS - 1
}

/** Creates the shared metrics memory for `rows` pool members. */
export function createMetricsBuffer(rows: number): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER_WORDS + rows * ROW_WORDS) * 8)
}

/** Number of rows a metrics buffer holds. */
export function rowsOf(buffer: SharedArrayBuffer): number {
  return (buffer.byteLength / 8 - HEADER_WORDS) / ROW_WORDS
}

/** The writer's view of its own row. */
export class WriterMetrics {
  readonly #row: Float64Array
  readonly #order: BigInt64Array

  constructor(buffer: SharedArrayBuffer, slot: number) {
    this.#row = new Float64Array(buffer, (HEADER_WORDS + slot * ROW_WORDS) * 8, ROW_WORDS)
    this.#order = new BigInt64Array(buffer, 0, 1)
  }

  add(field: MetricField, n = 1): void {
    this.#row[FIELD[field]]! += n
  }

  get(field: MetricField): number {
    return this.#row[FIELD[field]]!
  }

  set(field: MetricField, value: number): void {
    this.#row[FIELD[field]] = value
  }

  setState(state: WriterState): void {
    this.#row[FIELD.state] = WRITER_STATES.indexOf(state)
  }

  recordWriteLatency(ms: number): void {
    this.#row[HIST_WRITE + bucketOf(ms)]! += 1
  }

  recordEndToEnd(ms: number): void {
    this.#row[HIST_E2E + bucketOf(ms)]! += 1
  }

  /** Reserves `n` consecutive processing-order numbers, unique across the pool. */
  nextOrder(n: number): number {
    return Number(Atomics.add(this.#order, 0, BigInt(n)))
  }
}

/** A snapshot of one writer's row. */
export interface WriterMetricsSnapshot extends Readonly<Record<MetricField, number>> {
  readonly stateName: WriterState
  readonly writeLatency: readonly number[]
  readonly endToEnd: readonly number[]
}

export function readWriterMetrics(buffer: SharedArrayBuffer, slot: number): WriterMetricsSnapshot {
  const row = new Float64Array(buffer, (HEADER_WORDS + slot * ROW_WORDS) * 8, ROW_WORDS)
  const out: Record<string, unknown> = {}
  METRIC_FIELDS.forEach((f, i) => (out[f] = row[i]))
  out.stateName = WRITER_STATES[row[FIELD.state] as number] ?? 'starting'
  out.writeLatency = Array.from(row.subarray(HIST_WRITE, HIST_WRITE + BUCKETS))
  out.endToEnd = Array.from(row.subarray(HIST_E2E, HIST_E2E + BUCKETS))
  return out as unknown as WriterMetricsSnapshot
}

/** Percentile (0..100) of a histogram, interpolated inside its bucket; undefined when empty. */
export function percentile(hist: readonly number[], p: number): number | undefined {
  let total = 0
  for (const c of hist) total += c
  if (total === 0) return undefined
  const want = (p / 100) * total
  let seen = 0
  for (let k = 0; k < hist.length; k++) {
    const c = hist[k] as number
    if (c > 0 && seen + c >= want) {
      const lo = k === 0 ? 0 : (BUCKET_BOUNDS_MS[k - 1] as number)
      const hi = BUCKET_BOUNDS_MS[k] as number
      return lo + ((want - seen) / c) * (hi - lo)
    }
    seen += c
  }
  return BUCKET_BOUNDS_MS[BUCKETS - 1]
}

/** Adds histograms bucket by bucket. */
export function mergeHistograms(hs: readonly (readonly number[])[]): number[] {
  const out = new Array<number>(BUCKETS).fill(0)
  for (const h of hs) for (let k = 0; k < BUCKETS; k++) out[k]! += h[k] as number
  return out
}
