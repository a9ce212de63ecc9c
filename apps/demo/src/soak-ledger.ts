// The soak application's ledger of what it wrote, by ring and sequence number, and the check of a
// store against it: every accepted event must be in the store exactly once, as an event or as a
// dead letter with the reason its kind calls for, and intact (its `n` as written); nothing the ring
// refused may be there. With a priority ring each sub-ring has its own book (sequence numbers are
// per sub-ring), and an accepted event may also be gone on purpose: evicted by drop_lowest, or
// removed by the store's retention; those are counted per sub-ring by the ring and the store, so
// the check is that exactly that many of the sub-ring's events are missing.

import { PriorityRing, type Priority, type RingBuffer, type WriteResult } from '@ringside/core-ringbuffer'
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
  /**
   * Accepted events the store holds neither as an event nor as a dead letter, beyond those its ring
   * counted evicted and its store counted pruned (`expectedGone` of verify). Per ring it must be
   * exactly 0: fewer missing than counted gone is as wrong as more, and is added here too.
   */
  readonly lost: number
  /** Accepted events missing from the store, by ring id (the evicted and pruned among them). */
  readonly missingByRing: Record<string, number>
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

/** One ring's book: per sequence number, the fate of the accepted event and its `n`. */
class Book {
  fate = new Uint8Array(1 << 16) // per seq: 0 not accepted, else 1 + index in FATES
  n = new Int32Array(1 << 16)
  maxSeq = -1

  note(seq: number, fate: Fate, n: number): void {
    this.#grow(seq)
    this.fate[seq] = 1 + FATES.indexOf(fate)
    this.n[seq] = n
    this.maxSeq = Math.max(this.maxSeq, seq)
  }

  #grow(seq: number): void {
    if (seq < this.fate.length) return
    let size = this.fate.length
    while (size <= seq) size *= 2
    const fate = new Uint8Array(size)
    fate.set(this.fate)
    const n = new Int32Array(size)
    n.set(this.n)
    this.fate = fate
    this.n = n
  }
}

export class Ledger {
  /** A book per ring id (a priority ring: one per sub-ring). */
  readonly #books = new Map<string, Book>()
  offered = 0
  accepted = 0
  readonly acceptedByFate: Record<Fate, number> = Object.fromEntries(FATES.map((f) => [f, 0])) as Record<Fate, number>

  /**
   * Offers an event to the ring (a priority ring: at `priority`, default normal) and notes it if
   * accepted. Safe to call from inside another write (a re-entrant toJSON).
   */
  write(ring: RingBuffer | PriorityRing, event: Record<string, unknown>, fate: Fate = 'stored', priority?: Priority): WriteResult {
    this.offered++
    const prioritized = ring instanceof PriorityRing
    const r = prioritized ? ring.write(event, priority) : ring.write(event)
    if (r.ok) {
      const id = prioritized ? ring.rings[priority ?? 'normal'].id : ring.id
      let book = this.#books.get(id)
      if (book === undefined) this.#books.set(id, (book = new Book()))
      book.note(r.seq, fate, typeof event.n === 'number' ? event.n : -1)
      this.accepted++
      this.acceptedByFate[fate]++
    }
    return r
  }

  /**
   * Reads the store back (events by pid, then dead letters) and compares it with the ledger, for
   * the rings in `expectedGone`: each ring id with how many of its accepted events are gone on
   * purpose (evicted, pruned; 0 for a plain ring without retention).
   */
  async verify(store: EventStore, expectedGone: Readonly<Record<string, number>>, pids: readonly string[], onProgress: (done: number, total: number) => void): Promise<Verification> {
    const seen = new Map<string, Uint8Array>() // per ring, per seq: bit 1: an event row, bit 2: a dead letter
    for (const id of Object.keys(expectedGone)) seen.set(id, new Uint8Array((this.#books.get(id)?.maxSeq ?? -1) + 1))
    const quarantinedByReason: Record<string, number> = {}
    const collateral: Record<string, number> = {}
    let rows = 0
    let deadLetters = 0
    let duplicated = 0
    let phantom = 0
    let altered = 0
    let misrouted = 0
    const mark = (book: Book | undefined, marks: Uint8Array, seq: number, bit: number, n: unknown, reason?: string): void => {
      const code = book !== undefined && seq <= book.maxSeq ? (book.fate[seq] ?? 0) : 0
      if (code === 0) {
        phantom++
        return
      }
      if (marks[seq] !== 0) duplicated++
      marks[seq]! |= bit
      if (n !== undefined && n !== book!.n[seq]) altered++
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
        const marks = seen.get(r.ringId)
        if (marks === undefined) continue
        rows++
        mark(this.#books.get(r.ringId), marks, r.seq, 1, r.event.n)
      }
      onProgress(i + 1, pids.length)
    }
    for (const d of await store.listDeadLetters()) {
      const marks = seen.get(d.record.ringId)
      if (marks === undefined) continue
      deadLetters++
      const reason = d.reason ?? '?'
      quarantinedByReason[reason] = (quarantinedByReason[reason] ?? 0) + 1
      mark(this.#books.get(d.record.ringId), marks, d.record.seq, 2, d.record.event.n, reason)
    }
    let lost = 0
    const missingByRing: Record<string, number> = {}
    for (const [id, marks] of seen) {
      const book = this.#books.get(id)
      let missing = 0
      if (book !== undefined) for (let seq = 0; seq <= book.maxSeq; seq++) if (book.fate[seq] !== 0 && marks[seq] === 0) missing++
      missingByRing[id] = missing
      lost += Math.abs(missing - (expectedGone[id] ?? 0))
    }
    return { rows, deadLetters, quarantinedByReason, lost, missingByRing, duplicated, phantom, altered, misrouted, collateral }
  }
}
