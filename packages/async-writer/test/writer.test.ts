import { afterEach, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { MemoryStore, type EventStore } from '@ringside/storage'
import { FaultyStoreControl, createFaultyStore } from '@ringside/storage/testing'
import { AsyncWriter, StoreLock, WRITER_DEFAULTS, WriterMetrics, createMetricsBuffer, createStoreLockBuffer, loadStages, readStoreLock, readWriterMetrics, type Stage } from '../src/protocol.js'

// The writer actor in this thread, against a real ring and a real memory store.

const until = async (cond: () => boolean | Promise<boolean>, ms = 5_000) => {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

let running: AsyncWriter[] = []
afterEach(async () => {
  await Promise.all(running.map((w) => w.stop()))
  running = []
})

function setup(opts: { store?: EventStore; stages?: Stage[]; config?: Partial<typeof WRITER_DEFAULTS>; size?: number; storeLock?: StoreLock } = {}) {
  const ring = RingBuffer.create({ size: opts.size ?? 4096 })
  const store = opts.store ?? new MemoryStore()
  const buffer = createMetricsBuffer(1)
  const writer = new AsyncWriter({
    writerId: 'writer-1',
    consumer: ring.consumer(0),
    store,
    stages: opts.stages ?? [],
    metrics: new WriterMetrics(buffer, 0),
    config: { ...WRITER_DEFAULTS, lingerMs: 5, pollIntervalMs: 5, ...opts.config },
    ...(opts.storeLock ? { storeLock: opts.storeLock } : {}),
  })
  running.push(writer)
  void writer.start()
  return { ring, store, writer, metrics: () => readWriterMetrics(buffer, 0) }
}

describe('AsyncWriter', () => {
  it('reads and stores batches of at most batchSize, then commits them', async () => {
    const { ring, store, metrics } = setup({ config: { batchSize: 500 } })
    for (let n = 0; n < 1200; n++) ring.write({ type: 'call', n })
    await until(async () => (await store.stats()).totalEvents === 1200)
    await until(() => ring.stats().totalCommitted === 1200)
    const m = metrics()
    expect(m).toMatchObject({ eventsRead: 1200, eventsProcessed: 1200, eventsStored: 1200, duplicates: 0, errors: 0 })
    expect(m.batches).toBeGreaterThanOrEqual(3)
    expect(ring.stats()).toMatchObject({ ready: 0, claimed: 0 })
  })

  it('writes a partial batch after the linger time', async () => {
    const { ring, store } = setup({ config: { batchSize: 1000, lingerMs: 30 } })
    ring.write({ type: 'call' })
    await until(async () => (await store.stats()).totalEvents === 1, 2_000)
  })

  it('enriches: keeps every field, adds writerId, enrichedAt, processingOrder, and a correlation id only when missing', async () => {
    const { ring, store } = setup()
    const before = Date.now()
    ring.write({ type: 'call', pid: '<0.1.0>', data: { deep: [1, 2] } })
    ring.write({ type: 'call', correlationId: 'mine' })
    await until(async () => (await store.stats()).totalEvents === 2)
    const [a, b] = await store.query({ order: 'asc' })
    expect(a!.event).toMatchObject({ type: 'call', pid: '<0.1.0>', data: { deep: [1, 2] }, writerId: 'writer-1', correlationId: a!.key })
    expect(a!.event.enrichedAt as number).toBeGreaterThanOrEqual(before - 1)
    expect(b!.event.correlationId).toBe('mine')
    expect(b!.event.processingOrder).toBe((a!.event.processingOrder as number) + 1)
  })

  it('is fine on an empty ring', async () => {
    const { store, metrics } = setup()
    await new Promise((r) => setTimeout(r, 50))
    expect((await store.stats()).totalEvents).toBe(0)
    expect(metrics()).toMatchObject({ eventsRead: 0, errors: 0, batches: 0 })
    expect(metrics().heartbeatAt).toBeGreaterThan(0)
  })

  it('counts store errors, keeps the claim uncommitted while failing, and stores it once the store recovers', async () => {
    const inner = new MemoryStore()
    let failures = 3
    const flaky: EventStore = Object.assign(Object.create(inner) as EventStore, {
      storeEvents: (batch: Parameters<EventStore['storeEvents']>[0]) => {
        if (failures > 0) {
          failures--
          return Promise.reject(new Error('disk on fire'))
        }
        return inner.storeEvents(batch)
      },
    })
    const { ring, metrics } = setup({ store: flaky, config: { retryBaseMs: 20, retryMaxMs: 40 } })
    for (let n = 0; n < 10; n++) ring.write({ type: 'call', n })
    await until(() => metrics().errors >= 1)
    expect(ring.stats().totalCommitted).toBe(0)
    expect(ring.stats().claimed).toBe(10)
    await until(async () => (await inner.stats()).totalEvents === 10)
    await until(() => ring.stats().totalCommitted === 10)
    expect(metrics().errors).toBe(3)
  })

  it('sends events that fail validation to dead letters and stores the rest of the batch', async () => {
    const { ring, store, metrics } = setup()
    ring.write({ type: 'call', n: 1 })
    ring.write({ n: 2 })
    ring.write({ type: 'call', arity: 'three' })
    ring.write({ type: 'call', n: 4 })
    await until(() => ring.stats().totalCommitted === 4)
    expect((await store.stats()).totalEvents).toBe(2)
    const dead = await store.listDeadLetters()
    expect(dead.map((d) => [d.record.event.n ?? d.record.event.arity, d.reason])).toEqual([
      [2, 'invalid_event'],
      ['three', 'invalid_event'],
    ])
    expect(metrics()).toMatchObject({ invalid: 2, eventsStored: 2 })
  })

  it('runs user stages in order; a stage may change or drop an event (counted as filtered)', async () => {
    const stages = await loadStages([{ target: new URL('./fixtures/tag-stage.ts', import.meta.url).href, options: { tag: 'seen' } }])
    const { ring, store, metrics } = setup({ stages })
    ring.write({ type: 'call', n: 1 })
    ring.write({ type: 'call', n: 2, drop: true })
    await until(() => ring.stats().totalCommitted === 2)
    const rows = await store.query({})
    expect(rows.map((r) => [r.event.n, r.event.tag])).toEqual([[1, 'seen']])
    expect(metrics().filtered).toBe(1)
  })

  it('drain resolves once nothing is left; stop finishes and commits the batch in hand', async () => {
    const { ring, store, writer } = setup({ config: { batchSize: 100 } })
    for (let n = 0; n < 1000; n++) ring.write({ type: 'call', n })
    await writer.drain()
    expect(ring.stats()).toMatchObject({ ready: 0, claimed: 0, totalCommitted: 1000 })
    expect((await store.stats()).totalEvents).toBe(1000)
    await writer.stop()
  })
})

describe('AsyncWriter store faults', () => {
  it('splits a batch that fails permanently until the poison events are isolated; the rest is stored', async () => {
    const control = new FaultyStoreControl()
    control.rejectPoison = true
    const store = await createFaultyStore({ inner: { kind: 'memory' }, control: control.buffer })
    const { ring, metrics } = setup({ store, config: { batchSize: 100, lingerMs: 50, retryBaseMs: 1, retryMaxMs: 2 } })
    const poison = new Set([7, 42, 43, 99])
    for (let n = 0; n < 100; n++) ring.write({ type: 'call', n, ...(poison.has(n) ? { poison: true } : {}) })
    await until(() => ring.stats().totalCommitted === 100)
    expect((await store.stats()).totalEvents).toBe(96)
    const dead = await store.listDeadLetters()
    expect(dead.map((d) => d.record.event.n).sort((a, b) => (a as number) - (b as number))).toEqual([7, 42, 43, 99])
    for (const d of dead) {
      expect(d.reason).toBe('permanent_error')
      expect(d.attempts).toBeGreaterThanOrEqual(2)
      expect(d.error).toMatch(/is poison/)
    }
    expect(metrics()).toMatchObject({ poisoned: 4, eventsStored: 96 })
  })

  it('retries transient errors without committing, and stores everything once the store is back', async () => {
    const control = new FaultyStoreControl()
    control.mode = 'offline'
    const store = await createFaultyStore({ inner: { kind: 'memory' }, control: control.buffer })
    const { ring, metrics } = setup({ store, config: { retryBaseMs: 5, retryMaxMs: 10 } })
    for (let n = 0; n < 50; n++) ring.write({ type: 'call', n })
    await until(() => metrics().errors >= 5)
    expect(ring.stats().totalCommitted).toBe(0)
    control.heal()
    await until(() => ring.stats().totalCommitted === 50)
    expect((await store.stats()).totalEvents).toBe(50)
    expect(await store.listDeadLetters()).toEqual([])
  })
})

describe('loadStages', () => {
  it('names the stage that cannot be loaded', async () => {
    await expect(loadStages([{ target: '/nope/missing-stage.js' }])).rejects.toThrow(/stages\[0\].*cannot load/)
  })
})

describe('AsyncWriter.swapStages', () => {
  it('runs the next batch through the new list, and finishes an event put off under the old list with the old list', async () => {
    const { retryLater } = await import('../src/index.js')
    let once = true
    const oldList: Stage[] = [{ name: 'old', process: (e) => (e.wait && once ? ((once = false), retryLater({ delayMs: 100 })) : { ...e, by: 'old' }) }]
    const newList: Stage[] = [{ name: 'new', process: (e) => ({ ...e, by: 'new' }) }]
    const { ring, store, writer, metrics } = setup({ stages: oldList })
    ring.write({ type: 'call', wait: true })
    await until(() => metrics().deferred === 1)
    writer.swapStages(newList)
    ring.write({ type: 'call', n: 2 })
    await until(async () => (await store.stats()).totalEvents === 2)
    const events = await store.query({ limit: 10 })
    expect(events.map((e) => [e.event.wait ?? false, e.event.by]).sort()).toEqual([[false, 'new'], [true, 'old']])
    expect(metrics()).toMatchObject({ deferred: 0, retriedLater: 1, eventsStored: 2 })
    expect(ring.stats()).toMatchObject({ ready: 0, claimed: 0 })
  })
})

describe('AsyncWriter and store.checkpoint', () => {
  /** A memory store with a checkpoint that notes, each time, what the writer held then. */
  function checkpointingStore(lockBuffer: SharedArrayBuffer, ring: () => RingBuffer, fail = false) {
    const seen: { claimed: number; lockOwner: number; stored: number }[] = []
    const inner = new MemoryStore()
    const store: EventStore = {
      storeEvents: (b) => inner.storeEvents(b),
      getEvent: (k) => inner.getEvent(k),
      query: (f) => inner.query(f),
      stats: () => inner.stats(),
      deleteOlderThan: (t) => inner.deleteOlderThan(t),
      storeDeadLetters: (d) => inner.storeDeadLetters(d),
      listDeadLetters: (o) => inner.listDeadLetters(o),
      close: () => inner.close(),
      async checkpoint() {
        seen.push({ claimed: ring().stats().claimed, lockOwner: readStoreLock(lockBuffer).owner, stored: (await inner.stats()).totalEvents })
        if (fail) throw new Error('checkpoint failed')
        return { walPages: 0, copiedPages: 0 }
      },
    }
    return { store, seen }
  }

  it('checkpoints after each batch, once it is committed to the ring and the store lock is free', async () => {
    const lockBuffer = createStoreLockBuffer()
    let ringRef: RingBuffer | undefined
    const { store, seen } = checkpointingStore(lockBuffer, () => ringRef!)
    const { ring, metrics } = setup({ store, storeLock: new StoreLock(lockBuffer, 7), config: { batchSize: 100 } })
    ringRef = ring
    for (let n = 0; n < 300; n++) ring.write({ type: 'call', n })
    await until(() => ring.stats().totalCommitted === 300)
    await until(() => seen.length >= metrics().batches)
    expect(seen.length).toBeGreaterThanOrEqual(3)
    for (const s of seen) expect(s).toMatchObject({ claimed: 0, lockOwner: 0 })
    // Each call came after its batch was stored: the store held more events each time.
    expect(seen.map((s) => s.stored)).toEqual([...seen.map((s) => s.stored)].sort((a, b) => a - b))
    expect(seen.at(-1)!.stored).toBe(300)
  })

  it('counts a failed checkpoint as an error and loses no batch for it', async () => {
    const lockBuffer = createStoreLockBuffer()
    let ringRef: RingBuffer | undefined
    const { store, seen } = checkpointingStore(lockBuffer, () => ringRef!, true)
    const { ring, metrics } = setup({ store, storeLock: new StoreLock(lockBuffer, 7), config: { batchSize: 100 } })
    ringRef = ring
    for (let n = 0; n < 250; n++) ring.write({ type: 'call', n })
    await until(() => ring.stats().totalCommitted === 250)
    await until(() => seen.length >= 3)
    expect((await store.stats()).totalEvents).toBe(250)
    expect(metrics()).toMatchObject({ eventsStored: 250, poisoned: 0 })
    expect(metrics().errors).toBeGreaterThanOrEqual(3)
  })
})
