import { MessageChannel } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { MemoryStore, connectStore, serveStore } from '../src/index.js'

describe('serveStore', () => {
  it('warns about an unknown message it cannot answer instead of crashing the serving thread, and keeps serving', async () => {
    const { port1, port2 } = new MessageChannel()
    const served = serveStore(new MemoryStore(), port1)
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve))
    port2.postMessage({ t: 'gibberish' })
    const w = await warned
    expect((w as Error & { code?: string }).code).toBe('RINGSIDE_UNKNOWN_MESSAGE')
    const client = connectStore(port2)
    expect(await client.storeEvents([{ key: 'a:0', ringId: 'a', seq: 0, capturedAt: 1, event: { type: 'x' } }])).toEqual({ inserted: 1, duplicates: 0 })
    await client.close()
    served.close()
  })
})
