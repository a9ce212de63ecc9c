// AsyncWriter: the actor inside one worker thread. It claims batches from the ring, validates,
// enriches and runs the user's stages, stores the batch, and only then commits the claim. Store
// errors are retried (the claim stays held); any other error is a crash, left to the supervisor.

import type { Claim, RingConsumer, RingRecord } from '@ringside/core-ringbuffer'
import type { DeadLetterInput, EventRecord, EventStore } from '@ringside/storage'
import { applyWriterPatch, type WriterConfig } from './config.js'
import type { SharedBreaker } from './circuit-breaker.js'
import { WriterError } from './errors.js'
import { maybeFault, type FaultSwitch } from './faults.js'
import type { WriterMetrics } from './metrics.js'
import { processEvents, type ProcessedBatch, type Stage } from './stages.js'

/** What the manager hears about each batch when `logBatches` is on. */
export interface BatchReport {
  readonly events: number
  readonly stored: number
  readonly duplicates: number
  readonly filtered: number
  readonly invalid: number
  readonly poisoned: number
  readonly writeMs: number
}

export interface AsyncWriterDeps {
  readonly writerId: string
  readonly consumer: RingConsumer
  readonly store: EventStore
  readonly stages: readonly Stage[]
  readonly metrics: WriterMetrics
  readonly config: WriterConfig
  /** The pool's circuit breaker; without one the writer never stops claiming. */
  readonly breaker?: SharedBreaker
  readonly onBatch?: (report: BatchReport) => void
}

/** An adapter says an error is permanent with `transient: false`; anything else is retried. */
export function isTransient(err: unknown): boolean {
  return (err as { transient?: unknown } | null)?.transient !== false
}

const describeError = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err))

const now = (): number => performance.timeOrigin + performance.now()
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class AsyncWriter {
  readonly #d: AsyncWriterDeps
  #config: WriterConfig
  #stopping = false
  #draining = false
  #fault: FaultSwitch | undefined
  #batchesThisIncarnation = 0
  #loop: Promise<void> | undefined
  #idle: (() => void) | undefined

  constructor(deps: AsyncWriterDeps) {
    this.#d = deps
    this.#config = deps.config
  }

  get config(): WriterConfig {
    return this.#config
  }

  configure(patch: Partial<WriterConfig>): WriterConfig {
    this.#config = applyWriterPatch(this.#config, patch)
    return this.#config
  }

  setFault(fault: FaultSwitch | undefined): void {
    this.#fault = fault
  }

  /** Starts the loop. Its failure (anything but a store error) is returned for the caller to crash on. */
  start(): Promise<void> {
    this.#d.metrics.setState('ready')
    this.#loop = this.#run()
    return this.#loop
  }

  /** Resolves once the ring has nothing left for this writer (the loop keeps running). */
  drain(): Promise<void> {
    this.#draining = true
    this.#d.metrics.setState('draining')
    return new Promise((resolve) => (this.#idle = resolve))
  }

  /** Finishes and commits the batch in hand, then stops the loop. */
  async stop(): Promise<void> {
    this.#stopping = true
    await this.#loop
    this.#d.metrics.setState('stopped')
  }

  async #run(): Promise<void> {
    const { consumer, metrics } = this.#d
    while (!this.#stopping) {
      const t = now()
      metrics.set('heartbeatAt', t)
      metrics.set('lastPollAt', t)
      const cfg = this.#config
      if (this.#d.breaker && !this.#d.breaker.allow(consumer.id)) {
        // The store is failing: leave events in the ring (it absorbs them) until the breaker lets us probe.
        await sleep(cfg.pollIntervalMs)
        continue
      }
      const first = consumer.claim(cfg.batchSize, cfg.maxBatchBytes)
      if (first === null) {
        if (this.#draining && this.#idle && !consumer.hasData()) {
          this.#idle()
          this.#idle = undefined
        }
        await consumer.waitForDataAsync(cfg.pollIntervalMs)
        continue
      }
      const claims = await this.#fill(first)
      await this.#handle(claims)
      // A synchronous store (SQLite) resolves in microtasks only: without this turn of the event
      // loop, control messages (config, stop, faults) and timers would starve while data flows.
      await yieldToEventLoop()
    }
  }

  /** Tops a partial batch up until it is full or its oldest event has waited `lingerMs`. */
  async #fill(first: Claim): Promise<Claim[]> {
    const { consumer, metrics } = this.#d
    const claims = [first]
    let n = first.records.length
    let bytes = first.bytes
    metrics.set('heldEvents', n)
    metrics.set('heldSince', now())
    const deadline = (first.records[0]?.capturedAt ?? now()) + this.#config.lingerMs
    while (n < this.#config.batchSize && bytes < this.#config.maxBatchBytes && !this.#stopping && !this.#draining) {
      const left = deadline - now()
      if (left <= 0) break
      await consumer.waitForDataAsync(Math.min(left, this.#config.pollIntervalMs))
      metrics.set('heartbeatAt', now())
      const more = consumer.claim(this.#config.batchSize - n, this.#config.maxBatchBytes - bytes)
      if (more !== null) {
        claims.push(more)
        n += more.records.length
        bytes += more.bytes
        metrics.set('heldEvents', n)
      }
    }
    return claims
  }

  async #handle(claims: Claim[]): Promise<void> {
    const { consumer, metrics, store } = this.#d
    const records: RingRecord[] = claims.length === 1 ? (claims[0]!.records as RingRecord[]) : claims.flatMap((c) => c.records)
    metrics.add('eventsRead', records.length)
    const { batch, deadLetters, filtered } = await this.#process(records)
    maybeFault(this.#fault, this.#batchesThisIncarnation, 'before_store')
    const t0 = performance.now()
    const outcome = await this.#store(batch)
    const quarantine = [...deadLetters, ...outcome.poisoned]
    if (quarantine.length > 0) await this.#retryTransient(() => store.storeDeadLetters(quarantine), 'dead letters')
    const writeMs = performance.now() - t0
    const { stored, duplicates } = outcome
    const poisoned = outcome.poisoned.length
    maybeFault(this.#fault, this.#batchesThisIncarnation, 'after_store')
    for (const c of claims) consumer.commit(c)
    const committedAt = now()
    for (const r of records) metrics.recordEndToEnd(committedAt - r.capturedAt)
    metrics.recordWriteLatency(writeMs)
    metrics.add('eventsStored', stored)
    metrics.add('duplicates', duplicates)
    metrics.add('filtered', filtered)
    metrics.add('invalid', deadLetters.length)
    metrics.add('poisoned', poisoned)
    metrics.add('batches')
    metrics.set('heldEvents', 0)
    metrics.set('heldSince', 0)
    this.#batchesThisIncarnation++
    this.#d.onBatch?.({ events: records.length, stored, duplicates, filtered, invalid: deadLetters.length, poisoned, writeMs })
  }

  /**
   * Stores a batch: transient errors are retried with exponential backoff and full jitter while the
   * claim stays held; a batch that keeps failing with a permanent error is split in halves until the
   * failing events are isolated, and those come back as `poisoned` dead letters.
   */
  async #store(batch: EventRecord[]): Promise<{ stored: number; duplicates: number; poisoned: DeadLetterInput[] }> {
    let attempts = 0
    let permanent = 0
    for (;;) {
      await this.#gate()
      attempts++
      try {
        const r = await this.#d.store.storeEvents(batch)
        this.#d.breaker?.record(true, this.#d.consumer.id)
        return { stored: r.inserted, duplicates: r.duplicates, poisoned: [] }
      } catch (err) {
        this.#d.metrics.add('errors')
        // Only a failing store trips the breaker; a permanent error is about the data (poison).
        if (isTransient(err)) this.#d.breaker?.record(false, this.#d.consumer.id)
        if (this.#stopping) throw new WriterError('store_failed_while_stopping', `${this.#d.writerId}: store failed while stopping; the claim stays for an heir`, { cause: err })
        if (isTransient(err) || ++permanent < this.#config.permanentAttempts) {
          await this.#backoff(attempts)
          continue
        }
        if (batch.length === 1) return { stored: 0, duplicates: 0, poisoned: [{ record: batch[0]!, error: describeError(err), attempts, reason: 'permanent_error' }] }
        const mid = batch.length >> 1
        const a = await this.#store(batch.slice(0, mid))
        const b = await this.#store(batch.slice(mid))
        return { stored: a.stored + b.stored, duplicates: a.duplicates + b.duplicates, poisoned: [...a.poisoned, ...b.poisoned] }
      }
    }
  }

  /** Retries an operation on transient errors (dead letters); a permanent error there is a crash. */
  async #retryTransient<T>(op: () => Promise<T>, what: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.#gate()
      try {
        const r = await op()
        this.#d.breaker?.record(true, this.#d.consumer.id)
        return r
      } catch (err) {
        this.#d.metrics.add('errors')
        this.#d.breaker?.record(false, this.#d.consumer.id)
        if (!isTransient(err) || this.#stopping) throw new WriterError('dead_letters_failed', `${this.#d.writerId}: storing ${what} failed`, { cause: err })
        await this.#backoff(attempt)
      }
    }
  }

  /** Waits while the breaker is open (another writer may be probing); keeps the heartbeat going. */
  async #gate(): Promise<void> {
    const breaker = this.#d.breaker
    while (breaker && !breaker.allow(this.#d.consumer.id) && !this.#stopping) {
      this.#d.metrics.set('heartbeatAt', now())
      await sleep(this.#config.pollIntervalMs)
    }
  }

  async #backoff(attempt: number): Promise<void> {
    const cap = Math.min(this.#config.retryMaxMs, this.#config.retryBaseMs * 2 ** Math.min(attempt - 1, 20))
    await sleep(Math.random() * cap) // exponential backoff with full jitter
    this.#d.metrics.set('heartbeatAt', now())
  }

  async #process(records: readonly RingRecord[]): Promise<ProcessedBatch> {
    const { metrics, stages, writerId } = this.#d
    const out = await processEvents(records, { writerId, stages, enrichedAt: now(), firstOrder: metrics.nextOrder(records.length) })
    metrics.add('eventsProcessed', records.length)
    return out
  }
}
