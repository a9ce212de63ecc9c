import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parallel, retryLater, when, withTimeout, type Stage, type StageSpec } from '../src/index.js'
import { RecordingStore, recordingStage, runStages } from '../src/testing.js'

// The stage combinators, in code and in spec form, through the harness (the writer's own chain).

const fixture = fileURLToPath(new URL('./fixtures/compose-stages.ts', import.meta.url))
const set = (field: string, value: unknown): Stage => ({ name: `set-${field}`, process: (e) => ({ ...e, [field]: value }) })

describe('when', () => {
  it('runs the stage only on events the predicate accepts; the others pass unchanged', async () => {
    const r = await runStages([when((e) => e.type === 'call', set('seen', true))], [{ type: 'call' }, { type: 'msg' }])
    expect(r.stored.map((s) => s.event.seen)).toEqual([true, undefined])
  })

  it('fails the event (stage_error) when the predicate throws', async () => {
    const r = await runStages([when(() => { throw new Error('bad predicate') }, set('seen', true))], [{ type: 'call' }])
    expect(r.stored).toEqual([])
    expect(r.deadLetters).toMatchObject([{ reason: 'stage_error', error: expect.stringContaining('bad predicate') }])
  })
})

describe('parallel', () => {
  it('merges each branch\'s patch in list order, the later branch winning a conflict', async () => {
    const a: Stage = { process: (e) => ({ ...e, a: 1, shared: 'a' }) }
    const b: Stage = { process: (e) => ({ ...e, b: 2, shared: 'b' }) }
    const r = await runStages([parallel([a, b])], [{ type: 'call', keep: true }])
    expect(r.stored[0]!.event).toMatchObject({ type: 'call', keep: true, a: 1, b: 2, shared: 'b' })
  })

  it('gives each branch its own copy, so one branch\'s change is not seen by another', async () => {
    const seen: unknown[] = []
    const a: Stage = { process: (e) => { e.x = 'a'; return e } }
    const b: Stage = { process: async (e) => { await new Promise((r) => setTimeout(r, 5)); seen.push(e.x); return e } }
    const r = await runStages([parallel([a, b])], [{ type: 'call' }])
    expect(seen).toEqual([undefined])
    expect(r.stored[0]!.event.x).toBe('a')
  })

  it('applies a field a branch deletes', async () => {
    const del: Stage = { process: (e) => { const { secret: _, ...rest } = e; return rest } }
    const r = await runStages([parallel([del, set('y', 1)])], [{ type: 'call', secret: 's' }])
    expect(r.stored[0]!.event).not.toHaveProperty('secret')
    expect(r.stored[0]!.event.y).toBe(1)
  })

  it('drops the event when a branch drops it, and fails it when a branch throws', async () => {
    const drop: Stage = { process: () => null }
    const boom: Stage = { name: 'boom', process: () => { throw new Error('boom') } }
    const dropped = await runStages([parallel([set('y', 1), drop])], [{ type: 'call' }])
    expect(dropped).toMatchObject({ stored: [], filtered: 1 })
    const failed = await runStages([parallel([drop, boom])], [{ type: 'call' }])
    expect(failed.deadLetters).toMatchObject([{ reason: 'stage_error', error: expect.stringContaining('boom') }])
  })
})

describe('withTimeout', () => {
  it('fails an event whose stage does not settle in time (stage_error, StageTimeoutError) and lets the others through', async () => {
    const maybeHang: Stage = { name: 'maybe-hang', process: (e) => (e.hang ? new Promise<never>(() => {}) : e) }
    const r = await runStages([withTimeout(maybeHang, 50)], [{ type: 'a' }, { type: 'b', hang: true }, { type: 'c' }])
    expect(r.stored.map((s) => s.event.type)).toEqual(['a', 'c'])
    expect(r.deadLetters).toMatchObject([{ reason: 'stage_error', error: expect.stringMatching(/StageTimeoutError: stage maybe-hang did not settle within 50 ms/) }])
  })
})

describe('retryLater', () => {
  it('brings an event back to the stage that put it off, and accounts for it once', async () => {
    let calls = 0
    const flaky: Stage = { process: (e) => (++calls === 1 ? retryLater({ delayMs: 10 }) : { ...e, ok: true }) }
    const before = set('before', 1)
    let beforeCalls = 0
    const counting: Stage = { process: (e) => { beforeCalls++; return before.process(e, { key: '', writerId: '' }) } }
    const r = await runStages([counting, flaky], [{ type: 'call' }])
    expect(r.stored).toHaveLength(1)
    expect(r.stored[0]!.event).toMatchObject({ before: 1, ok: true })
    expect(beforeCalls).toBe(1) // earlier stages are not run again
    expect(r).toMatchObject({ deadLetters: [], filtered: 0, retriedLater: 1 })
  })

  it('dead-letters an event (stage_error) asked to retry once more than maxTimes', async () => {
    const never: Stage = { name: 'never', process: () => retryLater({ delayMs: 1, maxTimes: 2, reason: 'backend down' }) }
    const r = await runStages([never], [{ type: 'call' }, { type: 'call' }])
    expect(r.stored).toEqual([])
    expect(r.retriedLater).toBe(4)
    expect(r.deadLetters).toHaveLength(2)
    expect(r.deadLetters[0]).toMatchObject({ reason: 'stage_error', attempts: 3, error: 'stage never: asked to retry later more than 2 times (backend down)' })
  })

  it('refuses a malformed delay or count', () => {
    expect(() => retryLater({ delayMs: -1 })).toThrow(RangeError)
    expect(() => retryLater({ maxTimes: 1.5 })).toThrow(RangeError)
  })
})

describe('stage specs', () => {
  it('express when, parallel, timeoutMs and named exports, with the same semantics as in code', async () => {
    const specs: StageSpec[] = [
      { when: { target: fixture, options: { type: 'call' } }, stage: { target: fixture, options: { field: 'call', value: true } } },
      { parallel: [{ target: fixture, options: { field: 'p', value: 'a' } }, { target: fixture, options: { field: 'p', value: 'b' } }] },
      { when: { target: fixture, options: { type: 'slow' } }, stage: { target: fixture, export: 'hang' }, timeoutMs: 50 },
    ]
    const r = await runStages(specs, [{ type: 'call' }, { type: 'msg' }, { type: 'slow' }])
    expect(r.stored.map((s) => [s.event.type, s.event.call, s.event.p])).toEqual([['call', true, 'b'], ['msg', undefined, 'b']])
    expect(r.deadLetters).toMatchObject([{ reason: 'stage_error', error: expect.stringContaining('did not settle within 50 ms') }])
  })

  it('puts an event off from a spec-named stage and settles it', async () => {
    const r = await runStages([{ target: fixture, export: 'flaky', options: { times: 2, delayMs: 5 } }], [{ type: 'call' }])
    expect(r).toMatchObject({ retriedLater: 2, deadLetters: [], filtered: 0 })
    expect(r.stored[0]!.event.settled).toBe(3)
  })

  it('refuses a spec whose export is missing or not a function, naming its place', async () => {
    await expect(runStages([{ parallel: [{ target: fixture, export: 'nope' }] }], [])).rejects.toMatchObject({ code: 'stage_load_failed', stage: 0, message: expect.stringContaining("stages[0].parallel[0]") })
    await expect(runStages([{ target: fixture, options: { field: 'f', value: 1 } }, { target: fixture, export: 'notAFunction' }], [])).rejects.toMatchObject({ code: 'stage_load_failed', stage: 1 })
  })
})

describe('runStages', () => {
  it('puts each event in one bucket and stores the outcome in a recording store', async () => {
    const store = new RecordingStore()
    const stages: Stage[] = [{ name: 'drop-or-boom', process: (e) => (e.drop ? null : e.boom ? Promise.reject(new Error('no')) : e) }]
    const r = await runStages(stages, [{ type: 'a' }, { type: 'b', drop: true }, { type: 'c', boom: true }, { nope: 1 }], { store })
    expect(r.stored.map((s) => s.event.type)).toEqual(['a'])
    expect(r.filtered).toBe(1)
    expect(r.deadLetters.map((d) => d.reason)).toEqual(['stage_error', 'invalid_event'])
    expect(store.eventBatches).toHaveLength(1)
    expect(store.events.map((e) => e.key)).toEqual(['harness:0'])
    expect(store.deadLetters.map((d) => d.record.key)).toEqual(['harness:2', 'harness:3'])
    expect((await store.stats()).totalEvents).toBe(1)
  })

  it('enriches as a writer does and leaves the caller\'s events untouched', async () => {
    const input = { type: 'call' }
    const r = await runStages([], [input], { writerId: 'w-test' })
    expect(r.stored[0]!.event).toMatchObject({ type: 'call', writerId: 'w-test', processingOrder: 0, correlationId: 'harness:0' })
    expect(input).toEqual({ type: 'call' })
  })
})

describe('the README example', () => {
  it('runs as the README says', async () => {
    const geo: Stage = { name: 'geo', process: (e) => ({ ...e, country: 'FI' }) }
    const user: Stage = { name: 'user', process: (e) => (e.userId ? { ...e, plan: 'pro' } : retryLater({ delayMs: 5, maxTimes: 1 })) }
    const r = await runStages([when((e) => e.type === 'request', parallel([geo, user]))], [{ type: 'request', userId: 7 }, { type: 'request' }, { type: 'call' }])
    expect(r.stored.map((s) => s.event.plan)).toEqual(['pro', undefined])
    expect(r.stored[0]!.event.country).toBe('FI')
    expect(r.deadLetters[0]?.reason).toBe('stage_error')
    expect(r.store.events.length).toBe(2)
  })
})

describe('recordingStage', () => {
  it('keeps a copy of each event it is given and answers as told', async () => {
    const spy = recordingStage('spy')
    const dropCalls = recordingStage('drop-calls', (e) => (e.type === 'call' ? null : e))
    const r = await runStages([spy, dropCalls], [{ type: 'call' }, { type: 'msg' }])
    expect(spy.seen.map((e) => e.type)).toEqual(['call', 'msg'])
    expect(dropCalls.seen).toHaveLength(2)
    expect(r).toMatchObject({ filtered: 1 })
    expect(r.stored.map((s) => s.event.type)).toEqual(['msg'])
  })
})
