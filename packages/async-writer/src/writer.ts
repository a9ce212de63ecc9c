// AsyncWriter: the actor inside one worker thread. It claims batches from the ring, validates,
// enriches and runs the user's stages, stores the batch, and only then commits the claim. Store
// errors are retried (the claim stays held); events a stage fails on are quarantined; any other
// error is a crash, left to the supervisor, which also judges a step that outlives batchTimeoutMs.

import type { Claim, RingConsumer, RingRecord } from '@ringside/core-ringbuffer'
import type { DeadLetterInput, EventRecord, EventStore } from '@ringside/storage'
import { applyWriterPatch, type WriterConfig } from './config.js'
import type { SharedBreaker } from './circuit-breaker.js'
import { WriterError } from './errors.js'
import { maybeFault, type FaultSwitch } from './faults.js'
import type { WriterMetrics } from './metrics.js'
import { processEvents, toStoreRecord, type ProcessedBatch, type Stage } from './stages.js'
import { StoreTimeoutError } from './errors.js'
import { ISOLATE_AFTER_DEATHS, type ClaimVerdicts } from './verdicts.js'
import type { StageMetrics } from './stage-metrics.js'
import { StoreLockTimeoutError, type StoreLock } from './store-lock.js'
import { backoffDelayMs, effectiveRetry, retryDecision } from './retry-policy.js'
import { DeferredQueue } from './retry-later.js'
import { resumeEvents, type DeferredEvent } from './stages.js'

/** What the manager hears about each batch when `logBatches` is on. */
export interface BatchReport {
  readonly events: number
  readonly stored: number
  readonly duplicates: number
  readonly filtered: number
  readonly invalid: number
  /** Events a user stage threw on (dead letters `stage_error`). */
  readonly stageErrors: number
  /** Events the supervisor found to kill or hang a writer (dead letters `crashed_writer` / `timeout`). */
  readonly killers: number
  readonly poisoned: number
  /** Events given up after the retry policy's attempts (dead letters `retries_exhausted`). */
  readonly retriesExhausted?: number
  readonly writeMs: number
}

/**
 * What a writer drains: a RingConsumer, or a PriorityConsumer (one id on a priority ring's three
 * sub-rings, claiming high priority first), which has the same shape.
 */
export type WriterConsumer = Pick<RingConsumer, 'id' | 'claim' | 'commit' | 'hasData' | 'waitForDataAsync'>

export interface AsyncWriterDeps {
  readonly writerId: string
  readonly consumer: WriterConsumer
  /**
   * The number a record is known by in the supervisor's verdicts (held ranges, killers): its `seq`
   * by default. A priority ring's sub-rings number their events each on their own, so its writers
   * give `seq * 4 + rank of the priority` (unique across the three sub-rings).
   */
  readonly verdictSeq?: (record: RingRecord) => number
  readonly store: EventStore
  readonly stages: readonly Stage[]
  readonly metrics: WriterMetrics
  readonly config: WriterConfig
  /** The pool's circuit breaker; without one the writer never stops claiming. */
  readonly breaker?: SharedBreaker
  /** The supervisor's verdicts on claims that killed writers (see ClaimVerdicts). */
  readonly verdicts?: ClaimVerdicts
  /** Per-stage counts and times in shared memory. */
  readonly stageMetrics?: StageMetrics
  /** The write lock of the store's file, shared with the other writers (SQLite); each store call is made holding it. */
  readonly storeLock?: StoreLock
  readonly onBatch?: (report: BatchReport) => void
  /** Told of every batch's dead letters once they are stored. */
  readonly onQuarantine?: (items: readonly DeadLetterInput[]) => void
  /** This writer applies the store's retention between batches (one writer per pool: slot 0). */
  readonly runsRetention?: boolean
}

/** What storing one batch came to. */
interface StoreOutcome {
  readonly stored: number
  readonly duplicates: number
  readonly poisoned: DeadLetterInput[]
  readonly exhausted: DeadLetterInput[]
}

/** An adapter says an error is permanent with `transient: false`; anything else is retried. */
export function isTransient(err: unknown): boolean {
  return (err as { transient?: unknown } | null)?.transient !== false
}

const describeError = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err))

const now = (): number => performance.timeOrigin + performance.now()
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
/** Share of batchTimeoutMs an asynchronous store call may take before it counts as failed. */
const STORE_CALL_SHARE = 0.9
/** Pause between retention checks once the store is within its limits, ms; after a failure, five of them. */
const RETENTION_INTERVAL_MS = 1_000

export class AsyncWriter {
  readonly #d: AsyncWriterDeps
  #config: WriterConfig
  #stopping = false
  #draining = false
  #fault: FaultSwitch | undefined
  #batchesThisIncarnation = 0
  #loop: Promise<void> | undefined
  #idle: (() => void) | undefined
  /** Events a stage put off (retryLater): claimed, uncommitted, back in the loop once due. */
  readonly #later = new DeferredQueue()
  /** The stages in force (replaced whole by swapStages). */
  #stages: readonly Stage[]
  #stageMetrics: StageMetrics | undefined
  /** The list the last batch went through (a swap may land while it is in hand). */
  #processedWith: readonly Stage[] = []
  #retentionAt = 0

  constructor(deps: AsyncWriterDeps) {
    this.#d = deps
    this.#config = deps.config
    this.#stages = deps.stages
    this.#stageMetrics = deps.stageMetrics
  }

  /** Replaces the stages; the next batch runs through the new ones (a batch in hand finishes with the old). */
  swapStages(stages: readonly Stage[], stageMetrics?: StageMetrics): void {
    this.#stages = stages
    this.#stageMetrics = stageMetrics
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
      await this.#retain()
      if (this.#d.breaker && !this.#d.breaker.mayClaim(consumer.id)) {
        // The store is failing: leave events in the ring (it absorbs them) until the breaker lets us probe.
        await sleep(cfg.pollIntervalMs)
        continue
      }
      if (this.#later.size > 0) await this.#resumeDue()
      const first = consumer.claim(cfg.batchSize, cfg.maxBatchBytes)
      if (first === null) {
        if (this.#draining && this.#idle && !consumer.hasData() && this.#later.size === 0) {
          this.#idle()
          this.#idle = undefined
        }
        await consumer.waitForDataAsync(cfg.pollIntervalMs)
        continue
      }
      const claims = await this.#fill(first)
      await this.#handle(claims)
      await this.#checkpoint()
      // A synchronous store (SQLite) resolves in microtasks only: without this turn of the event
      // loop, control messages (config, stop, faults) and timers would starve while data flows.
      await yieldToEventLoop()
    }
  }

  /**
   * Between batches, holding no claim: one chunk of the store's retention when it is due. While a
   * limit is still exceeded the next chunk follows the next batch, so deletes interleave with
   * writes and keep pace with them; a writer never waits for more than one chunk. Failures are
   * not the batch's: they only postpone the next try.
   */
  async #retain(): Promise<void> {
    const store = this.#d.store
    if (this.#d.runsRetention !== true || store.applyRetention === undefined || this.#stopping) return
    const t = now()
    if (t < this.#retentionAt) return
    try {
      const r = await this.#locked(() => this.#timed(store.applyRetention!(), 'applyRetention'))
      this.#retentionAt = r.more ? 0 : now() + RETENTION_INTERVAL_MS
    } catch {
      this.#retentionAt = now() + 5 * RETENTION_INTERVAL_MS
    }
    this.#d.metrics.set('heartbeatAt', now())
  }

  /**
   * After a batch is committed, holding no claim and not the store's write lock: the store's
   * checkpoint (SQLite copies its WAL into the database once it is past walCheckpointPages), so
   * the copy overlaps another writer's commit instead of lengthening one. Mostly a look at the
   * WAL's size. A failure is not the batch's: the store's own autocheckpoint still bounds the WAL.
   */
  async #checkpoint(): Promise<void> {
    const store = this.#d.store
    if (store.checkpoint === undefined || this.#stopping) return
    try {
      await this.#timed(store.checkpoint(), 'checkpoint')
    } catch {
      this.#d.metrics.add('errors')
    }
    this.#d.metrics.set('heartbeatAt', now())
  }

  /** The number the supervisor's verdicts know a record by (AsyncWriterDeps.verdictSeq; its seq by default). */
  #verdictSeqOf(r: RingRecord): number {
    const f = this.#d.verdictSeq
    return f === undefined ? r.seq : f(r)
  }

  /** Tops a partial batch up until it is full or its oldest event has waited `lingerMs`. */
  async #fill(first: Claim): Promise<Claim[]> {
    const { consumer, metrics } = this.#d
    const claims = [first]
    let n = first.records.length
    let bytes = first.bytes
    metrics.set('heldEvents', n)
    metrics.set('heldSince', now())
    this.#holdRange(first)
    const deadline = (first.records[0]?.capturedAt ?? now()) + this.#config.lingerMs
    while (n < this.#config.batchSize && bytes < this.#config.maxBatchBytes && !this.#stopping && !this.#draining) {
      const left = deadline - now()
      if (left <= 0) break
      // Woken once the batch could be full, not by every event: at a low rate each event would
      // otherwise cost the application a notify and this thread a wake-up.
      await consumer.waitForDataAsync(Math.min(left, this.#config.pollIntervalMs), this.#config.batchSize - n)
      metrics.set('heartbeatAt', now())
      const more = consumer.claim(this.#config.batchSize - n, this.#config.maxBatchBytes - bytes)
      if (more !== null) {
        claims.push(more)
        n += more.records.length
        bytes += more.bytes
        metrics.set('heldEvents', n)
        this.#holdRange(more)
      }
    }
    return claims
  }

  /** Widens the held sequence range the supervisor reads if this writer dies (see ClaimVerdicts). */
  #holdRange(c: Claim): void {
    const { metrics } = this.#d
    let lo = metrics.get('heldFirstSeq')
    let hi = metrics.get('heldLastSeq')
    for (const r of c.records) {
      const seq = this.#verdictSeqOf(r)
      if (lo < 0 || seq < lo) lo = seq
      if (seq > hi) hi = seq
    }
    metrics.set('heldFirstSeq', lo)
    metrics.set('heldLastSeq', hi)
  }

  async #handle(claims: Claim[]): Promise<void> {
    const { consumer, metrics, verdicts } = this.#d
    const records: RingRecord[] = []
    const positions: number[] = []
    for (const c of claims) {
      for (const r of c.records) records.push(r)
      for (const p of c.positions) positions.push(p)
    }
    metrics.add('eventsRead', records.length)
    // The supervisor's verdicts on claims that killed writers: a killer is quarantined unprocessed;
    // a claim that killed two writers is processed one event at a time, so the next death names its killer.
    const killers: DeadLetterInput[] = []
    const killerRecords: RingRecord[] = []
    const killerAt: number[] = []
    let work = records
    let workAt = positions
    let isolate = false
    if (verdicts?.anyVerdict) {
      work = []
      workAt = []
      for (let k = 0; k < records.length; k++) {
        const r = records[k]!
        const reason = verdicts.killerReason(this.#verdictSeqOf(r))
        if (reason === undefined) {
          work.push(r)
          workAt.push(positions[k]!)
          continue
        }
        const why = reason === 'timeout' ? `processed alone, it held its writer past batchTimeoutMs (${this.#config.batchTimeoutMs} ms)` : 'processed alone, it killed its writer thread'
        killers.push({ record: toStoreRecord(r, r.event), error: why, attempts: ISOLATE_AFTER_DEATHS + 1, reason })
        killerRecords.push(r)
        killerAt.push(positions[k]!)
      }
      isolate = work.length > 1 && verdicts.deathsOf(metrics.get('heldFirstSeq'), metrics.get('heldLastSeq')) >= ISOLATE_AFTER_DEATHS
    }
    if (!isolate) {
      const deferred = await this.#write(work, killers)
      if (deferred.length === 0) for (const c of claims) consumer.commit(c)
      else this.#commitAllBut(records, positions, deferred)
      this.#committed(records)
      return
    }
    const claimOf = (rs: RingRecord[], ps: number[]): Claim => ({ consumerId: consumer.id, records: rs, bytes: 0, handedOver: true, positions: ps })
    metrics.set('isolating', 1)
    if (killers.length > 0) {
      await this.#write([], killers)
      consumer.commit(claimOf(killerRecords, killerAt))
    }
    for (let k = 0; k < work.length; k++) {
      const r = work[k]!
      metrics.set('currentSeq', this.#verdictSeqOf(r))
      const deferred = await this.#write([r], [])
      if (deferred.length === 0) consumer.commit(claimOf([r], [workAt[k]!]))
      else this.#commitAllBut([r], [workAt[k]!], deferred)
      metrics.set('currentSeq', -1)
      metrics.set('heldEvents', work.length - k - 1)
    }
    metrics.set('isolating', 0)
    this.#committed(records)
  }

  /**
   * Commits the claimed `records` at `positions` except the put-off ones, which stay claimed and
   * wait in #later (a crash hands them over with the writer's other claims).
   */
  #commitAllBut(records: readonly RingRecord[], positions: readonly number[], putOff: readonly DeferredEvent[], stages = this.#processedWith): void {
    const items = new Map(putOff.map((d) => [d.record.key, d]))
    const rs: RingRecord[] = []
    const ps: number[] = []
    for (let k = 0; k < records.length; k++) {
      const r = records[k]!
      const item = items.get(r.key)
      if (item) this.#later.add(item, positions[k]!, stages)
      else {
        rs.push(r)
        ps.push(positions[k]!)
      }
    }
    if (rs.length > 0) this.#d.consumer.commit({ consumerId: this.#d.consumer.id, records: rs, bytes: 0, handedOver: true, positions: ps })
    this.#d.metrics.set('deferred', this.#later.size)
  }

  /** Brings put-off events that are due back through their stages, stores what settles, commits it. */
  async #resumeDue(): Promise<void> {
    const due = this.#later.takeDue(Date.now())
    if (due.length === 0) return
    // Grouped by the stage list that put them off: one swapped out meanwhile still finishes them
    // (its metrics rows are gone, so those passes are not counted per stage).
    const lists = new Map<readonly Stage[], typeof due>()
    for (const h of due) lists.set(h.stages, [...(lists.get(h.stages) ?? []), h])
    for (const [stages, group] of lists) {
      this.#busy()
      const metricsRows = stages === this.#stages && this.#stageMetrics ? { stageMetrics: this.#stageMetrics } : {}
      const processed = await resumeEvents(group.map((h) => h.item), { writerId: this.#d.writerId, stages, onProgress: () => this.#busy(), ...metricsRows })
      const records = group.map((h) => h.item.record as RingRecord)
      const deferred = await this.#write(records, [], processed)
      this.#commitAllBut(records, group.map((h) => h.position), deferred, stages)
    }
    this.#committed([])
  }

  /** Processes, stores and quarantines one batch (the claim stays held); counts it. Returns the records a stage put off (not stored: keep them claimed). */
  async #write(records: RingRecord[], quarantined: DeadLetterInput[], resumed?: ProcessedBatch): Promise<DeferredEvent[]> {
    const { metrics, store } = this.#d
    this.#busy()
    const { batch, deadLetters, filtered, stageErrors, deferred } = resumed ?? (await this.#process(records))
    maybeFault(this.#fault, this.#batchesThisIncarnation, 'before_store')
    const t0 = performance.now()
    const outcome = await this.#store(batch)
    const quarantine = [...quarantined, ...deadLetters, ...outcome.poisoned, ...outcome.exhausted]
    if (quarantine.length > 0) {
      await this.#retryTransient(() => store.storeDeadLetters(quarantine), 'dead letters')
      this.#d.onQuarantine?.(quarantine)
    }
    const writeMs = performance.now() - t0
    const { stored, duplicates } = outcome
    const poisoned = outcome.poisoned.length
    maybeFault(this.#fault, this.#batchesThisIncarnation, 'after_store')
    metrics.recordWriteLatency(writeMs)
    metrics.add('eventsStored', stored)
    metrics.add('duplicates', duplicates)
    metrics.add('filtered', filtered)
    metrics.add('invalid', deadLetters.length - stageErrors)
    metrics.add('stageErrors', stageErrors)
    metrics.add('killers', quarantined.length)
    metrics.add('poisoned', poisoned)
    metrics.add('retriesExhausted', outcome.exhausted.length)
    metrics.add('batches')
    this.#batchesThisIncarnation++
    metrics.add('retriedLater', deferred.length)
    const invalid = deadLetters.length - stageErrors
    this.#d.onBatch?.({ events: records.length + quarantined.length, stored, duplicates, filtered, invalid, stageErrors, killers: quarantined.length, poisoned, retriesExhausted: outcome.exhausted.length, writeMs })
    return deferred
  }

  /** After the whole claim is committed: latencies, and nothing held any more. */
  #committed(records: readonly RingRecord[]): void {
    const { metrics } = this.#d
    const committedAt = now()
    for (const r of records) metrics.recordEndToEnd(committedAt - r.capturedAt)
    metrics.set('heldEvents', 0)
    metrics.set('heldSince', 0)
    metrics.set('heldFirstSeq', -1)
    metrics.set('heldLastSeq', -1)
    metrics.set('busySince', 0)
  }

  /** A step of work on the held claim begins: the pool's batch deadline runs from here. */
  #busy(): void {
    this.#d.metrics.set('busySince', now())
  }

  /** The writer waits on purpose (linger, retry backoff, breaker): no deadline runs. */
  #idleWait(): void {
    this.#d.metrics.set('busySince', 0)
  }

  /**
   * Stores a batch: transient errors are retried with exponential backoff and full jitter while the
   * claim stays held; a batch that keeps failing with a permanent error is split in halves until the
   * failing events are isolated, and those come back as `poisoned` dead letters. A transient error
   * the retry policy gives up on (its filter, its attempts) sends the batch to the dead letters as
   * `exhausted` (see retry-policy.ts; the order of decisions is in the README).
   */
  async #store(batch: EventRecord[]): Promise<StoreOutcome> {
    let attempts = 0
    let permanent = 0
    for (;;) {
      await this.#gate()
      attempts++
      this.#busy()
      try {
        // Row conversion before the turn on the file, so it overlaps another writer's transaction.
        if (this.#d.storeLock !== undefined) this.#d.store.prepareEvents?.(batch)
        const r = await this.#locked(() => this.#timed(this.#d.store.storeEvents(batch), 'storeEvents'))
        this.#d.breaker?.record(true, this.#d.consumer.id)
        return { stored: r.inserted, duplicates: r.duplicates, poisoned: [], exhausted: [] }
      } catch (err) {
        this.#d.metrics.add('errors')
        // Only a failing store trips the breaker; a permanent error is about the data (poison). A
        // lock held too long is another writer's fault (the supervisor replaces a hung one).
        if (isTransient(err) && !(err instanceof StoreLockTimeoutError)) this.#d.breaker?.record(false, this.#d.consumer.id)
        if (this.#stopping) throw new WriterError('store_failed_while_stopping', `${this.#d.writerId}: store failed while stopping; the claim stays for an heir`, { cause: err })
        if (isTransient(err)) {
          const d = retryDecision(err, attempts, effectiveRetry(this.#config))
          if (!d.retry) return { stored: 0, duplicates: 0, poisoned: [], exhausted: batch.map((record) => ({ record, error: `${d.why}: ${describeError(err)}`, attempts, reason: 'retries_exhausted' })) }
        }
        if (isTransient(err) || ++permanent < this.#config.permanentAttempts) {
          await this.#backoff(attempts)
          continue
        }
        if (batch.length === 1) return { stored: 0, duplicates: 0, poisoned: [{ record: batch[0]!, error: describeError(err), attempts, reason: 'permanent_error' }], exhausted: [] }
        const mid = batch.length >> 1
        const a = await this.#store(batch.slice(0, mid))
        const b = await this.#store(batch.slice(mid))
        return { stored: a.stored + b.stored, duplicates: a.duplicates + b.duplicates, poisoned: [...a.poisoned, ...b.poisoned], exhausted: [...a.exhausted, ...b.exhausted] }
      }
    }
  }

  /** Retries an operation on transient errors (dead letters); a permanent error there is a crash. */
  async #retryTransient<T>(op: () => Promise<T>, what: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.#gate()
      this.#busy()
      try {
        const r = await this.#locked(() => this.#timed(op(), what))
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

  /**
   * An asynchronous store call that never settles is a store outage, not a hung writer: past
   * `STORE_CALL_SHARE` of the batch deadline it fails as a transient StoreTimeoutError, retried
   * behind the breaker, before the supervisor's deadline would judge the writer hung. (A store that
   * blocks the thread cannot be timed here; the supervisor's deadline catches that.)
   */
  #timed<T>(call: Promise<T>, what: string): Promise<T> {
    const ms = Math.max(1, Math.floor(this.#config.batchTimeoutMs * STORE_CALL_SHARE))
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeoutError(what, ms)), ms)
    })
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer))
  }

  /**
   * Runs a store call holding the store's write lock, if the store has one. The wait for the lock
   * is not a step of work (another writer is storing): no batch deadline runs while it lasts, and
   * the heartbeat goes on; it is bounded by batchTimeoutMs, by when the supervisor has replaced a
   * holder that hung. The deadline of the call itself starts once the lock is held.
   */
  async #locked<T>(call: () => Promise<T>): Promise<T> {
    const lock = this.#d.storeLock
    if (lock === undefined) return call()
    if (!lock.tryAcquire()) {
      this.#idleWait()
      await lock.acquire(this.#config.batchTimeoutMs, () => this.#d.metrics.set('heartbeatAt', now()))
      this.#busy()
    }
    try {
      return await call()
    } finally {
      lock.release()
    }
  }

  /** Waits while the breaker is open (another writer may be probing); keeps the heartbeat going. */
  async #gate(): Promise<void> {
    const breaker = this.#d.breaker
    if (breaker && !breaker.allow(this.#d.consumer.id)) this.#idleWait()
    while (breaker && !breaker.allow(this.#d.consumer.id) && !this.#stopping) {
      this.#d.metrics.set('heartbeatAt', now())
      await sleep(this.#config.pollIntervalMs)
    }
  }

  async #backoff(attempt: number): Promise<void> {
    this.#idleWait()
    await sleep(backoffDelayMs(attempt, effectiveRetry(this.#config))) // exponential backoff with full jitter
    this.#d.metrics.set('heartbeatAt', now())
  }

  async #process(records: readonly RingRecord[]): Promise<ProcessedBatch> {
    const { metrics, writerId } = this.#d
    this.#processedWith = this.#stages
    const out = await processEvents(records, {
      writerId,
      stages: this.#processedWith,
      enrichedAt: now(),
      firstOrder: metrics.nextOrder(records.length),
      onProgress: () => this.#busy(),
      ...(this.#stageMetrics ? { stageMetrics: this.#stageMetrics } : {}),
    })
    metrics.add('eventsProcessed', records.length)
    return out
  }
}
