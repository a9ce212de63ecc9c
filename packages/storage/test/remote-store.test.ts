// The remote pair: the contract suite through a MessageChannel in one thread, then real writer
// threads sharing one MemoryStore held by this thread, typed errors across the port, time limits.

import { MessageChannel } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import {
  MemoryStore,
  RemoteStoreTimeoutError,
  StoreRecordError,
  StoreSpecError,
  connectStore,
  serveStore,
  type EventRecord,
} from '../src/index.js'
import { runStoreContract } from './contract.js'
import { RING_A, ringIdOf, run } from './fixtures/records.js'
import { runWorker } from './fixtures/workers.js'

// The client's close() only detaches, so the served store is closed with it here to keep each
// contract test's store fresh and leak-free.
runStoreContract('remote (memory served over a MessagePort)', async () => {
  const { port1, port2 } = new MessageChannel()
  const owned = new MemoryStore()
  const served = serveStore(owned, port1)
  const client = connectStore(port2, { timeoutMs: 5_000 })
  const close = client.close.bind(client)
  client.close = async () => {
    await close()
    served.close()
    await owned.close()
  }
  return client
})

describe('serveStore and connectStore across worker threads', () => {
  it('lets three writer threads hand overlapping batches to one MemoryStore held by this thread', async () => {
    const store = new MemoryStore()
    const ring = ringIdOf('ee')
    const batches: EventRecord[][] = Array.from({ length: 30 }, (_, b) => run(ring, b * 20, 20))
    const served: { close(): void }[] = []
    const runs = [0, 1, 2].map((t) => {
      const { port1, port2 } = new MessageChannel()
      served.push(serveStore(store, port1))
      const mine = batches.filter((_, b) => b % 3 === t || b % 3 === (t + 1) % 3)
      return runWorker<{ inserted: number; duplicates: number }>('remote-writer', { port: port2, batches: mine }, [port2])
    })
    const results = (await Promise.all(runs)).flat()
    expect(results.reduce((a, r) => a + r.inserted, 0)).toBe(600)
    expect(results.reduce((a, r) => a + r.duplicates, 0)).toBe(600)
    expect((await store.stats()).totalEvents).toBe(600)
    expect((await store.query()).map((r) => r.seq)).toEqual(Array.from({ length: 600 }, (_, i) => i))
    for (const s of served) s.close()
    await store.close()
  })

  it('re-throws a store error in the writer thread with its class, code, index and field', async () => {
    const store = new MemoryStore()
    const { port1, port2 } = new MessageChannel()
    const served = serveStore(store, port1)
    const [result] = await runWorker<{ error: unknown }>('remote-writer', { port: port2, batches: [run(RING_A, 0, 2)], bad: true }, [port2])
    expect(result?.error).toEqual({ name: 'StoreRecordError', code: 'invalid_record', index: 0, field: 'key' })
    expect((await store.stats()).totalEvents).toBe(2)
    served.close()
    await store.close()
  })
})

describe('RemoteStore', () => {
  it('fails a call that gets no reply with RemoteStoreTimeoutError naming the limit', async () => {
    const { port1, port2 } = new MessageChannel()
    const client = connectStore(port2, { timeoutMs: 50 })
    const err = await client.stats().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteStoreTimeoutError)
    expect(err).toMatchObject({ code: 'remote_timeout', transient: true, method: 'stats', timeoutMs: 50 })
    expect((err as Error).message).toContain('timeoutMs=50')
    await client.close()
    port1.close()
  })

  it('ignores a reply that arrives after its call timed out', async () => {
    const { port1, port2 } = new MessageChannel()
    const store = new MemoryStore()
    const client = connectStore(port2, { timeoutMs: 30 })
    await expect(client.stats()).rejects.toBeInstanceOf(RemoteStoreTimeoutError)
    const served = serveStore(store, port1)
    expect(await client.stats()).toMatchObject({ totalEvents: 0 })
    await client.close()
    served.close()
    await store.close()
  })

  it('fails calls in flight and later calls with remote_closed when the server closes the port', async () => {
    const { port1, port2 } = new MessageChannel()
    const client = connectStore(port2, { timeoutMs: 5_000 })
    const pending = client.stats()
    port1.close()
    await expect(pending).rejects.toMatchObject({ code: 'remote_closed', transient: false })
    await expect(client.query()).rejects.toMatchObject({ code: 'remote_closed' })
  })

  it('detaches on close and leaves the served store open for its owner and other clients', async () => {
    const store = new MemoryStore()
    const a = new MessageChannel()
    const b = new MessageChannel()
    serveStore(store, a.port1)
    const servedB = serveStore(store, b.port1)
    const clientA = connectStore(a.port2)
    const clientB = connectStore(b.port2)
    await clientA.storeEvents(run(RING_A, 0, 3))
    await clientA.close()
    await expect(clientA.stats()).rejects.toMatchObject({ code: 'store_closed' })
    expect((await clientB.stats()).totalEvents).toBe(3)
    expect((await store.stats()).totalEvents).toBe(3)
    await clientB.close()
    servedB.close()
    await store.close()
  })

  it('refuses a batch that cannot be sent, without a round trip', async () => {
    const { port1, port2 } = new MessageChannel()
    const client = connectStore(port2, { timeoutMs: 5_000 })
    const batch = [{ ...run(RING_A, 0, 1)[0], event: { f: () => 1 } }] as unknown as EventRecord[]
    await expect(client.storeEvents(batch)).rejects.toMatchObject({ code: 'invalid_record' })
    await client.close()
    port1.close()
  })

  it.each([0, -1, 1.5, 'soon'])('refuses timeoutMs %s, naming it', (timeoutMs) => {
    const { port1, port2 } = new MessageChannel()
    expect(() => connectStore(port2, { timeoutMs: timeoutMs as number })).toThrow(StoreSpecError)
    try {
      connectStore(port2, { timeoutMs: timeoutMs as number })
    } catch (err) {
      expect(err).toMatchObject({ field: 'timeoutMs', code: 'invalid_spec' })
    }
    port1.close()
    port2.close()
  })

  it('answers an unknown method with a typed error', async () => {
    const { port1, port2 } = new MessageChannel()
    const store = new MemoryStore()
    serveStore(store, port1)
    const reply = new Promise((resolve) => port2.once('message', resolve))
    port2.postMessage({ t: 'call', id: 7, method: 'dropTable', args: [] })
    expect(await reply).toMatchObject({ t: 'fail', id: 7, error: { code: 'remote_error' } })
    port2.close()
    await store.close()
  })

  it('keeps StoreRecordError an instance of its class on the client', async () => {
    const { port1, port2 } = new MessageChannel()
    const store = new MemoryStore()
    const served = serveStore(store, port1)
    const client = connectStore(port2)
    const err = await client.storeEvents([{ ...run(RING_A, 0, 1)[0], seq: -1 } as EventRecord]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreRecordError)
    expect(err).toMatchObject({ index: 0, field: 'seq' })
    await client.close()
    served.close()
    await store.close()
  })
})
