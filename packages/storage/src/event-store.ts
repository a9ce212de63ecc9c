// The EventStore contract every adapter implements (memory, SQLite, later PostgreSQL and NATS
// JetStream, a user's own module), and the shapes it takes and returns. Every method is async
// even where the adapter is synchronous underneath, so network adapters fit the same contract.

import type { EventRecord } from './event-record.js'
import type { QueryFilter } from './query-filter.js'
import type { RetentionBudget, RetentionResult } from './retention.js'

/** What `storeEvents` and `storeDeadLetters` report. */
export interface StoreResult {
  /** Records the store did not hold before. */
  readonly inserted: number
  /** Records whose key the store already held (or that repeat a key earlier in the same batch); ignored. */
  readonly duplicates: number
}

/** What `health` reports: `degraded` still takes writes (for instance a cluster lost a replica); `unhealthy` does not. */
export interface StoreHealth {
  readonly status: 'healthy' | 'degraded' | 'unhealthy'
  readonly reason: string
  /**
   * True when the condition will not clear by itself (a SQLite store's file deleted or replaced
   * under it): the pipeline then reports itself unhealthy instead of degraded. Absent: false.
   */
  readonly permanent?: boolean
}

/** What `stats` reports. */
export interface StoreStats {
  readonly totalEvents: number
  /** Capture time of the oldest event; absent when the store is empty. */
  readonly oldestCapturedAt?: number
  /** Capture time of the newest event; absent when the store is empty. */
  readonly newestCapturedAt?: number
  /** Bytes on disk (SQLite: database plus WAL file) or an estimate of bytes in memory. */
  readonly sizeBytes: number
  /** Dead letters held. */
  readonly deadLetters: number
}

/**
 * Why the writer quarantines an event, as `DeadLetterInput.reason`: refused by validation, bytes
 * that did not decode, a user stage failed on it, the store refused it for good, the store retry
 * policy gave it up, it killed or hung its writer when processed alone. A store keeps any string.
 */
export const DEAD_LETTER_REASONS = ['invalid_event', 'undecodable', 'stage_error', 'permanent_error', 'retries_exhausted', 'crashed_writer', 'timeout'] as const
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number]

/** An event the writer could not store, handed to `storeDeadLetters`. */
export interface DeadLetterInput {
  readonly record: EventRecord
  /** The last error, as text. */
  readonly error: string
  /** How many times the writer tried to store it. */
  readonly attempts: number
  /** Why it was quarantined: one of DEAD_LETTER_REASONS from the writer (stores keep any string). */
  readonly reason?: string
}

/** A stored dead letter as `listDeadLetters` returns it. */
export interface DeadLetter extends DeadLetterInput {
  /** When the store took it, ms since the epoch. */
  readonly storedAt: number
}

/** Options of `listDeadLetters`. */
export interface ListDeadLettersOptions {
  /** Most dead letters to return, oldest first; an integer from 0. Defaults to no limit. */
  readonly limit?: number
}

/**
 * What a store holds of one ring, and (stores with retention) what retention removed of it on
 * purpose, so an accounting can tell pruned events from lost ones.
 */
export interface RingCount {
  readonly events: number
  readonly deadLetters: number
  /** Events of the ring that retention (or deleteOlderThan) removed. Absent: the store does not count them. */
  readonly prunedEvents?: number
  /** Dead letters of the ring that retention removed. */
  readonly prunedDeadLetters?: number
}

/** What `checkpoint` reports. */
export interface CheckpointResult {
  /** Pages in the store's write-ahead log (SQLite: the WAL since it last started over) when the call returned; 0 for a store without one. */
  readonly walPages: number
  /** Pages this call copied from the log into the database. */
  readonly copiedPages: number
}

/** The contract of every event store. */
export interface EventStore {
  /**
   * Writes a batch in one transaction: all of it or none of it. Idempotent on `key`: a key the
   * store already holds is counted as a duplicate and left as it is. An empty batch stores nothing.
   */
  storeEvents(batch: readonly EventRecord[]): Promise<StoreResult>
  /** The event with this key, or undefined. */
  getEvent(key: string): Promise<EventRecord | undefined>
  /** Events matching every given filter field, ordered by capture time (ties by ring id, then seq). */
  query(filter?: QueryFilter): Promise<EventRecord[]>
  stats(): Promise<StoreStats>
  /** Removes events captured strictly before `time` (ms since the epoch); returns how many. */
  deleteOlderThan(time: number): Promise<number>
  /** Keeps events that could not be stored, with their error; idempotent on the record's key. */
  storeDeadLetters(items: readonly DeadLetterInput[]): Promise<StoreResult>
  /** Dead letters, oldest first. */
  listDeadLetters(options?: ListDeadLettersOptions): Promise<DeadLetter[]>
  /**
   * Optional: how many events and dead letters of one ring the store holds. The pipeline's
   * accounting report takes `stored` and `quarantined` from here when the store offers it, because
   * a writer killed between a store's commit and its own counters would otherwise go uncounted.
   */
  countByRing?(ringId: string): Promise<RingCount>
  /**
   * Optional: the condition of the backend as this store sees it right now (a server reachable, a
   * cluster's replicas current). Stores over a server offer it; the pipeline probes it for its
   * health check. Never throws: a failure to ask is itself an `unhealthy` answer.
   */
  health?(): Promise<StoreHealth>
  /**
   * Optional: does the part of storing `batch` that needs no lock on the backend (checking and
   * converting rows), ahead of storeEvents with the same array, which then reuses it. Writers that
   * take turns on one file call it before their turn, so that work overlaps another writer's
   * transaction. Never throws: a batch it cannot prepare is checked again by storeEvents.
   */
  prepareEvents?(batch: readonly EventRecord[]): void
  /**
   * Optional: removes one bounded chunk of what is past the store's `retention` limits (given in
   * its spec) and returns what it removed; `more` says a limit is still exceeded. One writer of a
   * pipeline calls it between batches, so it must keep each transaction short. A store without
   * limits removes nothing.
   */
  applyRetention?(budget?: RetentionBudget): Promise<RetentionResult>
  /**
   * Optional: moves the store's write-ahead log into the database when it has grown past the
   * store's threshold (SQLite: `walCheckpointPages`), and otherwise does next to nothing. Writers
   * that take turns on one file call it after a batch is committed and their turn is over, so the
   * copy overlaps another writer's transaction instead of lengthening one.
   */
  checkpoint?(): Promise<CheckpointResult>
  /** Releases the store; later calls fail with `store_closed`. Closing twice is harmless. */
  close(): Promise<void>
}

const METHODS = [
  'storeEvents',
  'getEvent',
  'query',
  'stats',
  'deleteOlderThan',
  'storeDeadLetters',
  'listDeadLetters',
  'close',
] as const

/** The method names of the contract, in a fixed order (the remote store forwards exactly these). */
export const STORE_METHODS: readonly (typeof METHODS)[number][] = METHODS

/** True when `value` has every method of the EventStore contract (how a user's factory result is checked). */
export function isEventStore(value: unknown): value is EventStore {
  if (value === null || typeof value !== 'object') return false
  const o = value as Record<string, unknown>
  return METHODS.every((m) => typeof o[m] === 'function')
}
