import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RingBuffer, RingError } from '@ringside/core-ringbuffer'
import { PipelineConfigError, PipelineManager } from '@ringside/pipeline-manager'

// Bad input everywhere it enters: arbitrary values to write, arbitrary ring options, start options
// and config patches give a typed error or a refusal, never a crash, and never lose what the ring
// had already accepted.

const hostile = (): fc.Arbitrary<unknown> => {
  const circular = fc.constant(null).map(() => {
    const o: Record<string, unknown> = { type: 'loop' }
    o.self = { back: o }
    return o
  })
  const deep = fc.integer({ min: 60, max: 200 }).map((d) => {
    let o: Record<string, unknown> = { type: 'deep' }
    for (let k = 0; k < d; k++) o = { type: 'deep', o }
    return o
  })
  const leaf = fc.oneof(
    fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBoxedValues: true }),
    fc.constant(undefined),
    fc.constant(Symbol('s')),
    fc.constant(() => 1),
    fc.bigInt(),
    fc.string({ minLength: 0, maxLength: 3000 }),
    fc.constant('x'.repeat(1 << 20)),
    circular,
    deep,
  )
  return fc.oneof(leaf, fc.record({ type: fc.oneof(fc.string(), leaf), payload: leaf }, { requiredKeys: [] }))
}

describe('RingBuffer.write with arbitrary values', () => {
  it('never throws, answers a known reason, and keeps every accepted event intact', () => {
    const reasons = new Set(['full', 'too_large', 'not_serializable', 'invalid_event', 'closed', 'timeout'])
    fc.assert(
      fc.property(fc.array(hostile(), { maxLength: 40 }), (values) => {
        const ring = RingBuffer.create({ size: 64, maxEventBytes: 1024 })
        const accepted: { seq: number; json: string }[] = []
        for (const v of values) {
          const anchor = { type: 'anchor', n: accepted.length }
          const a = ring.write(anchor)
          if (a.ok) accepted.push({ seq: a.seq, json: JSON.stringify(anchor) })
          let r
          expect(() => (r = ring.write(v))).not.toThrow()
          const res = r as unknown as { ok: boolean; reason?: string; seq?: number }
          if (!res.ok) expect(reasons.has(res.reason!)).toBe(true)
        }
        const got = new Map<number, string>()
        for (let c = ring.consumer(0).claim(1000); c; c = ring.consumer(0).claim(1000)) for (const rec of c.records) got.set(rec.seq, JSON.stringify(rec.event))
        for (const a of accepted) expect(got.get(a.seq)).toBe(a.json)
      }),
      { numRuns: 150 },
    )
  })
})

describe('RingBuffer.create with arbitrary options', () => {
  it('creates a ring or throws a RingError with a code and the option', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record(
            {
              size: fc.oneof(fc.integer({ min: -8, max: 1 << 12 }), fc.double(), fc.string(), fc.constant(2 ** 30)),
              overflowStrategy: fc.oneof(fc.constantFrom('drop_newest', 'drop_oldest', 'block', 'nope'), fc.anything()),
              maxEventBytes: fc.oneof(fc.integer({ min: -1, max: 5000 }), fc.anything()),
              blockTimeoutMs: fc.oneof(fc.integer({ min: -5, max: 20_000 }), fc.anything()),
              maxConsumers: fc.oneof(fc.integer({ min: -1, max: 2000 }), fc.anything()),
            },
            { requiredKeys: [] },
          ),
        ),
        (options) => {
          try {
            const ring = RingBuffer.create(options as never)
            expect(ring.write({ type: 'ok' }).ok).toBe(true)
          } catch (e) {
            expect(e).toBeInstanceOf(RingError)
            expect(typeof (e as RingError).code).toBe('string')
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('PipelineManager options and patches', () => {
  let ring: RingBuffer
  let pipeline: PipelineManager
  beforeAll(async () => {
    ring = RingBuffer.create({ size: 1 << 10 })
    pipeline = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1 })
  })
  afterAll(async () => {
    await pipeline.stop()
  })

  const patchArb = fc.dictionary(
    fc.constantFrom('batchSize', 'lingerMs', 'poolSize', 'pollIntervalMs', 'maxRestarts', 'health', 'breaker', 'strategy', 'store', 'nonsense', 'retryBaseMs', 'logBatches'),
    fc.oneof(fc.anything(), fc.integer({ min: -10, max: 5000 }), fc.record({ ringFillDegraded: fc.double(), coolDownMs: fc.integer() }, { requiredKeys: [] })),
    { maxKeys: 3 },
  )

  it('updateConfig takes a valid patch or refuses it with PipelineConfigError, and loses nothing accepted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(patchArb, fc.anything()), async (patch) => {
        const before = pipeline.getState().config
        const accepted = ring.write({ type: 'before-patch' }).ok
        try {
          await pipeline.updateConfig(patch as never)
        } catch (e) {
          expect(e).toBeInstanceOf(PipelineConfigError)
          const after = pipeline.getState().config
          expect(after.version).toBe(before.version)
          expect(after.batchSize).toBe(before.batchSize)
        }
        expect(accepted).toBe(true)
      }),
      { numRuns: 60 },
    )
    // every event accepted so far gets stored
    const report = await pipeline.stop({ timeoutMs: 10_000 })
    expect(report).toMatchObject({ inFlight: 0, balanced: true })
    expect(report.stored).toBe(report.accepted)
  })

  it('start either runs or refuses arbitrary options with a typed error, never crashing', async () => {
    const storeArb = fc.oneof(fc.anything(), fc.constant({ kind: 'memory' }), fc.record({ kind: fc.constantFrom('sqlite', 'memory', 'postgres'), path: fc.anything() }, { requiredKeys: ['kind'] }))
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { store: storeArb, poolSize: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.anything()), preset: fc.oneof(fc.constantFrom('debug', 'throughput'), fc.anything()), batchSize: fc.anything() },
          { requiredKeys: ['store'] },
        ),
        async (options) => {
          const own = RingBuffer.create({ size: 64 })
          try {
            const p = await PipelineManager.start({ ...options, ring: own } as never)
            await p.stop()
          } catch (e) {
            expect(e).toBeInstanceOf(PipelineConfigError)
            expect((e as PipelineConfigError).option.length).toBeGreaterThan(0)
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})
