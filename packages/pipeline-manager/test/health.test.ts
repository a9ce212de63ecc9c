import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../src/config.js'
import { evaluateHealth, type HealthInput } from '../src/health.js'

const base: HealthInput = {
  targetWriters: 2,
  runningWriters: 2,
  restartsInWindow: 0,
  maxRestarts: 3,
  maxSeconds: 5,
  ringUtilization: 0.1,
  oldestUnstoredAgeMs: 10,
  supervisorProblem: undefined,
  thresholds: DEFAULTS.health,
}
const status = (over: Partial<HealthInput>) => {
  const r = evaluateHealth({ ...base, ...over })
  return [r.status, r.checks.filter((c) => c.status !== 'healthy').map((c) => c.name)]
}

describe('evaluateHealth', () => {
  it.each<[string, Partial<HealthInput>, [string, string[]]]>([
    ['all fine', {}, ['healthy', []]],
    ['a writer missing', { runningWriters: 1 }, ['degraded', ['writers']]],
    ['no writer', { runningWriters: 0 }, ['unhealthy', ['writers']]],
    ['restart budget nearly spent', { restartsInWindow: 2 }, ['degraded', ['restart_budget']]],
    ['ring above the fill threshold', { ringUtilization: 0.85 }, ['degraded', ['ring_fill']]],
    ['ring full', { ringUtilization: 1 }, ['unhealthy', ['ring_fill']]],
    ['old unstored events', { oldestUnstoredAgeMs: 6_000 }, ['degraded', ['oldest_unstored']]],
    ['supervisor gave up', { supervisorProblem: 'escalated' }, ['unhealthy', ['supervisor']]],
    ['store answers', { store: { status: 'healthy', reason: 'ok', at: 1_000, intervalMs: 2_000 }, now: 2_000 }, ['healthy', []]],
    ['store lost a replica', { store: { status: 'degraded', reason: '2 of 3', at: 1_000, intervalMs: 2_000 }, now: 2_000 }, ['degraded', ['store']]],
    // The ring absorbs an outage: the pipeline stays ready, degraded.
    ['store unreachable', { store: { status: 'unhealthy', reason: 'no answer', at: 1_000, intervalMs: 2_000 }, now: 2_000 }, ['degraded', ['store']]],
    ['store probe silent for long', { store: { status: 'healthy', reason: 'ok', at: 1_000, intervalMs: 2_000 }, now: 12_000 }, ['degraded', ['store']]],
  ])('%s', (_name, over, expected) => {
    expect(status(over)).toEqual(expected)
  })

  it('says what the store said, and how long a silent probe has been silent', () => {
    const check = (over: Partial<HealthInput>) => evaluateHealth({ ...base, ...over }).checks.find((c) => c.name === 'store')
    expect(check({})).toBeUndefined()
    expect(check({ store: { status: 'unhealthy', reason: 'postgres does not answer', at: 0, intervalMs: 2_000 }, now: 1_000 })!.reason).toBe(
      'store unhealthy: postgres does not answer',
    )
    expect(check({ store: { status: 'healthy', reason: 'ok', at: 0, intervalMs: 5_000 }, now: 14_000 })!.status).toBe('healthy')
    expect(check({ store: { status: 'healthy', reason: 'ok', at: 0, intervalMs: 5_000 }, now: 16_000 })!.reason).toMatch(/not answered for 16 s/)
  })

  it('gives a reason for every check', () => {
    for (const c of evaluateHealth({ ...base, runningWriters: 1, ringUtilization: 0.9 }).checks) expect(c.reason.length).toBeGreaterThan(5)
    expect(evaluateHealth({ ...base, runningWriters: 1 }).checks[0]!.reason).toMatch(/below target: 1 of 2/)
  })
})
