// A priority ring: one sub-ring per priority (high, normal, low) under one shared budget of events.
// Under `drop_lowest`, a write that finds the budget spent evicts the oldest unclaimed event of the
// lowest priority at or below its own; consumers claim higher priorities first. Each sub-ring is a
// plain RingBuffer (FIFO, claims, commits, takeover), which is why priorities need several rings.

import { RingOptionError } from './errors.js'
import { countDrop, viewsOf, type Views } from './internal/views.js'
import type { RingBufferOptions } from './options.js'
import { usedSlots } from './pressure.js'
import { evictOldest, RingBuffer, type RingHandle, type WriteResult } from './ring-buffer.js'
import type { Claim, RingConsumer } from './consumer.js'

/** Priorities, lowest first (the order eviction looks in). */
export const PRIORITIES = ['low', 'normal', 'high'] as const
export type Priority = (typeof PRIORITIES)[number]

/** What a write does when the shared budget is spent. */
export type PriorityOverflow = 'drop_newest' | 'drop_lowest'

export interface PriorityRingOptions extends Omit<RingBufferOptions, 'overflowStrategy' | 'sampling'> {
  /** `drop_lowest` evicts the oldest unclaimed event of the lowest priority at or below the new one's; `drop_newest` refuses the new event. Defaults to `drop_lowest`. */
  overflowStrategy?: PriorityOverflow
}

/** Structured-cloneable handle of the three sub-rings. */
export interface PriorityRingHandle {
  readonly kind: 'ringside.priority-ring'
  readonly overflowStrategy: PriorityOverflow
  readonly rings: Readonly<Record<Priority, RingHandle>>
}

/**
 * The eviction rule: the lowest priority at or below `incoming` whose oldest event can be evicted
 * (written and not claimed: ring order forbids evicting past a claimed event); undefined when none.
 * `evict(p)` is tried lowest priority first and the first that succeeds is the victim, so it may
 * do the eviction itself.
 */
export function victimOf(incoming: Priority, evict: (p: Priority) => boolean): Priority | undefined {
  for (const p of PRIORITIES) {
    if (evict(p)) return p
    if (p === incoming) return undefined
  }
  return undefined
}

const FULL: WriteResult = Object.freeze({ ok: false, reason: 'full' })

/** Bound on evict-and-retry rounds of one write when other producers take the freed room first. */
const MAX_EVICTIONS = 64

/** Three rings of the same size, one budget: the size of one. Memory is three rings' worth. */
export class PriorityRing {
  readonly rings: Readonly<Record<Priority, RingBuffer>>
  readonly overflowStrategy: PriorityOverflow
  readonly #views: Readonly<Record<Priority, Views>>
  readonly #budget: number

  private constructor(rings: Record<Priority, RingBuffer>, overflowStrategy: PriorityOverflow) {
    this.rings = Object.freeze(rings)
    this.overflowStrategy = overflowStrategy
    this.#views = Object.freeze({ low: viewsOf(rings.low.handle.buffer), normal: viewsOf(rings.normal.handle.buffer), high: viewsOf(rings.high.handle.buffer) })
    this.#budget = rings.normal.options.size
  }

  /** Creates the three sub-rings; `size` is the shared budget (and each sub-ring's size). */
  static create(options: PriorityRingOptions = {}): PriorityRing {
    const { overflowStrategy = 'drop_lowest', ...rest } = options
    if (overflowStrategy !== 'drop_lowest' && overflowStrategy !== 'drop_newest') {
      throw new RingOptionError('invalid_overflow_strategy', 'overflowStrategy', `option 'overflowStrategy' must be drop_lowest or drop_newest, got ${String(overflowStrategy)}`)
    }
    // Each sub-ring refuses only when the budget is spent, never on its own: drop_newest in each.
    const make = () => RingBuffer.create({ ...rest, overflowStrategy: 'drop_newest' })
    return new PriorityRing({ low: make(), normal: make(), high: make() }, overflowStrategy)
  }

  static attach(handle: PriorityRingHandle): PriorityRing {
    const r = handle.rings
    return new PriorityRing({ low: RingBuffer.attach(r.low), normal: RingBuffer.attach(r.normal), high: RingBuffer.attach(r.high) }, handle.overflowStrategy)
  }

  get handle(): PriorityRingHandle {
    return { kind: 'ringside.priority-ring', overflowStrategy: this.overflowStrategy, rings: { low: this.rings.low.handle, normal: this.rings.normal.handle, high: this.rings.high.handle } }
  }

  /** Events in all three sub-rings (reserved, not yet freed) / budget, 0..1. */
  pressure(): number {
    return Math.min(1, this.#used() / this.#budget)
  }

  /**
   * Writes `event` at `priority` (default `normal`). The budget is checked by reading the three
   * sub-rings' cursors, so producers racing for the last room may overshoot it by one event each;
   * every sub-ring is still bounded by its own size.
   */
  write(event: unknown, priority: Priority = 'normal'): WriteResult {
    const ring = this.rings[priority] as RingBuffer | undefined
    if (ring === undefined) return this.rings.normal.write(undefined) // counted as invalid_event, like any bad write
    for (let round = 0; this.#used() >= this.#budget; round++) {
      const victim = this.overflowStrategy === 'drop_newest' || round >= MAX_EVICTIONS ? undefined : victimOf(priority, (p) => usedSlots(this.#views[p]) > 0 && evictOldest(this.#views[p]))
      if (victim === undefined) {
        countDrop(this.#views[priority], 'full')
        return FULL
      }
    }
    return ring.write(event)
  }

  #used(): number {
    return usedSlots(this.#views.low) + usedSlots(this.#views.normal) + usedSlots(this.#views.high)
  }

  /** One consumer per sub-ring, all with the same id. */
  consumers(id: number, options?: Parameters<RingBuffer['consumer']>[1]): Record<Priority, RingConsumer> {
    return { low: this.rings.low.consumer(id, options), normal: this.rings.normal.consumer(id, options), high: this.rings.high.consumer(id, options) }
  }
}

/** A claim on one sub-ring of a priority ring: commit it with `consumers[priority].commit(claim)`. */
export interface PriorityClaim {
  readonly priority: Priority
  readonly claim: Claim
}

/** Claims up to `maxEvents` events, high priority first, then normal, then low: one claim per sub-ring that had any. */
export function claimByPriority(consumers: Readonly<Record<Priority, RingConsumer>>, maxEvents: number, maxBytes = Number.POSITIVE_INFINITY): PriorityClaim[] {
  const out: PriorityClaim[] = []
  let left = maxEvents
  let bytes = maxBytes
  for (let k = PRIORITIES.length - 1; k >= 0 && left > 0 && bytes > 0; k--) {
    const priority = PRIORITIES[k]!
    const claim = consumers[priority].claim(left, bytes)
    if (claim === null) continue
    out.push({ priority, claim })
    left -= claim.records.length
    bytes -= claim.bytes
  }
  return out
}
