// The processing chain run on every batch: built-in validation, built-in enrichment, then the
// user's stage modules in order. Validation failures and stage errors are per event (quarantined
// as dead letters), never per batch: one event a stage cannot handle must not stop the others.

import { pathToFileURL } from 'node:url'
import { isAbsolute } from 'node:path'
import type { RingRecord } from '@ringside/core-ringbuffer'
import type { DeadLetterInput, EventRecord } from '@ringside/storage'
import type { StageOutcome } from './stage-metrics.js'
import { StageLoadError } from './errors.js'

/** A user stage named by a serializable spec, loaded inside the writer thread. */
export interface StageSpec {
  /** Module specifier, absolute path or file URL. Its `createStage` (or default) export is called with `options`. */
  readonly target: string
  readonly options?: unknown
}

/** What a stage's factory returns. `process` returns the event (changed or not) or null/undefined to drop it. */
export interface Stage {
  readonly name?: string
  process(event: Record<string, unknown>, context: StageContext): Record<string, unknown> | null | undefined | Promise<Record<string, unknown> | null | undefined>
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
    let event: Record<string, unknown> | null | undefined = enrichEvent(r, o.writerId, o.enrichedAt, o.firstOrder + k)
    if (o.stages.length > 0) o.onProgress?.()
    let failed = false
    for (let s = 0; s < o.stages.length; s++) {
      const stage = o.stages[s]!
      const input: Record<string, unknown> = event
      const t0 = o.stageMetrics ? performance.now() : 0
      try {
        const out = stage.process(input, { key: r.key, writerId: o.writerId })
        event = out instanceof Promise ? await out : out
        o.stageMetrics?.record(s, event === null || event === undefined ? 'filtered' : event === input ? 'passed' : 'changed', performance.now() - t0)
      } catch (err) {
        o.stageMetrics?.record(s, 'failed', performance.now() - t0)
        // The event as the failing stage received it, so the dead letter shows what it choked on.
        deadLetters.push({ record: toStoreRecord(r, input), error: `stage ${stageName(stage, s)}: ${describeError(err)}`, attempts: 1, reason: 'stage_error' })
        stageErrors++
        failed = true
        break
      }
      if (event === null || event === undefined) break
    }
    if (failed) continue
    if (event === null || event === undefined) filtered++
    else batch.push(toStoreRecord(r, event))
  }
  return { batch, deadLetters, filtered, stageErrors }
}

/** The store's record for an event (a ring record carries more fields than a store keeps). */
export function toStoreRecord(r: EventRecord, event: Record<string, unknown>): EventRecord {
  return { key: r.key, ringId: r.ringId, seq: r.seq, capturedAt: r.capturedAt, event }
}

/** Loads the user's stage modules in order. Throws StageLoadError (`stage_load_failed`) naming the stage that cannot be loaded. */
export async function loadStages(specs: readonly StageSpec[]): Promise<Stage[]> {
  const out: Stage[] = []
  for (const [i, spec] of specs.entries()) {
    const where = `stages[${i}] (${spec.target})`
    const url = spec.target.startsWith('file:') || !isAbsolute(spec.target) ? spec.target : pathToFileURL(spec.target).href
    let mod: Record<string, unknown>
    try {
      mod = (await import(url)) as Record<string, unknown>
    } catch (cause) {
      throw new StageLoadError(i, spec.target, `${where}: cannot load the module`, { cause })
    }
    const factory = (typeof mod.createStage === 'function' ? mod.createStage : mod.default) as StageFactory | undefined
    if (typeof factory !== 'function') throw new StageLoadError(i, spec.target, `${where}: exports no 'createStage' or default function`)
    let stage: Stage
    try {
      stage = await factory(spec.options)
    } catch (cause) {
      throw new StageLoadError(i, spec.target, `${where}: the factory threw`, { cause })
    }
    if (stage === null || typeof stage !== 'object' || typeof stage.process !== 'function') {
      throw new StageLoadError(i, spec.target, `${where}: the factory did not return an object with a process(event) method`)
    }
    out.push(stage)
  }
  return out
}
