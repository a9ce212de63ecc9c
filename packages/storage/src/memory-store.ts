// MemoryStore: the EventStore contract over plain Maps, for tests, demos and short-lived apps.
// Bodies are kept as JSON text, as SQLite keeps them, so a query returns the same values from
// both (and a caller mutating its event after storing it cannot change the stored copy).

import type { DeadLetter, DeadLetterInput, EventStore, ListDeadLettersOptions, StoreResult, StoreStats } from './event-store.js'
import { StoreError, StoreFilterError, describeValue } from './errors.js'
import { checkBatch, indexedFields, type EventRecord, type IndexedFields } from './event-record.js'
import { checkDeadLetters, deadLetterOf, type CheckedDeadLetter } from './dead-letter.js'
import { checkTime, resolveListLimit, resolveQueryFilter, type QueryFilter, type ResolvedQueryFilter } from './query-filter.js'

interface Row {
  readonly key: string
  readonly ringId: string
  readonly seq: number
  readonly capturedAt: number
  readonly body: string
  readonly fields: IndexedFields
}

// Rough per-entry overhead of a Map entry plus the row object, for the `sizeBytes` estimate.
const ROW_OVERHEAD_BYTES = 200

/** Capture time, then ring id, then seq: the order every adapter returns. */
export function compareRecords(a: { capturedAt: number; ringId: string; seq: number }, b: typeof a): number {
  if (a.capturedAt !== b.capturedAt) return a.capturedAt < b.capturedAt ? -1 : 1
  if (a.ringId !== b.ringId) return a.ringId < b.ringId ? -1 : 1
  return a.seq - b.seq
}

function matches(row: Row, f: ResolvedQueryFilter): boolean {
  const x = row.fields
  return (
    (f.pid === undefined || x.pid === f.pid) &&
    (f.type === undefined || x.type === f.type) &&
    (f.since === undefined || row.capturedAt >= f.since) &&
    (f.until === undefined || row.capturedAt <= f.until) &&
    (f.correlationId === undefined || x.correlationId === f.correlationId) &&
    (f.astNodeId === undefined || x.astNodeId === f.astNodeId) &&
    (f.module === undefined || x.module === f.module) &&
    (f.function === undefined || x.function === f.function) &&
    (f.arity === undefined || x.arity === f.arity)
  )
}

function recordOf(row: Row): EventRecord {
  return { key: row.key, ringId: row.ringId, seq: row.seq, capturedAt: row.capturedAt, event: JSON.parse(row.body) as Record<string, unknown> }
}

/**
 * An in-memory EventStore. Its data lives in the thread that created it; to let writers in other
 * threads use it, serve it over a MessagePort with `serveStore` and give them `connectStore`.
 */
export class MemoryStore implements EventStore {
  #events = new Map<string, Row>()
  #deadLetters = new Map<string, { row: CheckedDeadLetter; storedAt: number }>()
  #bodyBytes = 0
  #closed = false

  #open(): void {
    if (this.#closed) throw new StoreError('store_closed', 'the memory store is closed')
  }

  async storeEvents(batch: readonly EventRecord[]): Promise<StoreResult> {
    this.#open()
    // Check and serialize everything first: a batch is stored whole or not at all.
    const bodies = checkBatch(batch)
    const rows = batch.map((r, i): Row => ({
      key: r.key,
      ringId: r.ringId,
      seq: r.seq,
      capturedAt: r.capturedAt,
      body: bodies[i] as string,
      fields: indexedFields(r.event),
    }))
    let inserted = 0
    for (const row of rows) {
      if (this.#events.has(row.key)) continue
      this.#events.set(row.key, row)
      this.#bodyBytes += row.body.length
      inserted++
    }
    return { inserted, duplicates: rows.length - inserted }
  }

  async getEvent(key: string): Promise<EventRecord | undefined> {
    this.#open()
    if (typeof key !== 'string') throw new StoreFilterError('key', `'key' must be a string, got ${describeValue(key)}`)
    const row = this.#events.get(key)
    return row === undefined ? undefined : recordOf(row)
  }

  async query(filter?: QueryFilter): Promise<EventRecord[]> {
    this.#open()
    const f = resolveQueryFilter(filter)
    const found: Row[] = []
    for (const row of this.#events.values()) if (matches(row, f)) found.push(row)
    found.sort(f.order === 'asc' ? compareRecords : (a, b) => compareRecords(b, a))
    const limited = f.limit === undefined ? found : found.slice(0, f.limit)
    return limited.map(recordOf)
  }

  async stats(): Promise<StoreStats> {
    this.#open()
    let oldest = Infinity
    let newest = -Infinity
    for (const row of this.#events.values()) {
      if (row.capturedAt < oldest) oldest = row.capturedAt
      if (row.capturedAt > newest) newest = row.capturedAt
    }
    const totalEvents = this.#events.size
    // JS strings are UTF-16: two bytes a character is the honest estimate.
    const sizeBytes = 2 * this.#bodyBytes + ROW_OVERHEAD_BYTES * totalEvents
    const deadLetters = this.#deadLetters.size
    return totalEvents === 0
      ? { totalEvents, sizeBytes, deadLetters }
      : { totalEvents, oldestCapturedAt: oldest, newestCapturedAt: newest, sizeBytes, deadLetters }
  }

  async countByRing(ringId: string): Promise<{ events: number; deadLetters: number }> {
    this.#open()
    let events = 0
    for (const row of this.#events.values()) if (row.ringId === ringId) events++
    let deadLetters = 0
    for (const { row } of this.#deadLetters.values()) if (row.ringId === ringId) deadLetters++
    return { events, deadLetters }
  }

  async deleteOlderThan(time: number): Promise<number> {
    this.#open()
    const t = checkTime(time)
    let removed = 0
    for (const [key, row] of this.#events) {
      if (row.capturedAt < t) {
        this.#events.delete(key)
        this.#bodyBytes -= row.body.length
        removed++
      }
    }
    return removed
  }

  async storeDeadLetters(items: readonly DeadLetterInput[]): Promise<StoreResult> {
    this.#open()
    const checked = checkDeadLetters(items)
    const storedAt = Date.now()
    let inserted = 0
    for (const row of checked) {
      if (this.#deadLetters.has(row.key)) continue
      this.#deadLetters.set(row.key, { row, storedAt })
      inserted++
    }
    return { inserted, duplicates: checked.length - inserted }
  }

  async listDeadLetters(options?: ListDeadLettersOptions): Promise<DeadLetter[]> {
    this.#open()
    const limit = resolveListLimit(options)
    // A Map iterates in insertion order, which is storedAt order.
    const out: DeadLetter[] = []
    for (const { row, storedAt } of this.#deadLetters.values()) {
      if (limit !== undefined && out.length >= limit) break
      out.push(deadLetterOf(row, storedAt))
    }
    return out
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#events.clear()
    this.#deadLetters.clear()
  }
}
