// Entry of a writer thread: opens the store, loads the stages, announces `ready` only then (a
// failure before that is a start failure for the caller, not a crash to restart), exposes the
// control API over comlink, and runs the AsyncWriter loop until asked to stop.

import { getHeapStatistics } from 'node:v8'
import { parentPort, threadId, workerData } from 'node:worker_threads'
import { PRIORITIES, PriorityRing, RingBuffer, type PriorityRingHandle, type RingHandle, type RingRecord } from '@ringside/core-ringbuffer'
import { connectStore, createStore, type EventStore } from '@ringside/storage'
import { Comlink, nodeEndpoint } from './comlink.js'
import { WriterError, serializeError } from './errors.js'
import { QUARANTINE_REPORT_MAX, type PortStoreSpec, type WriterApi, type WriterInit, type WriterMessage } from './messages.js'
import { SharedBreaker } from './circuit-breaker.js'
import { readWriterMetrics, WriterMetrics } from './metrics.js'
import { loadStages, stageName, type Stage } from './stages.js'
import { stageTargets } from './stage-specs.js'
import { StageMetrics } from './stage-metrics.js'
import { loaderForTargets } from './ts-loader.js'
import { ClaimVerdicts } from './verdicts.js'
import { StoreLock } from './store-lock.js'
import { AsyncWriter } from './writer.js'

const init = workerData as WriterInit
const post = (m: WriterMessage) => parentPort!.postMessage(m)

// A store whose server is briefly out of reach (a cluster electing a leader, a fleet creating its
// stream at once) fails to open with a transient error: try again for a while before giving up,
// so one slow moment does not fail the whole start or spend a restart of the budget.
const OPEN_RETRY_FOR_MS = 30_000

async function openWithRetries(spec: unknown): Promise<EventStore> {
  const until = Date.now() + OPEN_RETRY_FOR_MS
  for (let attempt = 0; ; attempt++) {
    try {
      return await createStore(spec as never)
    } catch (err) {
      const transient = (err as { transient?: unknown } | null)?.transient === true
      if (!transient || Date.now() >= until) throw err
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2)))
    }
  }
}

async function open(): Promise<{ store: EventStore; writer: AsyncWriter; metrics: WriterMetrics; stageNames: string[] }> {
  await loaderForTargets([...stageTargets(init.stages), (init.store as { target?: string }).target ?? ''])
  const metrics = new WriterMetrics(init.metrics.buffer, init.metrics.slot)
  metrics.setState('starting')
  // The row outlives its writers: clear what a predecessor was doing when it died.
  for (const f of ['heldEvents', 'heldSince', 'busySince', 'isolating', 'deferred'] as const) metrics.set(f, 0)
  for (const f of ['heldFirstSeq', 'heldLastSeq', 'currentSeq'] as const) metrics.set(f, -1)
  const spec = init.store
  const store = (spec as PortStoreSpec).kind === 'port' ? connectStore((spec as PortStoreSpec).port) : await openWithRetries(spec).catch((cause: unknown) => {
    throw new WriterError('store_open_failed', `${init.writerId}: cannot open the store: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  })
  const stages = await loadStages(init.stages)
  const consumerOptions = init.abandonAfterMs === undefined ? {} : { abandonAfterMs: init.abandonAfterMs }
  // A priority ring: one consumer id on its three sub-rings, claiming high first; its sub-rings
  // number events each on their own, so the verdicts know a record by seq and priority together.
  const prioritized = init.ring.kind === 'ringside.priority-ring' ? PriorityRing.attach(init.ring as PriorityRingHandle).consumer(init.consumerId, consumerOptions) : undefined
  const consumer = prioritized ?? RingBuffer.attach(init.ring as RingHandle).consumer(init.consumerId, consumerOptions)
  const ranks = new Map(PRIORITIES.map((p, rank) => [prioritized?.consumers[p].ringId, rank]))
  const rank = (r: RingRecord) => ranks.get(r.ringId) ?? 0
  const writer = new AsyncWriter({
    writerId: init.writerId,
    consumer,
    ...(prioritized ? { verdictSeq: (r: RingRecord) => r.seq * 4 + rank(r) } : {}),
    store,
    stages,
    metrics,
    config: init.config,
    // Slot 0 lives as long as the pool has a writer (shrinking retires the highest slots).
    runsRetention: init.consumerId === 0,
    ...(init.breaker ? { breaker: new SharedBreaker(init.breaker) } : {}),
    ...(init.verdicts ? { verdicts: new ClaimVerdicts(init.verdicts) } : {}),
    // Owned by this thread's id: the pool frees the lock of a thread that died holding it.
    ...(init.storeLock ? { storeLock: new StoreLock(init.storeLock, threadId) } : {}),
    ...(init.stageMetrics && stages.length > 0 ? { stageMetrics: new StageMetrics(init.stageMetrics, init.metrics.slot, stages.length) } : {}),
    onQuarantine: (items) => {
      const head = items.slice(0, QUARANTINE_REPORT_MAX).map((d) => ({
        key: d.record.key,
        type: typeof d.record.event.type === 'string' ? d.record.event.type : undefined,
        reason: d.reason ?? 'unknown',
        error: d.error.slice(0, 500),
      }))
      post({ kind: 'quarantined', writerId: init.writerId, items: head, more: items.length - head.length })
    },
    onBatch: (report) => {
      if (writer.config.logBatches) post({ kind: 'batch', writerId: init.writerId, report })
    },
  })
  return { store, writer, metrics, stageNames: stages.map(stageName) }
}

let opened: Awaited<ReturnType<typeof open>>
try {
  opened = await open()
} catch (err) {
  post({ kind: 'start_failed', writerId: init.writerId, error: serializeError(err) })
  process.exit(1)
}
const { store, writer, metrics, stageNames } = opened

// Beats while the event loop turns; a stuck loop (an infinite loop holding a claim) stops it.
const beat = setInterval(() => metrics.set('heartbeatAt', performance.timeOrigin + performance.now()), 100)

let prepared: { stages: Stage[]; stageMetrics: SharedArrayBuffer | undefined } | undefined
const api: WriterApi = {
  configure: (patch) => writer.configure(patch),
  drain: () => writer.drain(),
  async stop() {
    await writer.stop()
    clearInterval(beat)
    await store.close()
    post({ kind: 'stopped', writerId: init.writerId })
    // Exit once this reply is on its way.
    setImmediate(() => process.exit(0))
  },
  setFault: (fault) => writer.setFault(fault),
  activate: () => run(),
  // A live swap in two steps, so no writer switches unless every writer could load the new list.
  async prepareStages(specs, stageMetrics) {
    await loaderForTargets(stageTargets(specs))
    const stages = await loadStages(specs)
    prepared = { stages, stageMetrics }
    return stages.map(stageName)
  },
  commitStages() {
    if (!prepared) return false
    const { stages, stageMetrics } = prepared
    prepared = undefined
    writer.swapStages(stages, stageMetrics && stages.length > 0 ? new StageMetrics(stageMetrics, init.metrics.slot, stages.length) : undefined)
    return true
  },
  discardStages() {
    prepared = undefined
  },
  introspect: () => ({
    writerId: init.writerId,
    consumerId: init.consumerId,
    config: writer.config,
    metrics: readWriterMetrics(init.metrics.buffer, init.metrics.slot),
    heap: { usedBytes: getHeapStatistics().used_heap_size, totalBytes: getHeapStatistics().total_heap_size },
  }),
}
let started = false
function run(): void {
  if (started) return
  started = true
  writer.start().catch((err: unknown) => {
    // Anything but a store error is a bug: crash the thread and let the supervisor restart it.
    setImmediate(() => {
      throw err
    })
  })
}

Comlink.expose(api, nodeEndpoint(init.control))
post({ kind: 'ready', writerId: init.writerId, stageNames })
// A spare waits, store open and stages loaded, until the pool hands it a dead writer's claims.
if (init.spare !== true) run()
