// The processing chain run on every batch: built-in validation, built-in enrichment, then the
// user's stage modules in order. Validation failures and stage errors are per event (quarantined
// as dead letters), never per batch: one event a stage cannot handle must not stop the others.

import type { RingRecord } from '@ringside/core-ringbuffer'
import type { DeadLetterInput, EventRecord } from '@ringside/storage'
import type { StageOutcome } from './stage-metrics.js'
import { isRetryLater, type RetryLater } from './stage-compose.js'
import { loadStageSpec, type StageSpec } from './stage-specs.js'

export type { StageSpec } from './stage-specs.js'

/** What a stage's `process` may return: the event (changed or not), null/undefined to drop it, or `retryLater()`. */
export type StageResult = Record<string, unknown> | null | undefined | RetryLater

/** What a stage's factory returns. */
export interface Stage {
  readonly name?: string
  process(event: Record<string, unknown>, context: StageContext): StageResult | Promise<StageResult>
}

export interface StageContext {
  readonly key: string
  readonly writerId: string
}

export type StageFactory = (options: unknown) => Stage | Promise<Stage>

/** Fields the ring does not require but the store indexes; a wrong type makes the event invalid. */
const STRING_FIELDS = ['pid', 'module', 'function', 'correlationId', 'astNodeId'] as const

/** Why an event is invalid, or undefined when it is fine. */
export function validateEvent(event: Record<string, unknown>): string | undefined {
  if (typeof event.type !== 'string' || event.type.length === 0) return "missing or non-string 'type'"
  for (const f of STRING_FIELDS) {
    const v = event[f]
    if (v !== undefined && v !== null && typeof v !== 'string') return `'${f}' must be a string`
  }
  const arity = event.arity
  if (arity !== undefined && arity !== null && !(typeof arity === 'number' && Number.isInteger(arity) && arity >= 0)) {
    return "'arity' must be a non-negative integer"
  }
  return undefined
}

/**
 * Enrichment keeps every field and adds the writer's id, the enrichment time and a processing
 * order; a correlation id only when the event has none (the event key, so a re-stored event after a
 * crash gets the same one).
 */
export function enrichEvent(record: { readonly key: string; readonly event: Record<string, unknown> }, writerId: string, enrichedAt: number, processingOrder: number): Record<string, unknown> {
  // The decoded event belongs to this writer alone: enrich it in place rather than copy it.
  const event = record.event
  event.writerId = writerId
  event.enrichedAt = enrichedAt
  event.processingOrder = processingOrder
  if (event.correlationId === undefined || event.correlationId === null) event.correlationId = record.key
  return event
}

/** What the processing chain made of a batch. */
export interface ProcessedBatch {
  /** Events to store, enriched and passed by every stage. */
  readonly batch: EventRecord[]
  /** Events that failed validation (reason `invalid_event`) or that a stage threw on (`stage_error`), as dead letters. */
  readonly deadLetters: DeadLetterInput[]
  /** Events a stage dropped. */
  readonly filtered: number
  /** Of the dead letters, those a stage threw on or rejected. */
  readonly stageErrors: number
  /** Events a stage asked to retry later (see `retryLater`): neither stored nor quarantined yet. */
  readonly deferred: DeferredEvent[]
}

/** An event a stage put off: it goes through stage `fromStage` again, as that stage received it, at `dueAt`. */
export interface DeferredEvent {
  readonly record: EventRecord
  readonly event: Record<string, unknown>
  readonly fromStage: number
  /** Put-offs so far, this one included. */
  readonly times: number
  readonly dueAt: number
}

const describeError = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err))

/** A stage's name in dead letters and logs: its own `name`, or its place in the list. */
export const stageName = (stage: Stage, index: number): string => stage.name ?? `stages[${index}]`

/**
 * Runs the chain on records in order: validation (per event), enrichment (processing order from
 * `firstOrder`), then each stage. The writer and the journal's replay both go through here, so a
 * replayed event is treated exactly as a live one.
 */
export async function processEvents(
  records: readonly EventRecord[],
  o: {
    readonly writerId: string
    readonly stages: readonly Stage[]
    readonly enrichedAt: number
    readonly firstOrder: number
    /** Called before each event enters the stages: the writer's progress mark for its deadline. */
    readonly onProgress?: () => void
    /** Per-stage counts and times (the writer's shared-memory rows). */
    readonly stageMetrics?: { record(index: number, outcome: StageOutcome, ms: number): void }
  },
): Promise<ProcessedBatch> {
  const batch: EventRecord[] = []
  const deadLetters: DeadLetterInput[] = []
  const deferred: DeferredEvent[] = []
  let filtered = 0
  let stageErrors = 0
  for (let k = 0; k < records.length; k++) {
    const r = records[k]!
    // Bytes that did not decode (claim() marks them): quarantined with the bytes, never processed.
    const undecodable = (r as Pick<RingRecord, 'decodeError'>).decodeError
    if (undecodable !== undefined) {
      deadLetters.push({ record: toStoreRecord(r, { undecodable: Buffer.from(undecodable.bytes).toString('base64') }), error: undecodable.message, attempts: 1, reason: 'undecodable' })
      continue
    }
    const problem = validateEvent(r.event)
    if (problem !== undefined) {
      deadLetters.push({ record: toStoreRecord(r, r.event), error: problem, attempts: 1, reason: 'invalid_event' })
      continue
    }
    const event = enrichEvent(r, o.writerId, o.enrichedAt, o.firstOrder + k)
    // Without stages there is nothing to await: no microtask per event on the hot path.
    if (o.stages.length === 0) {
      batch.push(toStoreRecord(r, event))
      continue
    }
    o.onProgress?.()
    const verdict = await runStages(r, event, 0, 0, o)
    if (verdict.kind === 'stored') batch.push(verdict.record)
    else if (verdict.kind === 'filtered') filtered++
    else if (verdict.kind === 'deferred') deferred.push(verdict.item)
    else {
      deadLetters.push(verdict.deadLetter)
      stageErrors++
    }
  }
  return { batch, deadLetters, filtered, stageErrors, deferred }
}

/** What the stages made of one event. */
export type StageVerdict =
  | { readonly kind: 'stored'; readonly record: EventRecord }
  | { readonly kind: 'filtered' }
  | { readonly kind: 'failed'; readonly deadLetter: DeadLetterInput }
  | { readonly kind: 'deferred'; readonly item: DeferredEvent }

/** Options of the stage chain (a subset of processEvents'). */
export interface ChainOptions {
  readonly writerId: string
  readonly stages: readonly Stage[]
  readonly stageMetrics?: { record(index: number, outcome: StageOutcome, ms: number): void }
  /** Clock for `dueAt`, ms; defaults to Date.now. */
  readonly now?: () => number
}

/**
 * Runs `event` through the stages from index `from`; `times` counts the put-offs it already had.
 * A stage that throws fails it (`stage_error`, the event as that stage received it); one that
 * returns `retryLater()` puts it off, unless it was put off `maxTimes` already (then `stage_error`).
 */
export async function runStages(r: EventRecord, start: Record<string, unknown>, from: number, times: number, o: ChainOptions): Promise<StageVerdict> {
  let event: Record<string, unknown> = start
  for (let s = from; s < o.stages.length; s++) {
    const stage = o.stages[s]!
    const input = event
    const t0 = o.stageMetrics ? performance.now() : 0
    let out: StageResult
    try {
      const p = stage.process(input, { key: r.key, writerId: o.writerId })
      out = p instanceof Promise ? await p : p
    } catch (err) {
      o.stageMetrics?.record(s, 'failed', performance.now() - t0)
      return { kind: 'failed', deadLetter: { record: toStoreRecord(r, input), error: `stage ${stageName(stage, s)}: ${describeError(err)}`, attempts: times + 1, reason: 'stage_error' } }
    }
    if (isRetryLater(out)) {
      if (times >= out.maxTimes) {
        o.stageMetrics?.record(s, 'failed', performance.now() - t0)
        const why = `stage ${stageName(stage, s)}: asked to retry later more than ${out.maxTimes} time${out.maxTimes === 1 ? '' : 's'}${out.reason === undefined ? '' : ` (${out.reason})`}`
        return { kind: 'failed', deadLetter: { record: toStoreRecord(r, input), error: why, attempts: times + 1, reason: 'stage_error' } }
      }
      o.stageMetrics?.record(s, 'deferred', performance.now() - t0)
      return { kind: 'deferred', item: { record: r, event: input, fromStage: s, times: times + 1, dueAt: (o.now ?? Date.now)() + out.delayMs } }
    }
    o.stageMetrics?.record(s, out === null || out === undefined ? 'filtered' : out === input ? 'passed' : 'changed', performance.now() - t0)
    if (out === null || out === undefined) return { kind: 'filtered' }
    event = out
  }
  return { kind: 'stored', record: toStoreRecord(r, event) }
}

/** Runs put-off events through their stages again (from the stage that put them off). */
export async function resumeEvents(items: readonly DeferredEvent[], o: ChainOptions & { readonly onProgress?: () => void }): Promise<ProcessedBatch> {
  const out: { batch: EventRecord[]; deadLetters: DeadLetterInput[]; deferred: DeferredEvent[]; filtered: number; stageErrors: number } = { batch: [], deadLetters: [], deferred: [], filtered: 0, stageErrors: 0 }
  for (const d of items) {
    o.onProgress?.()
    const v = await runStages(d.record, d.event, d.fromStage, d.times, o)
    if (v.kind === 'stored') out.batch.push(v.record)
    else if (v.kind === 'filtered') out.filtered++
    else if (v.kind === 'deferred') out.deferred.push(v.item)
    else {
      out.deadLetters.push(v.deadLetter)
      out.stageErrors++
    }
  }
  return out
}

/** The store's record for an event (a ring record carries more fields than a store keeps). */
export function toStoreRecord(r: EventRecord, event: Record<string, unknown>): EventRecord {
  return { key: r.key, ringId: r.ringId, seq: r.seq, capturedAt: r.capturedAt, event }
}

/** Loads the user's stages in order (module stages and their `when` / `parallel` compositions). Throws StageLoadError (`stage_load_failed`) naming the stage that cannot be loaded. */
export async function loadStages(specs: readonly StageSpec[]): Promise<Stage[]> {
  const out: Stage[] = []
  for (const [i, spec] of specs.entries()) out.push(await loadStageSpec(spec, i, `stages[${i}]`))
  return out
}
