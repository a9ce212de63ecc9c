// The soak application's ledger of what it wrote, by sequence number, and the check of a store
// against it: every accepted event must be in the store exactly once, as an event or as a dead
// letter with the reason its kind calls for, and intact (its `n` as written); nothing the ring
// refused may be there.

import type { RingBuffer } from '@ringside/core-ringbuffer'
import type { EventStore } from '@ringside/storage'

/** Where an accepted event must end: stored, or quarantined with this dead-letter reason. */
export type Fate = 'stored' | 'invalid_event' | 'permanent_error' | 'stage_error' | 'timeout' | 'crashed_writer'
const FATES: readonly Fate[] = ['stored', 'invalid_event', 'permanent_error', 'stage_error', 'timeout', 'crashed_writer']

/** What the store holds against what the application wrote. */
export interface Verification {
  /** Event rows of this ring read back (every pid of the soak), and dead letters of this ring. */
  readonly rows: number
  readonly deadLetters: number
  /** Dead letters by reason. */
  readonly quarantinedByReason: Record<string, number>
  /** Accepted events the store holds neither as an event nor as a dead letter. */
  readonly lost: number
  /** Accepted events held twice (as an event and as a dead letter). */
  readonly duplicated: number
  /** Rows whose sequence number the ring never accepted. */
  readonly phantom: number
  /** Rows whose `n` differs from what was written under that sequence number. */
  readonly altered: number
  /** Events that ended elsewhere than their kind calls for (a fault event stored, or quarantined for another reason). */
  readonly misrouted: number
  /** Healthy events quarantined along with a faulty one (by reason): not lost, but reported. */
  readonly collateral: Record<string, number>
}

export class Ledger {
  #fate = new Uint8Array(1 << 16) // per seq: 0 not accepted, else 1 + index in FATES
  #n = new Int32Array(1 << 16)
  #maxSeq = -1
  offered = 0
  accepted = 0
  readonly acceptedByFate: Record<Fate, number> = Object.fromEntries(FATES.map((f) => [f, 0])) as Record<Fate, number>

  /** Offers an event to the ring and notes it if accepted. Safe to call from inside another write (a re-entrant toJSON). */
  write(ring: RingBuffer, event: Record<string, unknown>, fate: Fate = 'stored'): ReturnType<RingBuffer['write']> {
    this.offered++
    const r = ring.write(event)
    if (r.ok) {
      this.#grow(r.seq)
      this.#fate[r.seq] = 1 + FATES.indexOf(fate)
      this.#n[r.seq] = typeof event.n === 'number' ? event.n : -1
      this.#maxSeq = Math.max(this.#maxSeq, r.seq)
      this.accepted++
      this.acceptedByFate[fate]++
    }
    return r
  }

  /** Reads the store back (events by pid, then dead letters) and compares it with the ledger. */
  async verify(store: EventStore, ringId: string, pids: readonly string[], onProgress: (done: number, total: number) => void): Promise<Verification> {
    const seen = new Uint8Array(this.#maxSeq + 1) // bit 1: an event row, bit 2: a dead letter
    const quarantinedByReason: Record<string, number> = {}
    const collateral: Record<string, number> = {}
    let rows = 0
    let deadLetters = 0
    let duplicated = 0
    let phantom = 0
    let altered = 0
    let misrouted = 0
    const mark = (seq: number, bit: number, n: unknown, reason?: string): void => {
      const code = seq <= this.#maxSeq ? (this.#fate[seq] ?? 0) : 0
      if (code === 0) {
        phantom++
        return
      }
      if (seen[seq] !== 0) duplicated++
      seen[seq]! |= bit
      if (n !== undefined && n !== this.#n[seq]) altered++
      const fate = FATES[code - 1]!
      if (bit === 1 && fate !== 'stored') misrouted++
      if (bit === 2 && reason !== fate) {
        if (fate === 'stored') collateral[reason ?? '?'] = (collateral[reason ?? '?'] ?? 0) + 1
        else misrouted++
      }
    }
    for (const [i, pid] of pids.entries()) {
      // One pid at a time keeps memory bounded however long the soak ran; every event row has one of them.
      for (const r of await store.query({ pid, order: 'asc' })) {
        if (r.ringId !== ringId) continue
        rows++
        mark(r.seq, 1, r.event.n)
      }
      onProgress(i + 1, pids.length)
    }
    for (const d of await store.listDeadLetters()) {
      if (d.record.ringId !== ringId) continue
      deadLetters++
      const reason = d.reason ?? '?'
      quarantinedByReason[reason] = (quarantinedByReason[reason] ?? 0) + 1
      mark(d.record.seq, 2, d.record.event.n, reason)
    }
    let lost = 0
    for (let seq = 0; seq <= this.#maxSeq; seq++) if (this.#fate[seq] !== 0 && seen[seq] === 0) lost++
    return { rows, deadLetters, quarantinedByReason, lost, duplicated, phantom, altered, misrouted, collateral }
  }

  #grow(seq: number): void {
    if (seq < this.#fate.length) return
    let size = this.#fate.length
    while (size <= seq) size *= 2
    const fate = new Uint8Array(size)
    fate.set(this.#fate)
    const n = new Int32Array(size)
    n.set(this.#n)
    this.#fate = fate
    this.#n = n
  }
}
