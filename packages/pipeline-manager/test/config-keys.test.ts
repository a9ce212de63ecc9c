import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { BREAKER_KEYS, HEALTH_KEYS, HTTP_KEYS, LIVE_KEYS, OPTION_KEYS, START_ONLY_KEYS, WRITER_KEYS, applyPatch, resolveOptions } from '../src/config.js'
import { PipelineConfigError } from '../src/errors.js'
import { PipelineManager } from '../src/pipeline-manager.js'

// Option keys are checked as own keys against one explicit list per group, so names every object
// inherits (constructor, toString, __proto__ ...) are unknown options, and a start-only option is
// told apart from a name that is no option at all. Through resolveOptions/applyPatch, and through
// a running PipelineManager.

const store = { kind: 'memory' as const }
const INHERITED = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'isPrototypeOf', '__defineGetter__']

/** `{ [key]: value }` with `key` an own property, even for `__proto__`. */
const own = (key: string, value: unknown): Record<string, unknown> => JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`) as Record<string, unknown>

const refusal = async (f: () => unknown): Promise<string> => {
  try {
    await f()
  } catch (e) {
    expect(e).toBeInstanceOf(PipelineConfigError)
    return `${(e as PipelineConfigError).code}:${(e as PipelineConfigError).option}`
  }
  return 'accepted'
}

describe('option key lists', () => {
  it('name every option once, each either live or start-only', () => {
    expect(new Set(OPTION_KEYS).size).toBe(OPTION_KEYS.length)
    for (const k of OPTION_KEYS) expect(LIVE_KEYS.has(k) !== (START_ONLY_KEYS as readonly string[]).includes(k), k).toBe(true)
    for (const k of [...WRITER_KEYS, 'breaker', 'health', 'poolSize', 'stages', 'retry']) expect(LIVE_KEYS.has(k), k).toBe(true)
    for (const k of ['ring', 'store', 'logger', 'http', 'journal', 'preset', 'strategy']) expect(START_ONLY_KEYS, k).toContain(k)
    expect(BREAKER_KEYS).toEqual(['failureRateThreshold', 'minRequests', 'windowMs', 'coolDownMs', 'probeLeaseMs'])
    expect(HEALTH_KEYS).toHaveLength(6)
    expect(HTTP_KEYS).toContain('maxEventsPerRequest')
  })
})

describe('resolveOptions', () => {
  const ring = RingBuffer.create({ size: 16 })

  it.each(INHERITED)('refuses the inherited name %s as an unknown option at every level', async (key) => {
    expect(await refusal(() => resolveOptions({ ring, store, ...own(key, 1) }))).toBe(`invalid_option:${key}`)
    for (const group of ['breaker', 'health', 'http', 'journal']) {
      expect(await refusal(() => resolveOptions({ ring, store, ...own(group, own(key, 1)) })), group).toBe(`invalid_option:${group}.${key}`)
    }
  })

  it('reads only own properties: an option on the prototype of the options is ignored', async () => {
    const { config } = resolveOptions(Object.assign(Object.create({ batchSize: 7, breaker: { minRequests: 99 } }) as object, { ring, store }))
    expect(config.batchSize).not.toBe(7)
    expect(config.breaker.minRequests).not.toBe(99)
  })
})

describe('applyPatch', () => {
  const { config } = resolveOptions({ ring: RingBuffer.create({ size: 16 }), store })

  it.each(INHERITED)('refuses the inherited name %s as an unknown option, top level and nested', async (key) => {
    expect(await refusal(() => applyPatch(config, own(key, 1)))).toBe(`invalid_option:${key}`)
    expect(await refusal(() => applyPatch(config, own('breaker', own(key, 5))))).toBe(`invalid_option:breaker.${key}`)
    expect(await refusal(() => applyPatch(config, own('health', own(key, 0.5))))).toBe(`invalid_option:health.${key}`)
  })

  it.each(['ring', 'store', 'logger', 'http', 'journal', 'preset', 'strategy', 'maxPoolSize', 'abandonAfterMs'])(
    'refuses the start-only option %s as not_live',
    async (key) => {
      expect(await refusal(() => applyPatch(config, { [key]: {} }))).toBe(`not_live:${key}`)
    },
  )

  it.each(['nonsense', 'Store', 'batchsize', 'http.port', ''])('refuses %j, which is no option at all, as invalid_option', async (key) => {
    expect(await refusal(() => applyPatch(config, { [key]: 1 }))).toBe(`invalid_option:${key}`)
  })

  it('throws only PipelineConfigError with a code and an option path, whatever the patch', () => {
    const keys = fc.constantFrom(...OPTION_KEYS, ...INHERITED, 'nonsense')
    const patch = fc.oneof(
      fc.anything({ withNullPrototype: true, withBoxedValues: true }),
      fc.dictionary(keys, fc.oneof(fc.anything(), fc.dictionary(fc.oneof(keys, fc.constantFrom(...BREAKER_KEYS, ...HEALTH_KEYS)), fc.anything())), { maxKeys: 3 }),
    )
    fc.assert(
      fc.property(patch, (p) => {
        try {
          applyPatch(config, p)
        } catch (e) {
          expect(e).toBeInstanceOf(PipelineConfigError)
          expect(['invalid_option', 'not_live']).toContain((e as PipelineConfigError).code)
          expect(typeof (e as PipelineConfigError).option).toBe('string')
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('PipelineManager', () => {
  let p: PipelineManager
  beforeAll(async () => {
    p = await PipelineManager.start({ ring: RingBuffer.create({ size: 64 }), store, poolSize: 1 })
  })
  afterAll(async () => {
    await p?.stop({ timeoutMs: 2_000 })
  })

  it.each([
    [{ breaker: { constructor: 5, toString: 1 } }, 'invalid_option:breaker.constructor'],
    [{ health: { hasOwnProperty: 0.5 } }, 'invalid_option:health.hasOwnProperty'],
    [own('__proto__', { batchSize: 7 }), 'invalid_option:__proto__'],
    [{ constructor: 1 }, 'invalid_option:constructor'],
  ])('start refuses %j as an unknown option', async (extra, expected) => {
    const ring = RingBuffer.create({ size: 16 })
    expect(await refusal(() => PipelineManager.start({ ring, store, poolSize: 1, ...extra } as never))).toBe(expected)
    expect(ring.closed).toBe(false)
  })

  it.each([
    [{ breaker: { constructor: 5, toString: 1 } }, 'invalid_option:breaker.constructor'],
    [{ health: { hasOwnProperty: 0.5 } }, 'invalid_option:health.hasOwnProperty'],
    [own('__proto__', { batchSize: 7 }), 'invalid_option:__proto__'],
    [{ store }, 'not_live:store'],
    [{ ring: RingBuffer.create({ size: 16 }) }, 'not_live:ring'],
    [{ logger: console }, 'not_live:logger'],
    [{ journal: { path: 'x.journal' } }, 'not_live:journal'],
    [{ http: {} }, 'not_live:http'],
    [{ colour: 'red' }, 'invalid_option:colour'],
  ])('updateConfig refuses %j and keeps the config and its version', async (patch, expected) => {
    const before = p.getState().config
    expect(await refusal(() => p.updateConfig(patch as never))).toBe(expected)
    const after = p.getState().config
    expect(after).toEqual(before)
    expect(Object.keys(after.breaker)).toEqual([...BREAKER_KEYS])
    expect(Object.keys(after.health)).toEqual([...HEALTH_KEYS])
  })
})
