import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RingBuffer, type Claim } from '../src/index.js'
import { turnOf, viewsOf } from '../src/internal/views.js'
import { H_CLAIM, H_HEAD, H_HEAD_WRAPS, H_TAIL } from '../src/layout.js'

// Model-based test: random sequences of write / claim / commit / consumer death and takeover run
// against the ring and against a plain array model; stats and contents must agree after every step.

type Entry = { seq: number; n: number; state: 'ready' | 'claimed' | 'done' | 'evicted'; owner: number; handed: boolean }

class Model {
  live: Entry[] = [] // entries not yet freed, in position order
  nextSeq = 0
  committed = 0
  reads = 0
  dropped = { full: 0, evicted: 0 }
  constructor(
    readonly size: number,
    readonly strategy: 'drop_newest' | 'drop_oldest',
  ) {}

  free(): void {
    while (this.live.length > 0 && (this.live[0]!.state === 'done' || this.live[0]!.state === 'evicted')) this.live.shift()
  }

  write(n: number): number | 'full' {
    if (this.live.length === this.size) {
      if (this.strategy === 'drop_oldest' && this.live[0]!.state === 'ready') {
        this.live[0]!.state = 'evicted'
        this.dropped.evicted++
        this.free()
      } else {
        this.dropped.full++
        return 'full'
      }
    }
    const seq = this.nextSeq++
    this.live.push({ seq, n, state: 'ready', owner: -1, handed: false })
    return seq
  }

  claim(c: number, max: number): Entry[] {
    const handed = this.live.filter((e) => e.state === 'claimed' && e.owner === c && e.handed)
    if (handed.length > 0) {
      const got = handed.slice(0, max)
      for (const e of got) e.handed = false
      return got
    }
    const got = this.live.filter((e) => e.state === 'ready').slice(0, max)
    for (const e of got) {
      e.state = 'claimed'
      e.owner = c
    }
    this.reads += got.length
    return got
  }

  commit(entries: Entry[]): void {
    for (const e of entries) e.state = 'done'
    this.committed += entries.length
    this.free()
  }

  takeOver(dead: number, heir: number): number {
    let n = 0
    for (const e of this.live) {
      if (e.state === 'claimed' && e.owner === dead) {
        e.owner = heir
        e.handed = true
        n++
      }
    }
    return n
  }
}

type Action =
  | { k: 'write'; n: number }
  | { k: 'claim'; c: number; max: number }
  | { k: 'commit'; c: number; pick: number }
  | { k: 'die'; c: number; heir: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('write' as const), n: fc.integer({ min: 0, max: 1e6 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('claim' as const), c: fc.integer({ min: 0, max: 2 }), max: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('commit' as const), c: fc.integer({ min: 0, max: 2 }), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('die' as const), c: fc.integer({ min: 0, max: 2 }), heir: fc.integer({ min: 0, max: 2 }) }) },
)

/** Moves a fresh ring's positions to `start` (64-bit), as if `start` events had passed through it. */
function startAt(ring: RingBuffer, start: number): void {
  const v = viewsOf(ring.handle.buffer)
  for (let k = 0; k < v.size; k++) {
    const p = start + k
    const i = p % v.size
    v.turn[i] = turnOf(p % 2 ** 32, 0)
    v.seqs[i] = p - v.size
    v.ownerPos[i] = (p - v.size) | 0
  }
  const p32 = (start % 2 ** 32) | 0
  v.hdr[H_HEAD] = v.hdr[H_CLAIM] = v.hdr[H_TAIL] = p32
  v.hdr[H_HEAD_WRAPS] = Math.floor(start / 2 ** 32)
}

function run(size: number, strategy: 'drop_newest' | 'drop_oldest', actions: Action[], start = 0): void {
  const ring = RingBuffer.create({ size, overflowStrategy: strategy, maxConsumers: 3 })
  startAt(ring, start)
  const model = new Model(size, strategy)
  model.nextSeq = start
  const consumers = [0, 1, 2].map((id) => ring.consumer(id))
  // Claims each consumer holds: the ring's claim object and the model's entries.
  const held: { real: Claim; model: Entry[] }[][] = [[], [], []]
  for (const a of actions) {
    switch (a.k) {
      case 'write': {
        const r = ring.write({ type: 'm', n: a.n })
        const m = model.write(a.n)
        expect(r.ok ? r.seq : r.reason).toBe(m)
        break
      }
      case 'claim': {
        const r = consumers[a.c]!.claim(a.max)
        const m = model.claim(a.c, a.max)
        expect(r?.records.map((x) => [x.seq, x.event.n]) ?? []).toEqual(m.map((e) => [e.seq, e.n]))
        if (r) held[a.c]!.push({ real: r, model: m })
        break
      }
      case 'commit': {
        const list = held[a.c]!
        if (list.length === 0) break
        const [h] = list.splice(a.pick % list.length, 1)
        consumers[a.c]!.commit(h!.real)
        model.commit(h!.model)
        break
      }
      case 'die': {
        if (a.heir === a.c) break
        expect(ring.takeOver(a.c, a.heir)).toBe(model.takeOver(a.c, a.heir))
        // The dead consumer's claims can no longer be committed under its id.
        for (const h of held[a.c]!) {
          expect(() => consumers[a.c]!.commit(h.real)).toThrowError(expect.objectContaining({ code: 'claim_not_owned' }) as never)
        }
        held[a.c] = []
        break
      }
    }
    const s = ring.stats()
    expect({
      write: s.writePosition,
      available: s.available,
      claimed: s.claimed,
      committed: s.totalCommitted,
      reads: s.totalReads,
      full: s.dropped.full,
      evicted: s.dropped.evicted,
    }).toEqual({
      write: model.nextSeq,
      available: size - model.live.length,
      claimed: model.live.filter((e) => e.state === 'claimed').length,
      committed: model.committed,
      reads: model.reads,
      full: model.dropped.full,
      evicted: model.dropped.evicted,
    })
  }
}

describe('ring against a model', () => {
  it.each(['drop_newest', 'drop_oldest'] as const)('agrees with the model after every step under %s', (strategy) => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 4, 8), fc.array(action, { maxLength: 120 }), (size, actions) => {
        run(size, strategy, actions)
      }),
      { numRuns: 300 },
    )
  })

  it('agrees with the model across the 32-bit wrap of every cursor and the 2^32 sequence boundary', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 4, 8),
        fc.constantFrom('drop_newest' as const, 'drop_oldest' as const),
        fc.integer({ min: 2 ** 31 - 40, max: 2 ** 31 + 10 }).chain((x) => fc.constantFrom(x, 2 ** 32 - 40 + (x % 50), 3 * 2 ** 32 - 20)),
        fc.array(action, { maxLength: 150 }),
        (size, strategy, start, actions) => {
          run(size, strategy, actions, start)
        },
      ),
      { numRuns: 300 },
    )
  })
})
