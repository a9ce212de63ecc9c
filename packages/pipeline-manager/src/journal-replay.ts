// Replaying an exit journal at start: its records go through the same validation, enrichment and
// user stages as in a writer, then into the store, before any writer starts. Keys are the original
// ring's, so a journal replayed twice (a crash during replay) is stored once.

import { rmSync } from 'node:fs'
import { loadStages, processEvents } from '@ringside/async-writer'
import type { EventStore } from '@ringside/storage'
import type { StageSpec } from '@ringside/async-writer'
import { readJournal } from './journal.js'

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
}

const CHUNK = 1000

/** Replays `path` into `store` and removes the file once everything is stored; undefined when there was no journal. */
export async function replayJournal(path: string, store: EventStore, stageSpecs: readonly StageSpec[]): Promise<JournalReplay | undefined> {
  const contents = readJournal(path)
  if (contents.records.length === 0 && contents.corruptBytes === 0) return undefined
  const stages = await loadStages(stageSpecs)
  let stored = 0
  let duplicates = 0
  let quarantined = 0
  let filtered = 0
  const enrichedAt = Date.now()
  for (let from = 0; from < contents.records.length; from += CHUNK) {
    const chunk = contents.records.slice(from, from + CHUNK)
    const { batch, deadLetters: dead, filtered: dropped } = await processEvents(chunk, { writerId: 'journal-replay', stages, enrichedAt, firstOrder: from })
    filtered += dropped
    const res = await store.storeEvents(batch)
    stored += res.inserted
    duplicates += res.duplicates
    if (dead.length > 0) quarantined += (await store.storeDeadLetters(dead)).inserted
  }
  rmSync(path, { force: true })
  return { path, records: contents.records.length, stored, duplicates, quarantined, filtered, corruptBytes: contents.corruptBytes, corruptRegions: contents.corruptRegions }
}
