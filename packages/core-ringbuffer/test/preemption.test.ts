import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { RingBuffer, type Claim, type RingStats } from '../src/index.js'
import { setPreemption, type PreemptionSite } from '../src/internal/preemption.js'
import { viewsOf } from '../src/internal/views.js'
import { H_CLAIM, H_HEAD, H_TAIL } from '../src/layout.js'

// Preemption between reads of the shared cursors, made deterministic: the preemption seam runs
// other parties' steps (producers writing and evicting, commits, stats) exactly where a reader
// could lose the CPU. A scan must stay within one lap of the ring and every report must be possible.

const ev = (n: number) => ({ type: 'call', n })

afterEach(() => setPreemption(undefined))

/** Runs `burst` once at the first preemption site of `site`, and fails a scan that visits more than `maxVisits` slots. */
function preemptOnce(site: PreemptionSite, burst: () => void, maxVisits = 1_000): void {
  let fired = false
  let visits = 0
  setPreemption((at) => {
    if (at === 'slot' && ++visits > maxVisits) throw new Error(`a scan visited more than ${maxVisits} slots: it ran past the ring`)
    if (at !== site || fired) return
    fired = true
    burst()
  })
}

/** What every stats() reading must satisfy, whenever it is taken. */
function expectPossible(s: RingStats): void {
  const used = s.size - s.available
  expect(s.available).toBeGreaterThanOrEqual(0)
  expect(s.available).toBeLessThanOrEqual(s.size)
  expect(s.utilization).toBeGreaterThanOrEqual(0)
  expect(s.utilization).toBeLessThanOrEqual(1)
  expect(s.utilization).toBe(used / s.size)
  expect(s.ready).toBeGreaterThanOrEqual(0)
  expect(s.claimed).toBeGreaterThanOrEqual(0)
  expect(s.ready + s.claimed).toBeLessThanOrEqual(used)
  expect(s.writePosition - s.committedPosition).toBe(used)
  expect(s.totalCommitted).toBeLessThanOrEqual(s.totalReads)
  expect(s.totalReads).toBeLessThanOrEqual(s.totalWrites)
}

/** The claim cursor never runs ahead of HEAD. */
function expectClaimCursorBehindHead(ring: RingBuffer): void {
  const v = viewsOf(ring.handle.buffer)
  expect(((v.hdr[H_HEAD]! - v.hdr[H_CLAIM]!) | 0) >= 0).toBe(true)
  expect(((v.hdr[H_HEAD]! - v.hdr[H_TAIL]!) | 0) >= 0).toBe(true)
}

function fullDropOldest(size: number): RingBuffer {
  const ring = RingBuffer.create({ size, overflowStrategy: 'drop_oldest' })
  for (let n = 0; n < size; n++) ring.write(ev(n))
  return ring
}

describe('claim', () => {
  it('scans at most one lap when producers evict past the HEAD it read while it was preempted', () => {
    const ring = fullDropOldest(16)
    preemptOnce('cursor', () => {
      for (let n = 100; n < 140; n++) ring.write(ev(n)) // evicts 40: TAIL passes the old HEAD
    })
    const got = ring.consumer(0).claim(100)
    setPreemption(undefined)
    expect(got!.records.map((r) => r.event.n)).toEqual(Array.from({ length: 16 }, (_, k) => 124 + k))
    expectClaimCursorBehindHead(ring)
    expect(ring.consumer(0).claim(100)).toBeNull()
    expectPossible(ring.stats())
  })
})

describe('stats', () => {
  it('never reports negative availability or utilization above 1 while a freed slot is reused before TAIL moves', () => {
    const ring = RingBuffer.create({ size: 4 })
    for (let n = 0; n < 4; n++) ring.write(ev(n))
    const c = ring.consumer(0)
    const claim = c.claim(4)!
    const seen: RingStats[] = []
    preemptOnce('sweep', () => {
      expect(ring.write(ev(4)).ok).toBe(true) // takes the slot just freed, before TAIL moves past it
      seen.push(ring.stats())
    })
    c.commit(claim)
    expect(seen).toHaveLength(1)
    expectPossible(seen[0]!)
    expectPossible(ring.stats())
  })

  it('never reports more events than the ring holds when producers evict between its cursor reads', () => {
    const ring = fullDropOldest(16)
    preemptOnce('cursor', () => {
      for (let n = 100; n < 140; n++) ring.write(ev(n))
    })
    const s = ring.stats()
    expectPossible(s)
    expect(s.ready).toBeLessThanOrEqual(16)
  })
})

describe('exportPending', () => {
  it('copies at most one lap, oldest first, when producers evict between its cursor reads', () => {
    const ring = fullDropOldest(16)
    preemptOnce('cursor', () => {
      for (let n = 100; n < 140; n++) ring.write(ev(n))
    })
    const out = ring.exportPending()
    expect(out.length).toBeLessThanOrEqual(16)
    for (let k = 1; k < out.length; k++) expect(out[k]!.seq).toBeGreaterThan(out[k - 1]!.seq)
  })
})

describe('takeOver', () => {
  it('scans at most one lap when producers evict between its cursor reads', () => {
    const ring = fullDropOldest(16)
    const c = ring.consumer(0)
    c.commit(c.claim(2)!) // consumer 0 dies holding nothing
    preemptOnce('cursor', () => {
      for (let n = 100; n < 140; n++) ring.write(ev(n))
    })
    expect(ring.takeOver(0, 1)).toBe(0)
    setPreemption(undefined)
    expect(ring.consumer(1).claim(100)!.records.map((r) => r.event.n)).toEqual(Array.from({ length: 16 }, (_, k) => 124 + k))
  })
})

// ---- the whole protocol under schedules of preemption -------------------------------------------

type Action =
  | { k: 'write'; count: number }
  | { k: 'claim'; c: number; max: number }
  | { k: 'commit'; c: number; pick: number }
  | { k: 'die'; c: number; heir: number }
  | { k: 'stats' }
  | { k: 'export' }

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('write' as const), count: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('claim' as const), c: fc.integer({ min: 0, max: 2 }), max: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('commit' as const), c: fc.integer({ min: 0, max: 2 }), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('die' as const), c: fc.integer({ min: 0, max: 2 }), heir: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('stats' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('export' as const) }) },
)

/** What runs at one preemption point: nothing, a burst of writes, a commit by another consumer, or a reading. */
type Burst = { writes: number; commit: boolean; read: boolean }
const burst: fc.Arbitrary<Burst> = fc.record({ writes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })), commit: fc.boolean(), read: fc.boolean() })

function runSchedule(size: number, strategy: 'drop_oldest' | 'drop_newest', actions: Action[], bursts: Burst[]): void {
  const ring = RingBuffer.create({ size, overflowStrategy: strategy, maxConsumers: 3 })
  const consumers = [0, 1, 2].map((id) => ring.consumer(id))
  const held: Claim[][] = [[], [], []]
  const written = new Map<number, number>() // seq -> n
  const delivered = new Map<number, number>() // seq -> deliveries by a fresh (not handed over) claim
  let nextN = 0
  let evicted = 0
  const write = (): void => {
    const n = nextN++
    const r = ring.write(ev(n))
    if (r.ok) written.set(r.seq, n)
  }
  const record = (claim: Claim | null, c: number): void => {
    if (claim === null) return
    for (const r of claim.records) {
      expect(r.event.n).toBe(written.get(r.seq))
      if (!claim.handedOver) delivered.set(r.seq, (delivered.get(r.seq) ?? 0) + 1)
    }
    held[c]!.push(claim)
  }
  const readings = (): void => {
    expectPossible(ring.stats())
    const out = ring.exportPending()
    expect(out.length).toBeLessThanOrEqual(size)
    for (let k = 1; k < out.length; k++) expect(out[k]!.seq).toBeGreaterThan(out[k - 1]!.seq)
  }

  // The schedule: the b-th preemption point of the run gets bursts[b % length].
  let current = -1 // consumer whose operation is running (-1: a producer's)
  let hits = 0
  let inBurst = false
  let visits = 0
  setPreemption((site) => {
    if (inBurst) return
    // A scan reads HEAD once and retries a slot at most once (after an eviction), whatever runs meanwhile.
    if (site === 'slot' && ++visits > 2 * size + 8) throw new Error(`a scan visited ${visits} slots of a ring of ${size}`)
    if (current === -1) return // a producer's own write is never interleaved with itself
    const b = bursts[hits++ % bursts.length]!
    inBurst = true
    try {
      for (let k = 0; k < b.writes; k++) write()
      if (b.commit) {
        const other = [0, 1, 2].find((c) => c !== current && held[c]!.length > 0)
        if (other !== undefined) consumers[other]!.commit(held[other]!.shift()!)
      }
      if (b.read) readings()
    } finally {
      inBurst = false
    }
  })
  const op = (c: number, body: () => void): void => {
    current = c
    visits = 0
    try {
      body()
    } finally {
      current = -1
    }
    expectClaimCursorBehindHead(ring)
  }

  for (const a of actions) {
    switch (a.k) {
      case 'write':
        for (let k = 0; k < a.count; k++) write()
        break
      case 'claim':
        op(a.c, () => record(consumers[a.c]!.claim(a.max), a.c))
        break
      case 'commit': {
        const list = held[a.c]!
        if (list.length > 0) op(a.c, () => consumers[a.c]!.commit(list.splice(a.pick % list.length, 1)[0]!))
        break
      }
      case 'die':
        if (a.heir === a.c) break
        held[a.c] = [] // dead: it commits nothing more
        op(a.heir, () => ring.takeOver(a.c, a.heir))
        break
      case 'stats':
      case 'export':
        op(0, readings)
        break
    }
  }

  // Drain: hand everything to consumer 0, commit what it holds, claim the rest.
  setPreemption(undefined)
  ring.takeOver(1, 0)
  ring.takeOver(2, 0)
  for (const claim of held[0]!) consumers[0]!.commit(claim)
  held[0] = []
  for (let claim = consumers[0]!.claim(size); claim !== null; claim = consumers[0]!.claim(size)) {
    record(claim, 0)
    consumers[0]!.commit(claim)
  }
  const s = ring.stats()
  evicted = s.dropped.evicted
  expectPossible(s)
  expect(s).toMatchObject({ ready: 0, claimed: 0, available: size, totalWrites: written.size })
  for (const [seq, times] of delivered) {
    expect(written.has(seq)).toBe(true)
    expect(times).toBe(1)
  }
  expect(delivered.size + evicted).toBe(written.size)
  expect(s.totalReads).toBe(delivered.size)
}

describe('the cursor protocol', () => {
  it.each(['drop_oldest', 'drop_newest'] as const)(
    'under %s keeps every event exactly once and every scan within one lap, with other parties run at every cursor read',
    (strategy) => {
      fc.assert(
        fc.property(fc.constantFrom(1, 2, 4, 16), fc.array(action, { maxLength: 60 }), fc.array(burst, { minLength: 1, maxLength: 20 }), (size, actions, bursts) => {
          runSchedule(size, strategy, actions, bursts)
        }),
        { numRuns: 120 },
      )
    },
  )
})
