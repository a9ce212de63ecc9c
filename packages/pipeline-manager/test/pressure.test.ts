import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { applyPatch, DEFAULTS, resolveOptions } from '../src/config.js'
import { PipelineConfigError } from '../src/errors.js'
import { nextLevel, PRESSURE_DEFAULTS, PressureWatch, stepPressure, strongest, type PressureEvent, type PressureSample } from '../src/pressure.js'

// The pressure rule as a pure function of samples: levels crossed up at once, down only past the
// hysteresis; the strongest of ring fill, an open breaker and writers down drives it.

const LEVELS = [0.5, 0.8, 0.95]
const H = 0.05
const fill = (ringFill: number): PressureSample => ({ ringFill, breakerOpen: false, writersTarget: 2, writersRunning: 2 })

/** Runs the rule over values from level 0; returns the events. */
function run(values: readonly number[], levels = LEVELS, hysteresis = H): PressureEvent[] {
  let level = 0
  const events: PressureEvent[] = []
  for (const v of values) {
    const step = stepPressure(level, fill(v), { levels, hysteresis })
    level = step.level
    if (step.event) events.push(step.event)
  }
  return events
}

const levelsArb = fc
  .uniqueArray(fc.integer({ min: 10, max: 100 }), { minLength: 1, maxLength: 5 })
  .map((xs) => xs.sort((a, b) => a - b).map((x) => x / 100))
const caseArb = levelsArb.chain((levels) =>
  fc.record({
    levels: fc.constant(levels),
    hysteresis: fc.double({ min: 0, max: levels[0]! * 0.9, noNaN: true }),
    values: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }),
  }),
)

describe('nextLevel', () => {
  it.each([
    ['rises to the highest level the value reaches', 0, 0.85, 0.8],
    ['jumps several levels at once', 0, 0.97, 0.95],
    ['stays below the first level', 0, 0.49, 0],
    ['holds a level while the value is within the hysteresis below it', 0.8, 0.76, 0.8],
    ['falls once the value is more than the hysteresis below it', 0.8, 0.74, 0.5],
    ['falls to the highest lower level it is still within the hysteresis of', 0.95, 0.46, 0.5],
    ['falls to 0 below every level', 0.95, 0.1, 0],
  ])('%s', (_rule, current, value, expected) => {
    expect(nextLevel(current, value, LEVELS, H)).toBe(expected)
  })

  it('keeps the level within reach of the value: no level above it is reached, and it is at most the hysteresis above the value', () => {
    fc.assert(
      fc.property(caseArb, ({ levels, hysteresis, values }) => {
        let level = 0
        for (const v of values) {
          level = nextLevel(level, v, levels, hysteresis)
          expect(level === 0 || levels.includes(level)).toBe(true)
          for (const l of levels) if (l > level) expect(v).toBeLessThan(l)
          expect(v).toBeGreaterThanOrEqual(level - hysteresis)
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('stepPressure', () => {
  it('reports every crossing once, rising and falling, and nothing in between', () => {
    const events = run([0.1, 0.55, 0.6, 0.52, 0.82, 0.9, 0.96, 0.99, 0.93, 0.91, 0.7, 0.3, 0.2])
    // Up through each level; held at 0.95 while within 0.05 of it (0.93, 0.91); then down at 0.7
    // to 0.5 (the highest lower level it is within reach of), and to 0 at 0.3.
    expect(events.map((e) => [e.previous, e.level, e.rising, e.value])).toEqual([
      [0, 0.5, true, 0.55],
      [0.5, 0.8, true, 0.82],
      [0.8, 0.95, true, 0.96],
      [0.95, 0.5, false, 0.7],
      [0.5, 0, false, 0.3],
    ])
  })

  it('never reverses direction while the value moves within less than the hysteresis (no flapping)', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 60 }),
        ({ levels, hysteresis }, start, offsets) => {
          if (hysteresis === 0) return
          // Every value after the first sample lies in a band narrower than the hysteresis.
          const lo = Math.max(0, Math.min(start, 1 - hysteresis))
          const band = offsets.map((o) => lo + o * hysteresis)
          let level = nextLevel(0, start, levels, hysteresis)
          const directions: boolean[] = []
          for (const v of band) {
            const step = stepPressure(level, fill(v), { levels, hysteresis })
            level = step.level
            if (step.event) directions.push(step.event.rising)
          }
          expect(new Set(directions).size).toBeLessThanOrEqual(1)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('emits only real crossings: a rise reaches its level, a fall is past the hysteresis of the level it leaves', () => {
    fc.assert(
      fc.property(caseArb, ({ levels, hysteresis, values }) => {
        let level = 0
        for (const v of values) {
          const step = stepPressure(level, fill(v), { levels, hysteresis })
          if (step.event) {
            expect(step.event.previous).toBe(level)
            if (step.event.rising) expect(v).toBeGreaterThanOrEqual(step.event.level)
            else expect(v).toBeLessThan(level - hysteresis)
          } else expect(step.level).toBe(level)
          level = step.level
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('strongest', () => {
  it.each([
    ['the ring fill alone', { ringFill: 0.6, breakerOpen: false, writersTarget: 2, writersRunning: 2 }, { reason: 'ring_fill', value: 0.6 }],
    ['an open breaker counts as full pressure', { ringFill: 0.1, breakerOpen: true, writersTarget: 2, writersRunning: 2 }, { reason: 'store_breaker_open', value: 1 }],
    ['a full ring wins a tie with the breaker', { ringFill: 1, breakerOpen: true, writersTarget: 2, writersRunning: 2 }, { reason: 'ring_fill', value: 1 }],
    ['the share of writers down', { ringFill: 0.2, breakerOpen: false, writersTarget: 4, writersRunning: 1 }, { reason: 'writers_down', value: 0.75 }],
    ['no writers wanted is no pressure', { ringFill: 0, breakerOpen: false, writersTarget: 0, writersRunning: 0 }, { reason: 'ring_fill', value: 0 }],
  ])('%s', (_rule, sample, expected) => {
    expect(strongest(sample as PressureSample)).toEqual(expected)
  })
})

describe('PressureWatch', () => {
  it('samples, keeps the level and reports each crossing to its listener', () => {
    let value = 0
    const events: PressureEvent[] = []
    const watch = new PressureWatch(() => fill(value), (e) => events.push(e), { ...PRESSURE_DEFAULTS, intervalMs: 0 })
    for (const v of [0.2, 0.6, 0.58, 0.99, 0.1]) {
      value = v
      watch.sample()
    }
    expect(events.map((e) => e.level)).toEqual([0.5, 0.95, 0])
    expect(watch.state).toEqual({ level: 0, reason: 'ring_fill', value: 0.1 })
  })
})

describe('pressure option', () => {
  const ring = RingBuffer.create({ size: 16 })
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

  it.each([
    [{ levels: [] }, 'invalid_option:pressure.levels'],
    [{ levels: 0.5 }, 'invalid_option:pressure.levels'],
    [{ levels: [0.5, 0.5] }, 'invalid_option:pressure.levels[1]'],
    [{ levels: [0.8, 0.5] }, 'invalid_option:pressure.levels[1]'],
    [{ levels: [0, 0.5] }, 'invalid_option:pressure.levels[0]'],
    [{ levels: [0.5, 1.2] }, 'invalid_option:pressure.levels[1]'],
    [{ hysteresis: -0.1 }, 'invalid_option:pressure.hysteresis'],
    [{ levels: [0.1], hysteresis: 0.1 }, 'invalid_option:pressure.hysteresis'],
    [{ intervalMs: 5 }, 'invalid_option:pressure.intervalMs'],
    [{ intervalMs: 1.5 }, 'invalid_option:pressure.intervalMs'],
    [{ often: true }, 'invalid_option:pressure.often'],
    [{ levels: [0.3, 0.9], hysteresis: 0.1, intervalMs: 0 }, 'accepted'],
  ])('refuses %j naming the field', (pressure, expected) => {
    expect(refused(() => resolveOptions({ ring, store, pressure }))).toBe(expected)
  })

  it('defaults to levels 0.5, 0.8, 0.95 every 250 ms, and is live', () => {
    const { config } = resolveOptions({ ring, store })
    expect(config.pressure).toEqual({ levels: [0.5, 0.8, 0.95], hysteresis: 0.05, intervalMs: 250 })
    expect(DEFAULTS.pressure).toBe(PRESSURE_DEFAULTS)
    const next = applyPatch(config, { pressure: { levels: [0.9] } })
    expect(next.pressure).toEqual({ levels: [0.9], hysteresis: 0.05, intervalMs: 250 })
  })
})
