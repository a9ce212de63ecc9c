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
  ])('%s', (_name, over, expected) => {
    expect(status(over)).toEqual(expected)
  })

  it('gives a reason for every check', () => {
    for (const c of evaluateHealth({ ...base, runningWriters: 1, ringUtilization: 0.9 }).checks) expect(c.reason.length).toBeGreaterThan(5)
    expect(evaluateHealth({ ...base, runningWriters: 1 }).checks[0]!.reason).toMatch(/below target: 1 of 2/)
  })
})
