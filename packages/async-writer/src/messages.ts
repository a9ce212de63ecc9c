// The control plane between a writer thread and its pool: what the pool puts in workerData, the
// lifecycle messages a writer posts on parentPort (a small discriminated union), and the comlink
// API it exposes on its control port. Events never travel here: only through the ring.

import type { MessagePort } from 'node:worker_threads'
import type { PriorityRingHandle, RingHandle } from '@ringside/core-ringbuffer'
import type { StoreSpec } from '@ringside/storage'
import type { WriterConfig } from './config.js'
import type { SerializedError } from './errors.js'
import type { FaultSwitch } from './faults.js'
import type { WriterMetricsSnapshot } from './metrics.js'
import type { StageSpec } from './stages.js'
import type { BatchReport } from './writer.js'

/** A store the writer reaches through a port served by the manager's thread (the memory store). */
export interface PortStoreSpec {
  readonly kind: 'port'
  readonly port: MessagePort
}

/** workerData of a writer thread. */
export interface WriterInit {
  readonly writerId: string
  readonly consumerId: number
  /** The ring to drain: a plain ring, or a priority ring (its three sub-rings, high claimed first). */
  readonly ring: RingHandle | PriorityRingHandle
  readonly store: StoreSpec | PortStoreSpec
  readonly stages: readonly StageSpec[]
  readonly config: WriterConfig
  readonly metrics: { readonly buffer: SharedArrayBuffer; readonly slot: number }
  /** The pool's circuit breaker (see SharedBreaker). */
  readonly breaker?: SharedArrayBuffer
  /** The supervisor's verdicts on claims that killed writers (see ClaimVerdicts). */
  readonly verdicts?: SharedArrayBuffer
  /** Per-stage metrics (see StageMetrics), one block of rows per slot. */
  readonly stageMetrics?: SharedArrayBuffer
  /** Port on which the writer exposes its WriterApi through comlink. */
  readonly control: MessagePort
  /** Abandon slots a dead producer reserved but never wrote after this long, ms. */
  readonly abandonAfterMs?: number
  /** The write lock of the store's file (see StoreLock), for stores one connection writes at a time (SQLite). */
  readonly storeLock?: SharedArrayBuffer
  /** A warm spare: ready (store open, stages loaded) but claims nothing until `activate()`. */
  readonly spare?: boolean
}

/** One dead letter as the pool hears of it (for the dashboard's recent list and the `quarantined` event). */
export interface QuarantinedItem {
  readonly key: string
  readonly type: string | undefined
  readonly reason: string
  readonly error: string
}

/** Most dead letters one batch reports by message; the rest are only counted (`more`). */
export const QUARANTINE_REPORT_MAX = 20

/** Lifecycle messages from a writer to its pool. */
export type WriterMessage =
  | { readonly kind: 'ready'; readonly writerId: string; readonly stageNames?: readonly string[] }
  /** The writer could not start: its error with code and causes (rebuild it with RemoteWriterError). */
  | { readonly kind: 'start_failed'; readonly writerId: string; readonly error: SerializedError }
  | { readonly kind: 'batch'; readonly writerId: string; readonly report: BatchReport }
  | { readonly kind: 'stopped'; readonly writerId: string }
  /** Events this writer just sent to the dead letters (at most QUARANTINE_REPORT_MAX per batch). */
  | { readonly kind: 'quarantined'; readonly writerId: string; readonly items: readonly QuarantinedItem[]; readonly more: number }

/** The writer's control API (comlink). */
export interface WriterApi {
  configure(patch: Partial<WriterConfig>): WriterConfig
  /** Resolves once this writer finds nothing left to claim. */
  drain(): Promise<void>
  /** Finishes and commits the batch in hand, closes the store; the thread then exits with code 0. */
  stop(): Promise<void>
  setFault(fault: FaultSwitch | undefined): void
  /** A spare starts claiming (its slot's claims, handed over by the pool, come first). No-op on a writer already claiming. */
  activate(): void
  /** Loads `specs` and holds them, not yet in use; rejects (StageLoadError) when they cannot load. Returns their names. */
  prepareStages(specs: readonly StageSpec[], stageMetrics: SharedArrayBuffer | undefined): Promise<string[]>
  /** Puts the prepared stages (and their metrics rows) in use from the next batch; false when none were prepared. */
  commitStages(): boolean
  /** Forgets prepared stages. */
  discardStages(): void
  introspect(): { writerId: string; consumerId: number; config: WriterConfig; metrics: WriterMetricsSnapshot; heap: { usedBytes: number; totalBytes: number } }
}
