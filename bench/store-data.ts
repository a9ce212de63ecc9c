// Rows for the store benchmark: enriched EventRecords from a seeded generator, so every contender
// inserts exactly the same rows. `writer` is the ring benchmark's reference event (the issue's)
// enriched as packages/async-writer does it: writerId, enrichedAt, processingOrder, and the event
// key as correlationId (the writer's fallback when the app sets none). `uuid` is the same with a
// fresh random UUID per event as correlationId, `uuid-v7` with time-ordered UUIDv7-like ids;
// `varied` spreads the indexed fields (100 pids, 50 modules x 10 functions x 5 arities, 5000 AST
// nodes on 70 % of events, a correlation id shared by each run of 4 events).
import type { EventRecord } from '@ringside/storage'
import { makeReferenceEvent } from './fixtures/reference-event.js'

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const TYPES = ['call', 'return', 'state_change', 'message'] as const

/** Which shape of data to generate. */
export type Profile = 'writer' | 'uuid' | 'uuid-v7' | 'varied'

/** A generator of consecutive records of one ring, starting at seq 0. */
export function recordSource(seed = 1, profile: Profile = 'writer'): { ringId: string; next(count: number): EventRecord[] } {
  const rnd = prng(seed)
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('')
  const ringId = hex(32)
  let seq = 0
  let correlationId = ''
  const t0 = 1_700_000_000_000
  return {
    ringId,
    next(count: number): EventRecord[] {
      const out = new Array<EventRecord>(count)
      for (let i = 0; i < count; i++, seq++) {
        const capturedAt = t0 + seq * 0.01 + rnd() * 0.005
        if (profile !== 'varied') {
          const event = makeReferenceEvent() as Record<string, unknown>
          event.writerId = 'writer-1'
          event.enrichedAt = capturedAt + 0.2
          event.processingOrder = seq
          // uuid: a random (v4-style) UUID; uuid-v7: time-ordered like a UUIDv7, whose leading 48
          // bits are the ms timestamp, so ids sort in creation order.
          event.correlationId =
            profile === 'uuid'
              ? `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`
              : profile === 'uuid-v7'
                ? `${Math.floor(capturedAt).toString(16).padStart(12, '0').replace(/^(.{8})/, '$1-')}-7${hex(3)}-a${hex(3)}-${hex(12)}`
                : `${ringId}:${seq}`
          out[i] = { key: `${ringId}:${seq}`, ringId, seq, capturedAt, event }
          continue
        }
        if (seq % 4 === 0) correlationId = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`
        const m = Math.floor(rnd() * 50)
        const event: Record<string, unknown> = {
          type: TYPES[seq % 4],
          pid: `<0.${Math.floor(rnd() * 100)}.0>`,
          module: `MyApp.Module${m}`,
          function: `handle_${Math.floor(rnd() * 10)}`,
          arity: Math.floor(rnd() * 5),
          data: { k: 'v', n: seq, items: [seq % 7, seq % 11] },
          writerId: 'writer-1',
          enrichedAt: capturedAt + 0.2,
          processingOrder: seq,
          correlationId,
        }
        // Most events carry an AST node; some (messages, state changes) do not.
        if (rnd() < 0.7) event.astNodeId = `n_${Math.floor(rnd() * 5000)}`
        out[i] = { key: `${ringId}:${seq}`, ringId, seq, capturedAt, event }
      }
      return out
    },
  }
}
