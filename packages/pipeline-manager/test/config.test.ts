import { describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { applyPatch, DEFAULTS, PRESET_VALUES, resolveOptions } from '../src/config.js'
import { PipelineConfigError } from '../src/errors.js'

const ring = RingBuffer.create({ size: 16 })
const smallRing = RingBuffer.create({ size: 16, maxConsumers: 8 })
const store = { kind: 'memory' as const }

const refused = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(PipelineConfigError)
    return `${(e as PipelineConfigError).code}:${(e as PipelineConfigError).option}`
  }
  return 'accepted'
}

describe('resolveOptions', () => {
  it.each([
    [{ ring: {}, store }, 'invalid_option:ring'],
    [{ ring, store: { kind: 'nope' } }, 'invalid_option:store.kind'],
    [{ ring, store: { kind: 'sqlite' } }, 'invalid_option:store.path'],
    [{ ring, store, poolSize: 0 }, 'invalid_option:poolSize'],
    [{ ring, store, poolSize: 2.5 }, 'invalid_option:poolSize'],
    [{ ring: smallRing, store, maxPoolSize: 9 }, 'invalid_option:maxPoolSize'],
    [{ ring, store, poolSize: 17 }, 'invalid_option:poolSize'],
    [{ ring, store, batchSize: 0 }, 'invalid_option:batchSize'],
    [{ ring, store, lingerMs: -1 }, 'invalid_option:lingerMs'],
    [{ ring, store, preset: 'fast' }, 'invalid_option:preset'],
    [{ ring, store, strategy: 'one_for_some' }, 'invalid_option:strategy'],
    [{ ring, store, restart: 'sometimes' }, 'invalid_option:restart'],
    [{ ring, store, shutdown: 'gently' }, 'invalid_option:shutdown'],
    [{ ring, store, stages: [{ target: '' }] }, 'invalid_option:stages[0].target'],
    [{ ring, store, health: { ringFillDegraded: 2 } }, 'invalid_option:health.ringFillDegraded'],
    [{ ring, store, health: { what: 1 } }, 'invalid_option:health.what'],
    [{ ring, store, retryBaseMs: 100, retryMaxMs: 50 }, 'invalid_option:retryMaxMs'],
    [{ ring, store, logger: 'loud' }, 'invalid_option:logger'],
    [{ ring, store, colour: 'red' }, 'invalid_option:colour'],
  ])('refuses %j naming the option', (options, expected) => {
    expect(refused(() => resolveOptions(options))).toBe(expected)
  })

  it('takes a preset and lets explicit options override it', () => {
    const { config } = resolveOptions({ ring, store, preset: 'throughput', batchSize: 123 })
    expect(config.batchSize).toBe(123)
    expect(config.lingerMs).toBe(PRESET_VALUES.throughput.lingerMs)
    expect(config.poolSize).toBe(PRESET_VALUES.throughput.poolSize)
  })

  it('defaults to the balanced preset and OTP intensity 3 in 5 s', () => {
    const { config } = resolveOptions({ ring, store })
    expect(config).toMatchObject({ preset: 'balanced', maxRestarts: 3, maxSeconds: 5, strategy: 'one_for_one', restart: 'permanent' })
    expect(config.logBatches).toBe(false)
    expect(resolveOptions({ ring, store, preset: 'debug' }).config.logBatches).toBe(true)
  })
})

describe('applyPatch', () => {
  const { config } = resolveOptions({ ring, store })

  it('applies live keys and keeps the rest', () => {
    const next = applyPatch(config, { batchSize: 42, health: { oldestUnstoredMs: 100 } })
    expect(next.batchSize).toBe(42)
    expect(next.health).toEqual({ ...DEFAULTS.health, oldestUnstoredMs: 100 })
    expect(next.lingerMs).toBe(config.lingerMs)
  })

  it.each([
    [{ batchSize: -5 }, 'invalid_option:batchSize'],
    [{ poolSize: 17 }, 'invalid_option:poolSize'],
    [{ strategy: 'one_for_all' }, 'not_live:strategy'],
    [{ store: { kind: 'memory' } }, 'not_live:store'],
    [{ nonsense: true }, 'invalid_option:nonsense'],
    [null, 'invalid_option:patch'],
  ])('refuses %j naming the key', (patch, expected) => {
    expect(refused(() => applyPatch(config, patch))).toBe(expected)
  })
})
