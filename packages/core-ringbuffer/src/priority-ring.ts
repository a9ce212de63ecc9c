// A priority ring: one sub-ring per priority (high, normal, low) under one shared budget of events.
// Under `drop_lowest`, a write that finds the budget spent evicts the oldest unclaimed event of the
// lowest priority at or below its own; consumers claim higher priorities first. Each sub-ring is a
// plain RingBuffer (FIFO, claims, commits, takeover), which is why priorities need several rings.
// A PriorityConsumer is one consumer id on all three sub-rings, shaped like a RingConsumer (one
// claim, high first; commit splits it by sub-ring), so a writer drains either kind of ring.

import { RingError, RingOptionError } from './errors.js'
import { countDrop, viewsOf, type Views } from './internal/views.js'
import { DROP_REASONS, type DropReason } from './layout.js'
import type { RingBufferOptions } from './options.js'
import { usedSlots } from './pressure.js'
import { evictOldest, RingBuffer, type RingHandle, type RingStats, type WriteResult } from './ring-buffer.js'
import { POLICY_BYTES, policyViewsOf, resolveSampling, Sampler, storeSampling, type PolicyViews, type ResolvedSamplingPolicy, type SamplingPolicy } from './sampling.js'
import type { Claim, ConsumerOptions, RingConsumer, RingRecord } from './consumer.js'

/** Priorities, lowest first (the order eviction looks in). */
export const PRIORITIES = ['low', 'normal', 'high'] as const
export type Priority = (typeof PRIORITIES)[number]

/** What a write does when the shared budget is spent. */
export type PriorityOverflow = 'drop_newest' | 'drop_lowest'

export interface PriorityRingOptions extends Omit<RingBufferOptions, 'overflowStrategy'> {
  /** `drop_lowest` evicts the oldest unclaimed event of the lowest priority at or below the new one's; `drop_newest` refuses the new event. Defaults to `drop_lowest`. */
  overflowStrategy?: PriorityOverflow
  /** A sampling policy in force from the start; its level is the fill of the whole budget (`pressure()`). Defaults to none. */
  sampling?: SamplingPolicy
}

/** Structured-cloneable handle of the three sub-rings. */
export interface PriorityRingHandle {
  readonly kind: 'ringside.priority-ring'
  readonly overflowStrategy: PriorityOverflow
  readonly rings: Readonly<Record<Priority, RingHandle>>
  /** The ring's sampling policy (its own region: the sub-rings never sample on their own). */
  readonly policy: SharedArrayBuffer
}

/** A priority ring's stats: the three sub-rings added up (`size` is the budget), and each one's own. */
export interface PriorityRingStats extends RingStats {
  readonly byPriority: Readonly<Record<Priority, RingStats>>
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
const SAMPLED: WriteResult = Object.freeze({ ok: false, reason: 'sampled' })

/** Bound on evict-and-retry rounds of one write when other producers take the freed room first. */
const MAX_EVICTIONS = 64

/** Three rings of the same size, one budget: the size of one. Memory is three rings' worth. */
export class PriorityRing {
  readonly rings: Readonly<Record<Priority, RingBuffer>>
  readonly overflowStrategy: PriorityOverflow
  readonly #views: Readonly<Record<Priority, Views>>
  readonly #budget: number
  readonly #policySab: SharedArrayBuffer
  readonly #policy: PolicyViews
  readonly #sampler: Sampler

  private constructor(rings: Record<Priority, RingBuffer>, overflowStrategy: PriorityOverflow, policy: SharedArrayBuffer) {
    this.rings = Object.freeze(rings)
    this.overflowStrategy = overflowStrategy
    this.#views = Object.freeze({ low: viewsOf(rings.low.handle.buffer), normal: viewsOf(rings.normal.handle.buffer), high: viewsOf(rings.high.handle.buffer) })
    this.#budget = rings.normal.options.size
    this.#policySab = policy
    this.#policy = policyViewsOf(policy, this.#budget)
    this.#sampler = new Sampler(this.#policy, () => this.#used())
  }

  /** Creates the three sub-rings; `size` is the shared budget (and each sub-ring's size). */
  static create(options: PriorityRingOptions = {}): PriorityRing {
    const { overflowStrategy = 'drop_lowest', sampling, ...rest } = options
    if (overflowStrategy !== 'drop_lowest' && overflowStrategy !== 'drop_newest') {
      throw new RingOptionError('invalid_overflow_strategy', 'overflowStrategy', `option 'overflowStrategy' must be drop_lowest or drop_newest, got ${String(overflowStrategy)}`)
    }
    const policy = sampling === undefined ? null : resolveSampling(sampling)
    // Each sub-ring refuses only when the budget is spent, never on its own: drop_newest in each.
    const make = () => RingBuffer.create({ ...rest, overflowStrategy: 'drop_newest' })
    const ring = new PriorityRing({ low: make(), normal: make(), high: make() }, overflowStrategy, new SharedArrayBuffer(POLICY_BYTES))
    if (policy !== null) storeSampling(ring.#policy, policy)
    return ring
  }

  static attach(handle: PriorityRingHandle): PriorityRing {
    const r = handle.rings
    if (!(handle.policy instanceof SharedArrayBuffer) || handle.policy.byteLength < POLICY_BYTES) throw new RingOptionError('invalid_option', 'handle', 'handle.policy must be the SharedArrayBuffer of a priority ring')
    return new PriorityRing({ low: RingBuffer.attach(r.low), normal: RingBuffer.attach(r.normal), high: RingBuffer.attach(r.high) }, handle.overflowStrategy, handle.policy)
  }

  get handle(): PriorityRingHandle {
    return { kind: 'ringside.priority-ring', overflowStrategy: this.overflowStrategy, rings: { low: this.rings.low.handle, normal: this.rings.normal.handle, high: this.rings.high.handle }, policy: this.#policySab }
  }

  /** The budget in events (each sub-ring's size). */
  get size(): number {
    return this.#budget
  }

  /** Events in all three sub-rings (reserved, not yet freed) / budget, 0..1. */
  pressure(): number {
    return Math.min(1, this.#used() / this.#budget)
  }

  /** The sampling policy in force (shared by every thread of the ring), or null when off. */
  get sampling(): ResolvedSamplingPolicy | null {
    return this.#sampler.policy
  }

  /**
   * Sets (or, with null, turns off) the sampling policy for every thread's next write: at or above
   * `above` fill of the budget, keep 1 in `keepOneIn` events of each type (counted per type, all
   * priorities together), always keeping `alwaysKeep`. A sampled-out event is counted `sampled` in
   * the sub-ring of its priority. Throws RingOptionError for a bad policy.
   */
  setSampling(policy: SamplingPolicy | null): void {
    storeSampling(this.#policy, policy === null ? null : resolveSampling(policy))
  }

  /**
   * Writes `event` at `priority` (default `normal`). The budget is checked by reading the three
   * sub-rings' cursors, so producers racing for the last room may overshoot it by one event each;
   * every sub-ring is still bounded by its own size. A write refused before encoding (closed ring,
   * not an object, sampled out) never evicts anything.
   */
  write(event: unknown, priority: Priority = 'normal'): WriteResult {
    const ring = this.rings[priority] as RingBuffer | undefined
    if (ring === undefined) return this.rings.normal.write(undefined) // counted as invalid_event, like any bad write
    if (ring.closed || event === null || typeof event !== 'object' || Array.isArray(event)) return ring.write(event) // refused, and counted, by the sub-ring
    if (this.#sampler.skips(event)) {
      countDrop(this.#views[priority], 'sampled')
      return SAMPLED
    }
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

  get closed(): boolean {
    return this.rings.high.closed && this.rings.normal.closed && this.rings.low.closed
  }

  /** Refuses every later write with `closed`; what the sub-rings hold stays for consumers. */
  close(): void {
    for (const p of PRIORITIES) this.rings[p].close()
  }

  /** One consumer per sub-ring, all with the same id. */
  consumers(id: number, options?: ConsumerOptions): Record<Priority, RingConsumer> {
    return { low: this.rings.low.consumer(id, options), normal: this.rings.normal.consumer(id, options), high: this.rings.high.consumer(id, options) }
  }

  /** One consumer of all three sub-rings (see PriorityConsumer): what a pipeline writer drains. */
  consumer(id: number, options?: ConsumerOptions): PriorityConsumer {
    return new PriorityConsumer(this.consumers(id, options))
  }

  /** Hands the dead consumer's claims on every sub-ring to the heir (see RingBuffer.takeOver); returns the events handed over. */
  takeOver(deadId: number, heirId: number): number {
    let n = 0
    for (const p of PRIORITIES) n += this.rings[p].takeOver(deadId, heirId)
    return n
  }

  /**
   * The three sub-rings' stats added up, and each one's own (`byPriority`). `size` is the budget,
   * `available` and `utilization` are read against it (as `pressure()`), positions and counters are
   * sums, `oldestPendingAt` the oldest of the three.
   */
  stats(): PriorityRingStats {
    const byPriority = { high: this.rings.high.stats(), normal: this.rings.normal.stats(), low: this.rings.low.stats() }
    const all = [byPriority.high, byPriority.normal, byPriority.low]
    const sum = (f: (s: RingStats) => number) => all.reduce((a, s) => a + f(s), 0)
    const dropped = {} as Record<DropReason, number>
    for (const r of DROP_REASONS) dropped[r] = sum((s) => s.dropped[r])
    const used = Math.min(this.#budget, sum((s) => s.size - s.available))
    const oldest = all.reduce<number | undefined>((m, s) => (s.oldestPendingAt === undefined ? m : m === undefined ? s.oldestPendingAt : Math.min(m, s.oldestPendingAt)), undefined)
    return {
      id: all.map((s) => s.id).join('+'),
      size: this.#budget,
      overflowStrategy: this.overflowStrategy,
      maxEventBytes: byPriority.normal.maxEventBytes,
      writePosition: sum((s) => s.writePosition),
      committedPosition: sum((s) => s.committedPosition),
      available: this.#budget - used,
      ready: sum((s) => s.ready),
      claimed: sum((s) => s.claimed),
      ...(oldest === undefined ? {} : { oldestPendingAt: oldest }),
      totalWrites: sum((s) => s.totalWrites),
      totalReads: sum((s) => s.totalReads),
      totalCommitted: sum((s) => s.totalCommitted),
      dropped,
      utilization: used / this.#budget,
      closed: all.every((s) => s.closed),
      byPriority,
    }
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

/**
 * One consumer id on the three sub-rings of a priority ring, shaped like a RingConsumer: `claim`
 * returns one claim, high-priority events first (claims handed over on a sub-ring come first within
 * it), `commit` splits a claim by the sub-ring of each record (its `ringId`) and commits each part
 * there. Records and positions of a claim stay parallel arrays, so a claim rebuilt from part of
 * one (a writer committing some events and holding others) commits the same way.
 *
 * A commit of a claim spanning sub-rings is not atomic across them: a part whose events were taken
 * over throws `claim_not_owned` after the parts before it are committed. A takeover happens only
 * once the consumer's thread is dead, so a live writer never meets it.
 */
export class PriorityConsumer {
  readonly id: number
  readonly consumers: Readonly<Record<Priority, RingConsumer>>
  /** Sub-ring consumers by ring id: where a record's part of a claim is committed. */
  readonly #byRing: ReadonlyMap<string, RingConsumer>
  /** Each sub-ring's wait in progress, reused by the next wait (at most one per sub-ring). */
  readonly #waits: Record<Priority, Promise<boolean> | undefined> = { low: undefined, normal: undefined, high: undefined }

  constructor(consumers: Record<Priority, RingConsumer>) {
    this.consumers = Object.freeze({ ...consumers })
    this.id = consumers.normal.id
    const byRing = new Map<string, RingConsumer>()
    for (const p of PRIORITIES) byRing.set(consumers[p].ringId, consumers[p])
    this.#byRing = byRing
  }

  /** The priority of a record claimed through this consumer (by its ring id); undefined for another ring's. */
  priorityOf(record: Pick<RingRecord, 'ringId'>): Priority | undefined {
    for (const p of PRIORITIES) if (this.consumers[p].ringId === record.ringId) return p
    return undefined
  }

  /** Up to `maxEvents` events and about `maxBytes` bytes, high priority first, as one claim; null when none is ready. */
  claim(maxEvents: number, maxBytes = Number.POSITIVE_INFINITY): Claim | null {
    const parts = claimByPriority(this.consumers, maxEvents, maxBytes)
    if (parts.length === 0) return null
    if (parts.length === 1) return parts[0]!.claim
    const records: RingRecord[] = []
    const positions: number[] = []
    let bytes = 0
    let handedOver = false
    for (const { claim } of parts) {
      for (const r of claim.records) records.push(r)
      for (const p of claim.positions) positions.push(p)
      bytes += claim.bytes
      handedOver ||= claim.handedOver
    }
    return { consumerId: this.id, records, bytes, handedOver, positions }
  }

  /** Commits each sub-ring's part of `claim` in its sub-ring. Throws RingError `claim_not_owned` as RingConsumer.commit does. */
  commit(claim: Claim): void {
    const rs = claim.records
    if (rs.length === 0) return
    const first = rs[0]!.ringId
    let one = true
    for (let k = 1; k < rs.length && one; k++) one = rs[k]!.ringId === first
    if (one) {
      this.#consumerOf(first).commit(claim)
      return
    }
    const parts = new Map<string, { records: RingRecord[]; positions: number[] }>()
    for (let k = 0; k < rs.length; k++) {
      const r = rs[k]!
      let part = parts.get(r.ringId)
      if (part === undefined) parts.set(r.ringId, (part = { records: [], positions: [] }))
      part.records.push(r)
      part.positions.push(claim.positions[k]!)
    }
    for (const [ringId, part] of parts) this.#consumerOf(ringId).commit({ consumerId: this.id, records: part.records, bytes: 0, handedOver: claim.handedOver, positions: part.positions })
  }

  #consumerOf(ringId: string): RingConsumer {
    const c = this.#byRing.get(ringId)
    if (c === undefined) throw new RingError('claim_not_owned', `consumer ${this.id} holds no claim on ring ${ringId}`)
    return c
  }

  /** True when a claim would find something on any sub-ring now. */
  hasData(): boolean {
    return this.consumers.high.hasData() || this.consumers.normal.hasData() || this.consumers.low.hasData()
  }

  /**
   * Sleeps until any sub-ring may have `minEvents` events ready (or handed-over claims), or the time
   * passes; yields the event loop. A sub-ring's wait still running from an earlier call is reused, so
   * at most one wait per sub-ring is ever pending; such a wait ends by its own deadline.
   */
  async waitForDataAsync(timeoutMs: number, minEvents = 1): Promise<boolean> {
    const waits: Promise<boolean>[] = []
    for (const p of PRIORITIES) {
      let w = this.#waits[p]
      if (w === undefined) {
        w = this.consumers[p].waitForDataAsync(timeoutMs, minEvents)
        this.#waits[p] = w
        void w.finally(() => {
          if (this.#waits[p] === w) this.#waits[p] = undefined
        })
      }
      waits.push(w)
    }
    await Promise.race(waits)
    return this.hasData()
  }
}
