// Replaying an exit journal at start: its records go through the same validation, enrichment and
// user stages as in a writer, then into the store, before any writer starts. Keys are the original
// ring's, so a journal replayed twice (a crash during replay) is stored once.

import { loadStages, processEvents, settleDeferred } from '@ringside/async-writer'
import type { EventStore } from '@ringside/storage'
import type { StageSpec } from '@ringside/async-writer'
import type { JournalContents } from './journal.js'

/** What a replay did; `getState().journal.replay` reports it. */
export interface JournalReplay {
  readonly path: string
  readonly records: number
  readonly stored: number
  readonly duplicates: number
  readonly quarantined: number
  readonly filtered: number
  readonly corruptBytes: number
  readonly corruptRegions: number
  /** Where a journal with corrupt bytes was kept (renamed) after its valid records were stored. */
  readonly keptAs?: string
}

const CHUNK = 1000

/**
 * Stores every record of a journal read from `path` into `store`; throws (a store error) when any
 * chunk fails, so the caller keeps the file. What happens to the file after is the caller's.
 */
export async function replayJournal(path: string, contents: JournalContents, store: EventStore, stageSpecs: readonly StageSpec[]): Promise<JournalReplay> {
  const stages = await loadStages(stageSpecs)
  let stored = 0
  let duplicates = 0
  let quarantined = 0
  let filtered = 0
  const enrichedAt = Date.now()
  for (let from = 0; from < contents.records.length; from += CHUNK) {
    const chunk = contents.records.slice(from, from + CHUNK)
    const { batch, deadLetters: dead, filtered: dropped, deferred } = await processEvents(chunk, { writerId: 'journal-replay', stages, enrichedAt, firstOrder: from })
    filtered += dropped
    // Events a stage put off (retryLater) are waited for here: the replay has no ring to hold them in.
    if (deferred.length > 0) {
      const later = await settleDeferred(deferred, { writerId: 'journal-replay', stages })
      batch.push(...later.batch)
      dead.push(...later.deadLetters)
      filtered += later.filtered
    }
    const res = await store.storeEvents(batch)
    stored += res.inserted
    duplicates += res.duplicates
    if (dead.length > 0) quarantined += (await store.storeDeadLetters(dead)).inserted
  }
  return { path, records: contents.records.length, stored, duplicates, quarantined, filtered, corruptBytes: contents.corruptBytes, corruptRegions: contents.corruptRegions }
}
