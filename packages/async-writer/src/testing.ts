// A harness for users' stages: runs a stage list on given events in the calling thread, with the
// writer's own chain (validation, enrichment, stage_error, when, parallel, timeoutMs, retryLater),
// and a store that records every call it gets. No threads, no ring: for an application's unit tests.

import { MemoryStore, type DeadLetterInput, type EventRecord, type StoreResult } from '@ringside/storage'
import { settleDeferred } from './retry-later.js'
import { loadStages, processEvents, type Stage, type StageSpec } from './stages.js'

/** A memory store that keeps what each call handed it, in order. */
export class RecordingStore extends MemoryStore {
  /** Every `storeEvents` batch, as received. */
  readonly eventBatches: (readonly EventRecord[])[] = []
  /** Every `storeDeadLetters` call's items, as received. */
  readonly deadLetterBatches: (readonly DeadLetterInput[])[] = []

  override async storeEvents(batch: readonly EventRecord[]): Promise<StoreResult> {
    this.eventBatches.push([...batch])
    return super.storeEvents(batch)
  }

  override async storeDeadLetters(items: readonly DeadLetterInput[]): Promise<StoreResult> {
    this.deadLetterBatches.push([...items])
    return super.storeDeadLetters(items)
  }

  /** Every event stored so far, in call order. */
  get events(): EventRecord[] {
    return this.eventBatches.flat()
  }

  /** Every dead letter stored so far, in call order. */
  get deadLetters(): DeadLetterInput[] {
    return this.deadLetterBatches.flat()
  }
}

/** A stage for tests that keeps a copy of every event it is given (`seen`) and answers with `answer` (the event unchanged by default). */
export interface RecordingStage extends Stage {
  readonly seen: Record<string, unknown>[]
}

/** Makes a RecordingStage: a stand-in for a real stage beside the ones under test, or a spy between them. */
export function recordingStage(name: string, answer: Stage['process'] = (event) => event): RecordingStage {
  const seen: Record<string, unknown>[] = []
  return {
    name,
    seen,
    process(event, context) {
      seen.push(structuredClone(event))
      return answer(event, context)
    },
  }
}

/** Options of runStages. */
export interface RunStagesOptions {
  /** Where the outcome is stored (one storeEvents, one storeDeadLetters when there are any). Defaults to a new RecordingStore. */
  readonly store?: RecordingStore
  /** The `writerId` stages see and enrichment adds. Defaults to `harness`. */
  readonly writerId?: string
  /** The ring id of the events' keys (`<ringId>:<n>`). Defaults to `harness`. */
  readonly ringId?: string
}

/** What a stage list made of the events. */
export interface RunStagesResult {
  /** Events to store, enriched and through every stage, in input order (put-off events last). */
  readonly stored: EventRecord[]
  /** Events refused by validation (`invalid_event`) or failed by a stage (`stage_error`). */
  readonly deadLetters: DeadLetterInput[]
  /** Events a stage dropped. */
  readonly filtered: number
  /** Put-offs stages asked for (retryLater), each request counted. */
  readonly retriedLater: number
  /** The store the outcome went to. */
  readonly store: RecordingStore
}

/**
 * Runs `stages` (live Stage objects, or specs loaded as a writer loads them) on `events` and waits
 * for every put-off event to settle (a retryLater delay is really waited for: keep it small in
 * tests). Each event ends in exactly one of stored, deadLetters or filtered.
 */
export async function runStages(stages: readonly Stage[] | readonly StageSpec[], events: readonly Record<string, unknown>[], options: RunStagesOptions = {}): Promise<RunStagesResult> {
  const writerId = options.writerId ?? 'harness'
  const ringId = options.ringId ?? 'harness'
  const store = options.store ?? new RecordingStore()
  const live = stages.every((s) => typeof (s as Stage).process === 'function') ? (stages as readonly Stage[]) : await loadStages(stages as readonly StageSpec[])
  // Each event is the harness's own copy: enrichment and stages change it in place, as in a writer.
  const records: EventRecord[] = events.map((event, seq) => ({ key: `${ringId}:${seq}`, ringId, seq, capturedAt: Date.now(), event: structuredClone(event) }))
  const first = await processEvents(records, { writerId, stages: live, enrichedAt: Date.now(), firstOrder: 0 })
  const later = await settleDeferred(first.deferred, { writerId, stages: live })
  const stored = [...first.batch, ...later.batch]
  const deadLetters = [...first.deadLetters, ...later.deadLetters]
  if (stored.length > 0) await store.storeEvents(stored)
  if (deadLetters.length > 0) await store.storeDeadLetters(deadLetters)
  return { stored, deadLetters, filtered: first.filtered + later.filtered, retriedLater: first.deferred.length + later.retriedLater, store }
}
