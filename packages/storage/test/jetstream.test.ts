// The JetStream store against a real nats-server with JetStream: the write part of the EventStore
// contract, its options, the typed errors of the methods it does not offer, a server killed and
// restarted under a writer, and a three-node cluster with one node killed mid-run.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreError, StoreOpenError, StoreRecordError, StoreSpecError, type EventRecord } from '../src/index.js'
import { JETSTREAM_DEFAULTS, JetStreamStore, JetStreamUnsupportedError, resolveJetStreamOptions, type JetStreamStoreOptions } from '../src/jetstream/index.js'
import { RING_A, RING_B, record, run } from './fixtures/records.js'
import { startNatsCluster, startNatsServer, type NatsNode } from '../src/testing/nats-server.js'

let streamNo = 0
/** A fresh stream and subject per store, so every test starts empty on the shared server. */
const fresh = (servers: string | string[], extra: Partial<JetStreamStoreOptions> = {}): JetStreamStoreOptions => {
  streamNo++
  return { servers, stream: `RS_${process.pid}_${streamNo}`, subject: `ringside.t${streamNo}.events`, createStream: true, ...extra }
}

describe('resolveJetStreamOptions', () => {
  const base = { servers: 'nats://127.0.0.1:4222', stream: 'EVENTS', subject: 'ringside.events' }

  it('applies the defaults and derives the dead-letter subject', () => {
    expect(resolveJetStreamOptions({ kind: 'jetstream', ...base })).toEqual({
      ...JETSTREAM_DEFAULTS,
      servers: ['nats://127.0.0.1:4222'],
      stream: 'EVENTS',
      subject: 'ringside.events',
      subjectFilter: 'ringside.events',
      deadLetterSubject: 'ringside.events.dead',
    })
  })

  it('takes its own resolved options again (createStore hands them to open)', () => {
    const once = resolveJetStreamOptions({ ...base, subject: 'ringside.{tenant}' })
    expect(resolveJetStreamOptions(once as unknown as Record<string, unknown>)).toEqual(once)
  })

  it('takes a subject template, listens on its wildcard and derives a dead-letter subject outside it', () => {
    expect(resolveJetStreamOptions({ ...base, subject: 'ringside.{tenant}.events' })).toMatchObject({
      subject: 'ringside.{tenant}.events',
      subjectFilter: 'ringside.*.events',
      deadLetterSubject: 'ringside._.events.dead',
    })
  })

  it.each<[string, Record<string, unknown>]>([
    ['servers', { servers: [] }],
    ['servers', { servers: 42 }],
    ['stream', { stream: 'a.b' }],
    ['stream', { stream: '' }],
    ['subject', { subject: 'ringside.*' }],
    ['subject', { subject: 'a..b' }],
    ['deadLetterSubject', { deadLetterSubject: 'ringside.events' }],
    ['subject', { subject: 'ringside.x{tenant}' }],
    ['subjectFilter', { subject: 'ringside.{tenant}', subjectFilter: 'ringside.>' }],
    ['subject', { subject: 'ringside.{ten ant}' }],
    ['subject', { subject: 'ringside.{}' }],
    ['deadLetterSubject', { subject: 'ringside.{tenant}', deadLetterSubject: 'ringside.dead' }],
    ['replicas', { replicas: 6 }],
    ['duplicateWindowMs', { duplicateWindowMs: 10 }],
    ['storage', { storage: 'disk' }],
    ['ackTimeoutMs', { ackTimeoutMs: 0 }],
    ['createStream', { createStream: 'yes' }],
    ['colour', { colour: 'red' }],
  ])('refuses a bad %s, naming it', (field, patch) => {
    const err = (() => {
      try {
        return resolveJetStreamOptions({ ...base, ...patch })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(StoreSpecError)
    expect(err).toMatchObject({ code: 'invalid_spec', field })
  })
})

describe('JetStreamStore against one nats-server', () => {
  let server: Awaited<ReturnType<typeof startNatsServer>>
  let url: string
  beforeAll(async () => {
    server = await startNatsServer()
    url = server.node.url
  }, 300_000)
  afterAll(async () => {
    await server?.stop()
  })

  const withStore = async (fn: (s: JetStreamStore) => Promise<void>, extra: Partial<JetStreamStoreOptions> = {}): Promise<void> => {
    const store = await JetStreamStore.open(fresh(url, extra))
    try {
      await fn(store)
    } finally {
      await store.close()
    }
  }

  describe('open', () => {
    it('fails with a transient open_failed when no server answers', async () => {
      const err = await JetStreamStore.open({ servers: 'nats://127.0.0.1:1', stream: 'X', subject: 'x', connectTimeoutMs: 500 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StoreOpenError)
      expect(err).toMatchObject({ code: 'open_failed', transient: true })
    })

    it('fails with a permanent open_failed when the stream is missing and createStream is off', async () => {
      const err = await JetStreamStore.open({ ...fresh(url), createStream: false }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'open_failed', transient: false })
    })

    it('opens an existing stream without createStream, and updates it with createStream', async () => {
      const opts = fresh(url, { duplicateWindowMs: 60_000 })
      await (await JetStreamStore.open(opts)).close()
      const again = await JetStreamStore.open({ ...opts, createStream: false })
      expect(await again.storeEvents(run(RING_A, 0, 2))).toEqual({ inserted: 2, duplicates: 0 })
      await again.close()
      await (await JetStreamStore.open({ ...opts, duplicateWindowMs: 30_000 })).close()
    })
  })

  describe('storeEvents', () => {
    it('stores a new batch and counts every record as inserted', () =>
      withStore(async (s) => {
        expect(await s.storeEvents(run(RING_A, 0, 10))).toEqual({ inserted: 10, duplicates: 0 })
        expect((await s.stats()).totalEvents).toBe(10)
      }))

    it('stores a batch written twice only once (the message id is the key)', () =>
      withStore(async (s) => {
        const batch = run(RING_A, 0, 10)
        await s.storeEvents(batch)
        expect(await s.storeEvents(batch)).toEqual({ inserted: 0, duplicates: 10 })
        expect((await s.stats()).totalEvents).toBe(10)
      }))

    it('counts only the new records of an overlapping batch', () =>
      withStore(async (s) => {
        await s.storeEvents(run(RING_A, 0, 5))
        expect(await s.storeEvents(run(RING_A, 3, 5))).toEqual({ inserted: 3, duplicates: 2 })
        expect((await s.stats()).totalEvents).toBe(8)
      }))

    it('stores a key repeated inside one batch once, and the same seq of two rings twice', () =>
      withStore(async (s) => {
        const r = record(RING_A, 7, 5_000)
        expect(await s.storeEvents([r, r, record(RING_A, 8, 5_001)])).toEqual({ inserted: 2, duplicates: 1 })
        expect(await s.storeEvents([record(RING_A, 1, 1_000), record(RING_B, 1, 1_000)])).toEqual({ inserted: 2, duplicates: 0 })
      }))

    it('accepts an empty batch and stores nothing', () =>
      withStore(async (s) => {
        expect(await s.storeEvents([])).toEqual({ inserted: 0, duplicates: 0 })
        expect((await s.stats()).totalEvents).toBe(0)
      }))

    it('refuses a batch with a malformed record before publishing any of it', () =>
      withStore(async (s) => {
        const err = await s.storeEvents([record(RING_A, 1, 1_001), { ...record(RING_A, 2, 1_002), key: 'wrong' }]).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(StoreRecordError)
        expect(err).toMatchObject({ code: 'invalid_record', index: 1, field: 'key', transient: false })
        await expect(s.storeEvents([record(RING_A, 1, 1_000, { big: 10n })])).rejects.toMatchObject({ field: 'event' })
        expect((await s.stats()).totalEvents).toBe(0)
      }))

    it('resolves only after every ack of the batch: the stream holds all of it at once', () =>
      withStore(async (s) => {
        const t0 = performance.now()
        expect(await s.storeEvents(run(RING_A, 0, 2_000))).toEqual({ inserted: 2_000, duplicates: 0 })
        const ms = performance.now() - t0
        expect((await s.stats()).totalEvents).toBe(2_000)
        console.log(`jetstream: 2000-event batch acknowledged in ${ms.toFixed(0)} ms`)
      }))

    it('publishes the whole record as JSON, so a consumer needs only the message', () =>
      withStore(async (s) => {
        const r = record(RING_A, 3, 1_234.5, { nested: { a: [1, 'x', null] } })
        await s.storeEvents([r])
        const { jetstreamManager } = await import('@nats-io/jetstream')
        const { connect } = await import('@nats-io/transport-node')
        const nc = await connect({ servers: url })
        const msg = await (await jetstreamManager(nc)).streams.getMessage(s.options.stream, { seq: 1 })
        expect(msg?.json<EventRecord>()).toEqual(r)
        expect(msg?.header.get('Nats-Msg-Id')).toBe(r.key)
        await nc.close()
      }))
  })

  describe('stats', () => {
    it('reports an empty stream, then counts, size and sequences without capture times', () =>
      withStore(async (s) => {
        const empty = await s.stats()
        expect(empty).toMatchObject({ totalEvents: 0, deadLetters: 0, sizeBytes: 0, lastSeq: 0 })
        expect('oldestCapturedAt' in empty).toBe(false)
        await s.storeEvents([record(RING_A, 1, 2_000.25), record(RING_B, 1, 3_000.75)])
        await s.storeDeadLetters([{ record: record(RING_A, 9, 1), error: 'x', attempts: 1 }])
        const after = await s.stats()
        expect(after).toMatchObject({ totalEvents: 2, deadLetters: 1, firstSeq: 1, lastSeq: 3, streamMessages: 3 })
        expect(after.sizeBytes).toBeGreaterThan(0)
        expect('newestCapturedAt' in after).toBe(false)
      }))
  })

  describe('partitioned subjects', () => {
    /** Messages per subject of the store's stream. */
    const perSubject = async (s: JetStreamStore): Promise<Record<string, number>> => {
      const { jetstreamManager } = await import('@nats-io/jetstream')
      const { connect } = await import('@nats-io/transport-node')
      const nc = await connect({ servers: url })
      try {
        return (await (await jetstreamManager(nc)).streams.info(s.options.stream, { subjects_filter: '>' })).state.subjects ?? {}
      } finally {
        await nc.close()
      }
    }

    it("publishes each event on the subject its field names, sanitized, with '_' for a missing value", async () => {
      const base = `ringside.p${streamNo + 1}`
      await withStore(
        async (s) => {
          const batch = [
            record(RING_A, 0, 1, { tenant: 'acme' }),
            record(RING_A, 1, 2, { tenant: 'acme' }),
            record(RING_A, 2, 3, { tenant: 'globex.eu *>' }),
            record(RING_A, 3, 4, { tenant: 7 }),
            record(RING_A, 4, 5),
            record(RING_A, 5, 6, { tenant: '' }),
            record(RING_A, 6, 7, { tenant: { nested: true } }),
          ]
          expect(await s.storeEvents(batch)).toEqual({ inserted: 7, duplicates: 0 })
          // The key is the message id across the partitions: the same batch again is all duplicates.
          expect(await s.storeEvents(batch)).toEqual({ inserted: 0, duplicates: 7 })
          await s.storeDeadLetters([{ record: record(RING_A, 9, 1, { tenant: 'acme' }), error: 'x', attempts: 1 }])
          expect(await perSubject(s)).toEqual({
            [`${base}.acme.events`]: 2,
            [`${base}.globex_eu___.events`]: 1,
            [`${base}.7.events`]: 1,
            [`${base}._.events`]: 3,
            [`${base}._.events.dead`]: 1,
          })
          // stats counts events across every partition, dead letters apart.
          expect(await s.stats()).toMatchObject({ totalEvents: 7, deadLetters: 1 })
          expect((await s.listDeadLetters()).map((d) => d.record.key)).toEqual([`${RING_A}:9`])
        },
        { subject: `${base}.{tenant}.events` },
      )
    })

    it('opens through createStore, as a writer does, with a template subject', async () => {
      const { createStore } = await import('../src/index.js')
      const base = `ringside.p${streamNo + 1}`
      const store = await createStore({ kind: 'jetstream', ...fresh(url, { subject: `${base}.{tenant}` }) })
      try {
        expect(await store.storeEvents([record(RING_A, 0, 1, { tenant: 'a' })])).toEqual({ inserted: 1, duplicates: 0 })
        expect((await store.stats()).totalEvents).toBe(1)
      } finally {
        await store.close()
      }
    })

    it('opens an existing stream that listens on the wildcard, without createStream', async () => {
      const base = `ringside.p${streamNo + 1}`
      const spec = fresh(url, { subject: `${base}.{tenant}` })
      const first = await JetStreamStore.open(spec)
      const again = await JetStreamStore.open({ ...spec, createStream: false })
      try {
        expect(await again.storeEvents([record(RING_A, 0, 1, { tenant: 'a' }), record(RING_A, 1, 1, { tenant: 'b' })])).toEqual({ inserted: 2, duplicates: 0 })
        expect((await first.stats()).totalEvents).toBe(2)
      } finally {
        await again.close()
        await first.close()
      }
    })
  })

  describe('dead letters', () => {
    it('keeps an event with its error, attempts and reason, and lists it with a storedAt time', () =>
      withStore(async (s) => {
        const before = Date.now()
        const r = record(RING_A, 5, 1_500, { pid: '<0.5.0>' })
        expect(await s.storeDeadLetters([{ record: r, error: 'boom', attempts: 3, reason: 'retries_exhausted' }])).toEqual({ inserted: 1, duplicates: 0 })
        const [d, ...rest] = await s.listDeadLetters()
        expect(rest).toEqual([])
        expect(d).toMatchObject({ record: r, error: 'boom', attempts: 3, reason: 'retries_exhausted' })
        expect(d?.storedAt).toBeGreaterThanOrEqual(before - 1_000)
        expect(d?.storedAt).toBeLessThanOrEqual(Date.now() + 1_000)
        expect((await s.stats()).totalEvents).toBe(0)
      }))

    it('leaves reason out when none was given, and keeps a bigint body as text', () =>
      withStore(async (s) => {
        await s.storeDeadLetters([{ record: record(RING_A, 9, 1_900, { big: 10n }), error: 'not serializable', attempts: 1 }])
        const [d] = await s.listDeadLetters()
        expect('reason' in (d as object)).toBe(false)
        expect(d?.record.event.big).toBe('10n')
      }))

    it('is idempotent on the record key, lists oldest first and honours the limit', () =>
      withStore(async (s) => {
        const item = (seq: number, error: string) => ({ record: record(RING_A, seq, seq), error, attempts: 1 })
        await s.storeDeadLetters([item(1, 'a')])
        expect(await s.storeDeadLetters([item(1, 'a'), item(2, 'b')])).toEqual({ inserted: 1, duplicates: 1 })
        await s.storeDeadLetters([item(3, 'c')])
        expect((await s.listDeadLetters()).map((d) => d.error)).toEqual(['a', 'b', 'c'])
        expect((await s.listDeadLetters({ limit: 2 })).map((d) => d.error)).toEqual(['a', 'b'])
        expect(await s.listDeadLetters({ limit: 0 })).toEqual([])
      }))

    it('refuses a malformed dead letter or limit, naming its field', () =>
      withStore(async (s) => {
        const good = { record: record(RING_A, 1, 1), error: 'x', attempts: 1 }
        await expect(s.storeDeadLetters([good, { ...good, attempts: -1 }])).rejects.toMatchObject({ code: 'invalid_record', index: 1, field: 'attempts' })
        await expect(s.listDeadLetters({ limit: 'all' } as never)).rejects.toMatchObject({ code: 'invalid_filter', field: 'limit' })
        expect(await s.listDeadLetters()).toEqual([])
      }))
  })

  describe('methods a stream does not offer', () => {
    it.each([
      ['query', (s: JetStreamStore) => s.query({})],
      ['getEvent', (s: JetStreamStore) => s.getEvent(`${RING_A}:0`)],
      ['deleteOlderThan', (s: JetStreamStore) => s.deleteOlderThan(0)],
    ])('%s fails with a permanent typed error naming the method', (method, call) =>
      withStore(async (s) => {
        const err = await call(s).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(JetStreamUnsupportedError)
        expect(err).toMatchObject({ code: 'not_supported', method, transient: false })
      }))
  })

  describe('close', () => {
    it('makes later calls fail with store_closed, and closing twice is harmless', async () => {
      const s = await JetStreamStore.open(fresh(url))
      await s.close()
      await s.close()
      const err = await s.storeEvents(run(RING_A, 0, 1)).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StoreError)
      expect(err).toMatchObject({ code: 'store_closed', transient: false })
      await expect(s.query()).rejects.toMatchObject({ code: 'store_closed' })
      await expect(s.stats()).rejects.toMatchObject({ code: 'store_closed' })
    })
  })

  describe('a server killed mid-run', () => {
    it('fails the batch with a transient error, and a retry after restart stores exactly the missing events', async () => {
      const s = await JetStreamStore.open(fresh(url, { ackTimeoutMs: 1_000 }))
      try {
        const first = run(RING_A, 0, 100)
        const second = run(RING_A, 100, 100)
        await s.storeEvents(first)
        await server.node.kill()
        const err = await s.storeEvents(second).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(StoreError)
        expect(err).toMatchObject({ code: 'io_error', transient: true })
        await server.node.start()
        const retried = await retryTransient(() => s.storeEvents([...first, ...second]))
        console.log(`jetstream restart: retry inserted=${retried.inserted} duplicates=${retried.duplicates}`)
        // The first batch survived the crash (file storage) and its ids are still in the window.
        expect(retried.inserted + retried.duplicates).toBe(200)
        expect(retried.duplicates).toBeGreaterThanOrEqual(100)
        expect((await s.stats()).totalEvents).toBe(200)
      } finally {
        await s.close()
      }
    })
  })
})

/** Retries a call while it fails with a transient StoreError, as a writer would (bounded). */
async function retryTransient<T>(fn: () => Promise<T>, attempts = 40): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (e) {
      if (!(e instanceof StoreError) || !e.transient || i >= attempts) throw e
      await new Promise((r) => setTimeout(r, 250))
    }
  }
}

describe('JetStreamStore on a three-node cluster', () => {
  let cluster: Awaited<ReturnType<typeof startNatsCluster>>
  beforeAll(async () => {
    cluster = await startNatsCluster(3)
  }, 300_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  it('keeps every accepted event exactly once while one node is killed and restarted', async () => {
    // The cluster needs a meta leader before a replicated stream can be created.
    const opts = fresh(cluster.urls, { replicas: 3, ackTimeoutMs: 2_000, connectTimeoutMs: 5_000 })
    const s = await retryOpen(() => JetStreamStore.open(opts))
    // Kill the stream's leader, the node whose loss forces an election under the writer.
    const leader = await streamLeader(cluster.urls, opts.stream)
    const victim = cluster.nodes.find((n) => n.name === leader) ?? (cluster.nodes[1] as NatsNode)
    let transientFailures = 0
    let inserted = 0
    let duplicates = 0
    const healthSeen: string[] = []
    try {
      expect(await s.health()).toMatchObject({ status: 'healthy', reason: expect.stringMatching(/3 of 3 replicas current/) })
      const batches = 40
      for (let b = 0; b < batches; b++) {
        if (b === 20) healthSeen.push(JSON.stringify(await s.health()))
        if (b === 25) await victim.start()
        const batch = run(RING_A, b * 50, 50)
        // Killed while this batch's publishes are in flight, not between batches.
        const killing = b === 10 ? victim.kill() : Promise.resolve()
        // A writer retries the whole batch on a transient error; the ids make that idempotent.
        for (let attempt = 1; ; attempt++) {
          try {
            const r = await s.storeEvents(batch)
            inserted += r.inserted
            duplicates += r.duplicates
            break
          } catch (e) {
            if (!(e instanceof StoreError) || !e.transient || attempt >= 60) throw e
            transientFailures++
            await new Promise((r) => setTimeout(r, 250))
          }
        }
        await killing
      }
      const stats = await s.stats()
      console.log(`jetstream cluster: killed leader ${victim.name}; inserted=${inserted} duplicates=${duplicates} transientFailures=${transientFailures} stream=${stats.totalEvents}`)
      expect(stats.totalEvents).toBe(batches * 50)
      // While the node was down the store said so; once it is back and caught up, healthy again.
      console.log(`jetstream cluster: health while ${victim.name} was down: ${healthSeen.join('; ')}`)
      expect(healthSeen[0]).not.toMatch(/"status":"healthy"/)
      for (let i = 0; (await s.health()).status !== 'healthy'; i++) {
        if (i > 150) throw new Error(`still ${JSON.stringify(await s.health())} 30 s after ${victim.name} restarted`)
        await new Promise((r) => setTimeout(r, 200))
      }
      // Every batch was acknowledged, so each key is in the stream; the count rules out copies.
      expect(inserted).toBeLessThanOrEqual(batches * 50)
    } finally {
      await s.close()
    }
  })
})

async function retryOpen(fn: () => Promise<JetStreamStore>): Promise<JetStreamStore> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (e) {
      if (i >= 40) throw e
      await new Promise((r) => setTimeout(r, 500))
    }
  }
}

/** Name of the server leading a stream's replica group. */
async function streamLeader(urls: string[], stream: string): Promise<string | undefined> {
  const { jetstreamManager } = await import('@nats-io/jetstream')
  const { connect } = await import('@nats-io/transport-node')
  const nc = await connect({ servers: urls })
  try {
    return (await (await jetstreamManager(nc)).streams.info(stream)).cluster?.leader
  } finally {
    await nc.close()
  }
}
