// Retention of the JetStream store against a real nats-server: the `retention` option becomes the
// stream's own max_age / max_msgs / max_bytes when the store creates or updates the stream, and
// the server then discards the oldest messages past them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreSpecError } from '../src/index.js'
import { JetStreamStore, resolveJetStreamOptions, type JetStreamStoreOptions } from '../src/jetstream/index.js'
import { startNatsServer } from '../src/testing/nats-server.js'
import { RING_A, run } from './fixtures/records.js'

let streamNo = 0
const fresh = (servers: string, extra: Partial<JetStreamStoreOptions> = {}): JetStreamStoreOptions => {
  streamNo++
  return { servers, stream: `RR_${process.pid}_${streamNo}`, subject: `ringside.r${streamNo}.events`, createStream: true, ...extra }
}

async function streamConfig(url: string, stream: string): Promise<{ max_age: number; max_msgs: number; max_bytes: number; messages: number }> {
  const { connect } = await import('@nats-io/transport-node')
  const { jetstreamManager } = await import('@nats-io/jetstream')
  const nc = await connect({ servers: url })
  try {
    const info = await (await jetstreamManager(nc)).streams.info(stream)
    return { max_age: info.config.max_age, max_msgs: info.config.max_msgs, max_bytes: info.config.max_bytes, messages: info.state.messages }
  } finally {
    await nc.close()
  }
}

describe('jetstream retention option', () => {
  const base = { servers: 'nats://127.0.0.1:4222', stream: 'EVENTS', subject: 'ringside.events', createStream: true }
  it.each<[string, Record<string, unknown>]>([
    ['retention.maxDeadLetters', { retention: { maxDeadLetters: 10 } }],
    ['retention.maxEvents', { retention: { maxEvents: -1 } }],
    ['retention', { retention: { maxEvents: 10 }, createStream: false }],
  ])('refuses %s, naming it', (field, patch) => {
    let err: unknown
    try {
      resolveJetStreamOptions({ ...base, ...patch })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(StoreSpecError)
    expect(err).toMatchObject({ code: 'invalid_spec', field })
  })
})

describe('JetStreamStore with retention', () => {
  let server: Awaited<ReturnType<typeof startNatsServer>>
  let url: string
  beforeAll(async () => {
    server = await startNatsServer()
    url = server.node.url
  }, 300_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('sets max_age, max_msgs and max_bytes on a stream it creates', async () => {
    const opts = fresh(url, { retention: { maxAgeMs: 3_600_000, maxEvents: 50, maxBytes: 1 << 20 } })
    const store = await JetStreamStore.open(opts)
    await store.close()
    expect(await streamConfig(url, opts.stream)).toMatchObject({ max_age: 3_600_000 * 1_000_000, max_msgs: 50, max_bytes: 1 << 20 })
  })

  it('adds the limits to an existing stream and leaves limits it was not given as they were', async () => {
    const opts = fresh(url)
    await (await JetStreamStore.open(opts)).close()
    expect(await streamConfig(url, opts.stream)).toMatchObject({ max_age: 0, max_msgs: -1, max_bytes: -1 })
    await (await JetStreamStore.open({ ...opts, retention: { maxEvents: 20 } })).close()
    expect(await streamConfig(url, opts.stream)).toMatchObject({ max_age: 0, max_msgs: 20, max_bytes: -1 })
  })

  it('keeps only the newest maxEvents messages once more are published', async () => {
    const opts = fresh(url, { retention: { maxEvents: 30 } })
    const store = await JetStreamStore.open(opts)
    try {
      await store.storeEvents(run(RING_A, 0, 100))
      expect(await streamConfig(url, opts.stream)).toMatchObject({ messages: 30 })
      expect(await store.stats()).toMatchObject({ totalEvents: 30, firstSeq: 71, lastSeq: 100 })
    } finally {
      await store.close()
    }
  })
})
