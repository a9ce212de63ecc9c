import { afterEach, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { MemoryStore } from '@ringside/storage'
import { viewsOf } from '../../core-ringbuffer/src/internal/views.js'
import { AsyncWriter, WRITER_DEFAULTS, WriterMetrics, createMetricsBuffer, processEvents, readWriterMetrics } from '../src/protocol.js'

// A record whose bytes in the ring do not decode (corrupted shared memory) must not crash-loop the
// writers: claim() marks it, and the validation step sends it to dead letters as `undecodable`.

/** A ring holding three events whose second record's bytes are garbage. */
function ringWithCorruptRecord(): RingBuffer {
  const ring = RingBuffer.create({ size: 16, maxEventBytes: 128 })
  for (let n = 0; n < 3; n++) ring.write({ type: 'call', n })
  const v = viewsOf(ring.handle.buffer)
  v.data.fill(0xff, 128, 128 + (v.lens[1] as number))
  return ring
}

const until = async (cond: () => boolean | Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

let writer: AsyncWriter | undefined
afterEach(async () => {
  await writer?.stop()
  writer = undefined
})

describe('processEvents', () => {
  it('sends a record that did not decode to dead letters with reason undecodable, keeping its bytes, and processes the rest', async () => {
    const ring = ringWithCorruptRecord()
    const claim = ring.consumer(0).claim(10)!
    const out = await processEvents(claim.records, { writerId: 'w', stages: [], enrichedAt: 1, firstOrder: 0 })
    expect(out.batch.map((r) => r.event.n)).toEqual([0, 2])
    expect(out.deadLetters).toHaveLength(1)
    const [dead] = out.deadLetters
    expect(dead).toMatchObject({ reason: 'undecodable', attempts: 1, record: { key: `${ring.id}:1`, seq: 1 } })
    expect(dead!.error).toMatch(/malformed record/)
    expect(Buffer.from(dead!.record.event.undecodable as string, 'base64')).toEqual(Buffer.alloc(claim.records[1]!.bytes, 0xff))
  })
})

describe('AsyncWriter', () => {
  it('stores the rest of a batch holding an undecodable record, quarantines that one and commits them all', async () => {
    const ring = ringWithCorruptRecord()
    const store = new MemoryStore()
    const buffer = createMetricsBuffer(1)
    writer = new AsyncWriter({
      writerId: 'writer-1',
      consumer: ring.consumer(0),
      store,
      stages: [],
      metrics: new WriterMetrics(buffer, 0),
      config: { ...WRITER_DEFAULTS, lingerMs: 5, pollIntervalMs: 5 },
    })
    void writer.start()
    await until(() => ring.stats().totalCommitted === 3)
    expect((await store.query({ order: 'asc' })).map((r) => r.event.n)).toEqual([0, 2])
    expect((await store.listDeadLetters()).map((d) => [d.record.seq, d.reason])).toEqual([[1, 'undecodable']])
    expect(readWriterMetrics(buffer, 0)).toMatchObject({ eventsRead: 3, eventsStored: 2 })
  })
})
