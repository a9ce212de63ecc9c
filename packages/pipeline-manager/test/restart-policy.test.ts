import { describe, expect, it } from 'vitest'
import { childrenToRestart, registerRestart, restartDelay, shouldRestart, type ExitReason, type RestartType } from '../src/supervisor/restart-policy.js'

describe('shouldRestart', () => {
  it.each<[RestartType, ExitReason, boolean]>([
    ['permanent', 'crash', true],
    ['permanent', 'normal', true],
    ['permanent', 'shutdown', false],
    ['transient', 'crash', true],
    ['transient', 'normal', false],
    ['transient', 'shutdown', false],
    ['temporary', 'crash', false],
    ['temporary', 'normal', false],
    ['temporary', 'shutdown', false],
  ])('restarts a %s child after a %s exit: %s', (restart, reason, expected) => {
    expect(shouldRestart(restart, reason)).toBe(expected)
  })
})

describe('registerRestart', () => {
  it('allows maxRestarts restarts within maxSeconds and refuses the next', () => {
    let h: number[] = []
    const results = [0, 1000, 2000, 3000].map((t) => {
      const r = registerRestart(h, t, 3, 5)
      h = r.history
      return r.exceeded
    })
    expect(results).toEqual([false, false, false, true])
  })

  it('forgets restarts older than maxSeconds (sliding window)', () => {
    const r = registerRestart([0, 1000, 2000], 6500, 3, 5)
    expect(r.exceeded).toBe(false)
    expect(r.history).toEqual([2000, 6500])
  })

  it('with maxRestarts 0 the first restart already exceeds', () => {
    expect(registerRestart([], 0, 0, 5).exceeded).toBe(true)
  })
})

describe('childrenToRestart', () => {
  const order = ['a', 'b', 'c', 'd']
  it.each([
    ['one_for_one', 'b', ['b']],
    ['one_for_all', 'b', ['a', 'b', 'c', 'd']],
    ['rest_for_one', 'b', ['b', 'c', 'd']],
    ['rest_for_one', 'd', ['d']],
  ] as const)('%s restarts the right children when %s fails', (strategy, failed, expected) => {
    expect(childrenToRestart(strategy, order, failed)).toEqual(expected)
  })
})

describe('restartDelay', () => {
  it('grows exponentially with the restarts in the window, within [cap/2, cap] and capped at maxMs', () => {
    expect(restartDelay(1, 20, 2000, 0)).toBe(10)
    expect(restartDelay(1, 20, 2000, 0.999)).toBeCloseTo(19.99, 1)
    expect(restartDelay(3, 20, 2000, 0)).toBe(40)
    expect(restartDelay(20, 20, 2000, 0.5)).toBe(1500)
  })
})
