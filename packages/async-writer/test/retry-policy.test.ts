import { describe, expect, it } from 'vitest'
import { backoffCapMs, backoffDelayMs, checkRetryPolicy, effectiveRetry, retryDecision, type RetryPolicy } from '../src/retry-policy.js'
import { WRITER_DEFAULTS, applyWriterPatch } from '../src/config.js'

const policy = (p: Partial<RetryPolicy> = {}): RetryPolicy => ({ baseMs: 100, maxMs: 1_000, multiplier: 2, ...p })
const transient = (code?: string) => Object.assign(new Error('down'), { transient: true, ...(code ? { code } : {}) })

describe('backoffCapMs', () => {
  it.each([
    // attempt, baseMs, maxMs, multiplier, cap
    [1, 100, 1_000, 2, 100],
    [2, 100, 1_000, 2, 200],
    [3, 100, 1_000, 2, 400],
    [4, 100, 1_000, 2, 800],
    [5, 100, 1_000, 2, 1_000],
    [50, 100, 1_000, 2, 1_000],
    [3, 100, 10_000, 3, 900],
    [4, 50, 5_000, 1, 50],
    [10_000, 50, 5_000, 2, 5_000],
    [3, 0, 0, 2, 0],
  ])('grows the cap of attempt %i from baseMs %i by the multiplier up to maxMs (%i, ×%d) to %i', (attempt, baseMs, maxMs, multiplier, cap) => {
    expect(backoffCapMs(attempt, { baseMs, maxMs, multiplier })).toBe(cap)
  })
})

describe('backoffDelayMs', () => {
  it('draws a full-jitter delay in [0, cap)', () => {
    expect(backoffDelayMs(3, policy(), () => 0)).toBe(0)
    expect(backoffDelayMs(3, policy(), () => 0.5)).toBe(200)
    expect(backoffDelayMs(3, policy(), () => 0.999)).toBeCloseTo(399.6)
  })
})

describe('effectiveRetry', () => {
  it('is unlimited doubling from retryBaseMs to retryMaxMs when no policy is set', () => {
    expect(effectiveRetry(WRITER_DEFAULTS)).toEqual({ baseMs: 50, maxMs: 5_000, multiplier: 2 })
    expect(effectiveRetry(WRITER_DEFAULTS).maxAttempts).toBeUndefined()
  })
})

describe('retryDecision', () => {
  it('retries without limit when maxAttempts is absent', () => {
    expect(retryDecision(transient(), 1_000_000, policy())).toEqual({ retry: true })
  })

  it('gives up once the attempts reach maxAttempts', () => {
    expect(retryDecision(transient(), 2, policy({ maxAttempts: 3 }))).toEqual({ retry: true })
    expect(retryDecision(transient(), 3, policy({ maxAttempts: 3 }))).toMatchObject({ retry: false, why: expect.stringContaining('after 3 attempts') })
  })

  it('gives up at once on a code shouldRetry.codes does not list', () => {
    const p = policy({ shouldRetry: { codes: ['busy'] } })
    expect(retryDecision(transient('busy'), 1, p)).toEqual({ retry: true })
    expect(retryDecision(transient('io_error'), 1, p)).toMatchObject({ retry: false, why: expect.stringContaining('io_error') })
    expect(retryDecision(transient(), 1, p)).toMatchObject({ retry: false })
  })

  it('gives up at once on a code shouldRetry.exceptCodes lists, and retries the rest', () => {
    const p = policy({ shouldRetry: { exceptCodes: ['io_error'] } })
    expect(retryDecision(transient('io_error'), 1, p)).toMatchObject({ retry: false })
    expect(retryDecision(transient('busy'), 1, p)).toEqual({ retry: true })
    expect(retryDecision(transient(), 1, p)).toEqual({ retry: true })
  })
})

describe('checkRetryPolicy', () => {
  it.each([
    [null, 'retry must be an object'],
    [{ baseMs: 1, maxMs: 2 }, 'retry.multiplier'],
    [{ baseMs: 10, maxMs: 5, multiplier: 2 }, 'retry.maxMs must be at least'],
    [{ baseMs: 1, maxMs: 2, multiplier: 0.5 }, 'retry.multiplier'],
    [{ baseMs: 1, maxMs: 2, multiplier: 2, maxAttempts: 0 }, 'retry.maxAttempts'],
    [{ baseMs: 1, maxMs: 2, multiplier: 2, shouldRetry: { codes: 'busy' } }, 'retry.shouldRetry.codes'],
    [{ baseMs: 1, maxMs: 2, multiplier: 2, shouldRetry: { codes: [], exceptCodes: [] } }, 'exactly one key'],
    [{ baseMs: 1, maxMs: 2, multiplier: 2, jitter: true }, 'unknown key retry.jitter'],
  ])('refuses %j naming the path', (v, message) => {
    expect(checkRetryPolicy(v)).toContain(message)
  })

  it('takes a well-formed policy, and the writer takes it as a config patch', () => {
    const p = policy({ maxAttempts: 5, shouldRetry: { codes: ['busy'] } })
    expect(checkRetryPolicy(p)).toBeUndefined()
    expect(applyWriterPatch(WRITER_DEFAULTS, { retry: p }).retry).toEqual(p)
    expect(() => applyWriterPatch(WRITER_DEFAULTS, { retry: { ...p, maxMs: 1 } })).toThrow(expect.objectContaining({ code: 'invalid_writer_config', key: 'retry' }))
  })
})
