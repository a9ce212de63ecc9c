// Events a stage put off with `retryLater()`. In a writer they stay claimed and uncommitted in the
// ring (so a crash hands them to the heir, and nothing is lost) while the rest of their batch is
// stored and committed; the writer brings them back once due. settleDeferred does the same in one
// go, for the journal's replay and the testing harness.

import type { DeadLetterInput, EventRecord } from '@ringside/storage'
import { resumeEvents, type ChainOptions, type DeferredEvent, type Stage } from './stages.js'

/** A put-off event, its ring position (kept claimed until the event is settled) and the stage list that put it off. */
export interface HeldDeferred {
  readonly item: DeferredEvent
  readonly position: number
  /** A live swap does not move it to the new list: it finishes where it began. */
  readonly stages: readonly Stage[]
}

/** The writer's put-off events, by due time. */
export class DeferredQueue {
  #items: HeldDeferred[] = []

  get size(): number {
    return this.#items.length
  }

  add(item: DeferredEvent, position: number, stages: readonly Stage[]): void {
    this.#items.push({ item, position, stages })
  }

  /** Removes and returns the events due at `now`, in the order they were put off. */
  takeDue(now: number): HeldDeferred[] {
    const due = this.#items.filter((h) => h.item.dueAt <= now)
    if (due.length > 0) this.#items = this.#items.filter((h) => h.item.dueAt > now)
    return due
  }
}

/** What settling put-off events came to. */
export interface SettledDeferred {
  readonly batch: EventRecord[]
  readonly deadLetters: DeadLetterInput[]
  readonly filtered: number
  readonly stageErrors: number
  /** Put-offs asked for while settling (each request). */
  readonly retriedLater: number
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Runs put-off events again when due, until every one is stored, filtered or dead-lettered. */
export async function settleDeferred(items: readonly DeferredEvent[], o: ChainOptions): Promise<SettledDeferred> {
  const out = { batch: [] as EventRecord[], deadLetters: [] as DeadLetterInput[], filtered: 0, stageErrors: 0, retriedLater: 0 }
  let pending = [...items]
  const clock = o.now ?? Date.now
  while (pending.length > 0) {
    const first = Math.min(...pending.map((d) => d.dueAt))
    const wait = first - clock()
    if (wait > 0) await sleep(wait)
    const t = clock()
    const due = pending.filter((d) => d.dueAt <= t)
    pending = pending.filter((d) => d.dueAt > t)
    const r = await resumeEvents(due, o)
    out.batch.push(...r.batch)
    out.deadLetters.push(...r.deadLetters)
    out.filtered += r.filtered
    out.stageErrors += r.stageErrors
    out.retriedLater += r.deferred.length
    pending.push(...r.deferred)
  }
  return out
}
