// Test helpers: a real ring and a reader that drains it the way a writer would (claim, decode, commit).

import { RingBuffer } from '@ringside/core-ringbuffer'
import { instrument, resetInstrumentStats } from '../src/index.js'

export type Ev = Record<string, unknown> & { type: string }

/** A fresh ring set as this thread's capture ring, and a function returning every event written since the last call. */
export function capture(options: Parameters<typeof RingBuffer.create>[0] = {}): { ring: RingBuffer; drain: () => Ev[] } {
  const ring = RingBuffer.create({ size: 1 << 12, maxEventBytes: 2048, ...options })
  instrument({ ring, sampleEvery: 1, maxCallsPerSecond: 0 })
  resetInstrumentStats()
  const consumer = ring.consumer(0)
  return {
    ring,
    drain() {
      const out: Ev[] = []
      for (;;) {
        const claim = consumer.claim(1000)
        if (!claim) return out
        for (const r of claim.records) out.push(r.event as Ev)
        consumer.commit(claim)
      }
    },
  }
}

/** The events of one function, as `type` strings in order. */
export const types = (events: Ev[]): string[] => events.map((e) => `${e.type}:${String(e.function ?? '')}`)
