// AsyncWriter: the actor inside one worker thread. It claims batches from the ring, validates,
// enriches and runs the user's stages, stores the batch, and only then commits the claim. Store
// errors are retried (the claim stays held); any other error is a crash, left to the supervisor.

import type { Claim, RingConsumer, RingRecord } from '@ringside/core-ringbuffer'
import type { DeadLetterInput, EventRecord, EventStore } from '@ringside/storage'
import { applyWriterPatch, type WriterConfig } from './config.js'
import { maybeFault, type FaultSwitch } from './faults.js'
import type { WriterMetrics } from './metrics.js'
import { enrichEvent, validateEvent, type Stage } from './stages.js'

/** What the manager hears about each batch when `logBatches` is on. */
export interface BatchReport {
  readonly events: number
  readonly stored: number
  readonly duplicates: number
  readonly filtered: number
  readonly invalid: number
  readonly writeMs: number
}

export interface AsyncWriterDeps {
  readonly writerId: string
  readonly consumer: RingConsumer
  readonly store: EventStore
  readonly stages: readonly Stage[]
  readonly metrics: WriterMetrics
  readonly config: WriterConfig
  readonly onBatch?: (report: BatchReport) => void
}

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
    const { consumer, metrics, store, writerId } = this.#d
    const records: RingRecord[] = claims.length === 1 ? (claims[0]!.records as RingRecord[]) : claims.flatMap((c) => c.records)
    metrics.add('eventsRead', records.length)
    const { batch, deadLetters, filtered } = await this.#process(records)
    maybeFault(this.#fault, this.#batchesThisIncarnation, 'before_store')
    let stored = 0
    let duplicates = 0
    let writeMs = 0
    for (let attempt = 1; ; attempt++) {
      try {
        const t0 = performance.now()
        const r = await store.storeEvents(batch)
        if (deadLetters.length > 0) await store.storeDeadLetters(deadLetters)
        writeMs = performance.now() - t0
        stored = r.inserted
        duplicates = r.duplicates
        break
      } catch (err) {
        metrics.add('errors')
        if (this.#stopping) throw new Error(`${writerId}: store failed while stopping; the claim stays for an heir`, { cause: err })
        const cap = Math.min(this.#config.retryMaxMs, this.#config.retryBaseMs * 2 ** Math.min(attempt, 20))
        await sleep(Math.random() * cap) // exponential backoff with full jitter
        metrics.set('heartbeatAt', now())
      }
    }
    maybeFault(this.#fault, this.#batchesThisIncarnation, 'after_store')
    for (const c of claims) consumer.commit(c)
    const committedAt = now()
    for (const r of records) metrics.recordEndToEnd(committedAt - r.capturedAt)
    metrics.recordWriteLatency(writeMs)
    metrics.add('eventsStored', stored)
    metrics.add('duplicates', duplicates)
    metrics.add('filtered', filtered)
    metrics.add('invalid', deadLetters.length)
    metrics.add('batches')
    metrics.set('heldEvents', 0)
    metrics.set('heldSince', 0)
    this.#batchesThisIncarnation++
    this.#d.onBatch?.({ events: records.length, stored, duplicates, filtered, invalid: deadLetters.length, writeMs })
  }

  async #process(records: readonly RingRecord[]): Promise<{ batch: EventRecord[]; deadLetters: DeadLetterInput[]; filtered: number }> {
    const { metrics, stages, writerId } = this.#d
    const batch: EventRecord[] = []
    const deadLetters: DeadLetterInput[] = []
    let filtered = 0
    const enrichedAt = now()
    const order = metrics.nextOrder(records.length)
    for (let k = 0; k < records.length; k++) {
      const r = records[k]!
      const problem = validateEvent(r.event)
      if (problem !== undefined) {
        deadLetters.push({ record: toRecord(r, r.event), error: problem, attempts: 1, reason: 'invalid_event' })
        continue
      }
      let event: Record<string, unknown> | null | undefined = enrichEvent(r, writerId, enrichedAt, order + k)
      for (const stage of stages) {
        const out = stage.process(event, { key: r.key, writerId })
        event = out instanceof Promise ? await out : out
        if (event === null || event === undefined) break
      }
      if (event === null || event === undefined) filtered++
      else batch.push(toRecord(r, event))
    }
    metrics.add('eventsProcessed', records.length)
    return { batch, deadLetters, filtered }
  }
}

function toRecord(r: RingRecord, event: Record<string, unknown>): EventRecord {
  return { key: r.key, ringId: r.ringId, seq: r.seq, capturedAt: r.capturedAt, event }
}
