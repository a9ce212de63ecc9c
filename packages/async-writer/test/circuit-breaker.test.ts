import { describe, expect, it } from 'vitest'
import { BREAKER_DEFAULTS, SharedBreaker, createBreakerBuffer, nextBreakerState, probeDecision, type ProbeView } from '../src/protocol.js'

const cfg = { failureRateThreshold: 0.5, minRequests: 4, windowMs: 10_000, coolDownMs: 1_000, probeLeaseMs: 5_000 }

describe('nextBreakerState', () => {
  it.each([
    ['closed', { successes: 10, failures: 9 }, 0, 0, 'closed'],
    ['closed', { successes: 1, failures: 2 }, 0, 0, 'closed'], // too few attempts to trust the rate
    ['closed', { successes: 2, failures: 2 }, 0, 0, 'open'],
    ['closed', { successes: 0, failures: 4 }, 0, 0, 'open'],
    ['open', { successes: 0, failures: 0 }, 5_000, 5_500, 'open'],
    ['open', { successes: 0, failures: 0 }, 5_000, 6_000, 'half_open'],
    ['half_open', { successes: 0, failures: 0 }, 0, 99_999, 'half_open'],
  ] as const)('%s with %j (opened at %i, now %i) becomes %s', (state, window, openedAt, now, expected) => {
    expect(nextBreakerState(state, window, cfg, openedAt, now)).toBe(expected)
  })
})

describe('probeDecision', () => {
  const view = (v: Partial<ProbeView>): ProbeView => ({ state: 'half_open', prober: undefined, taking: false, probeSince: 0, openedAt: 0, ...v })
  it.each([
    ['closed', view({ state: 'closed' }), 1, 0, 'store'],
    ['open within the cool-down', view({ state: 'open', openedAt: 5_000 }), 1, 5_999, 'wait'],
    ['open after the cool-down', view({ state: 'open', openedAt: 5_000 }), 1, 6_000, 'take_probe'],
    ['half-open, held by this writer', view({ prober: 1, probeSince: 6_000 }), 1, 6_001, 'store'],
    ['half-open, held by another, lease running', view({ prober: 0, probeSince: 6_000 }), 1, 10_999, 'wait'],
    ['half-open, held by another, lease expired', view({ prober: 0, probeSince: 6_000 }), 1, 11_000, 'take_probe'],
    ['half-open, held by nobody', view({ prober: undefined }), 1, 6_001, 'take_probe'],
    ['half-open, being taken (lease start not written yet)', view({ prober: 0, taking: true, probeSince: 0 }), 1, 99_999, 'wait'],
  ] as const)('%s: %s', (_what, v, writer, now, expected) => {
    expect(probeDecision(v, writer, cfg, now)).toBe(expected)
  })
})

describe('SharedBreaker', () => {
  it('opens on the failure rate, lets one probe through after the cool-down, and closes on its success', () => {
    const a = new SharedBreaker(createBreakerBuffer(cfg))
    const t = 1_000_000
    for (let k = 0; k < 3; k++) a.record(k === 0, 0, t)
    expect(a.state).toBe('closed')
    a.record(false, 1, t)
    expect(a.state).toBe('open')
    expect(a.trips).toBe(1)
    expect(a.allow(0, t + 500)).toBe(false)
    expect(a.allow(1, t + 1_000)).toBe(true) // writer 1 becomes the probe
    expect(a.state).toBe('half_open')
    expect(a.allow(0, t + 1_001)).toBe(false)
    expect(a.allow(1, t + 1_001)).toBe(true)
    a.record(true, 1, t + 1_002)
    expect(a.state).toBe('closed')
    expect(a.window(t + 1_002)).toEqual({ successes: 0, failures: 0 })
    expect(a.trips).toBe(1)
  })

  it('opens again when the probe fails, and when the probe dies without a verdict', () => {
    const sab = createBreakerBuffer(cfg)
    const br = new SharedBreaker(sab)
    const other = new SharedBreaker(sab) // another thread's view of the same memory
    const t = 2_000_000
    for (let k = 0; k < 4; k++) br.record(false, 0, t)
    expect(other.state).toBe('open')
    expect(other.allow(2, t + 1_000)).toBe(true)
    other.record(false, 2, t + 1_001)
    expect(br.state).toBe('open')
    expect(br.openedAt).toBe(t + 1_001)
    expect(br.allow(3, t + 2_001)).toBe(true)
    br.releaseProbe(3, t + 2_002) // writer 3 crashed while probing
    expect(br.state).toBe('open')
    expect(br.trips).toBe(1)
  })

  it('forgets attempts older than the window', () => {
    const br = new SharedBreaker(createBreakerBuffer(cfg))
    const t = 3_000_000
    for (let k = 0; k < 3; k++) br.record(false, 0, t)
    br.record(false, 0, t + 11_000)
    expect(br.window(t + 11_000)).toEqual({ successes: 0, failures: 1 })
    expect(br.state).toBe('closed')
  })

  it('takes new thresholds live', () => {
    const br = new SharedBreaker(createBreakerBuffer())
    expect(br.config).toEqual(BREAKER_DEFAULTS)
    br.configure({ ...BREAKER_DEFAULTS, minRequests: 1 })
    br.record(false, 0)
    expect(br.state).toBe('open')
  })

  it('never lets the question before claiming take the probe: a writer with nothing to store leaves it to one that has', () => {
    const br = new SharedBreaker(createBreakerBuffer(cfg))
    const t = 4_000_000
    for (let k = 0; k < 4; k++) br.record(false, 1, t)
    expect(br.mayClaim(0, t + 500)).toBe(false) // cooling down: nobody claims
    expect(br.mayClaim(0, t + 1_000)).toBe(true) // may claim, to probe with what it finds...
    expect(br.state).toBe('open') // ...but holds nothing yet
    expect(br.allow(1, t + 1_001)).toBe(true) // writer 1 has a batch in hand: it probes
    expect(br.probe()).toMatchObject({ state: 'half_open', prober: 1, taking: false, probeSince: t + 1_001 })
    expect(br.mayClaim(0, t + 1_002)).toBe(false)
    br.record(true, 1, t + 1_003)
    expect(br.state).toBe('closed')
  })

  it('hands the probe to the next writer that asks with a batch once the lease has expired; the late verdict of the old prober is only counted', () => {
    const br = new SharedBreaker(createBreakerBuffer(cfg))
    const t = 5_000_000
    for (let k = 0; k < 4; k++) br.record(false, 0, t)
    expect(br.allow(0, t + 1_000)).toBe(true) // writer 0 probes, and its call hangs
    expect(br.allow(1, t + 5_999)).toBe(false)
    expect(br.mayClaim(1, t + 6_000)).toBe(true)
    expect(br.allow(1, t + 6_000)).toBe(true)
    expect(br.allow(2, t + 6_001)).toBe(false) // one probe at a time: the lease is writer 1's now
    expect(br.prober).toBe(1)
    br.record(false, 0, t + 6_002) // writer 0's call finally fails: no verdict any more
    expect(br.state).toBe('half_open')
    br.record(true, 1, t + 6_003)
    expect(br.state).toBe('closed')
    expect(br.trips).toBe(1)
  })

  it('lets a released probe be taken again after the cool-down', () => {
    const br = new SharedBreaker(createBreakerBuffer(cfg))
    const t = 6_000_000
    for (let k = 0; k < 4; k++) br.record(false, 0, t)
    expect(br.allow(2, t + 1_000)).toBe(true)
    br.releaseProbe(1, t + 1_001) // not the prober: nothing happens
    expect(br.probe()).toMatchObject({ state: 'half_open', prober: 2 })
    br.releaseProbe(2, t + 1_002)
    expect(br.probe()).toMatchObject({ state: 'open', prober: undefined, openedAt: t + 1_002 })
    expect(br.allow(0, t + 2_002)).toBe(true)
    expect(br.prober).toBe(0)
  })
})
