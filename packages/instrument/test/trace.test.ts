import { describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { instrument, instrumentStats, trace, traceMethods, withCorrelation, InstrumentError, InstrumentOptionError, PID } from '../src/index.js'
import { capture, types, type Ev } from './helpers.js'

describe('trace', () => {
  it('records call then return, nested calls between them, each naming its parent call', () => {
    const { drain } = capture()
    const inner = trace((x: number) => x * 2, { module: 'Shop.Math', name: 'double' })
    const outer = trace((x: number) => inner(x) + 1, { module: 'Shop.Math', name: 'plusOne' })
    expect(outer(20)).toBe(41)
    const ev = drain()
    expect(types(ev)).toEqual(['call:plusOne', 'call:double', 'return:double', 'return:plusOne'])
    const [c1, c2, r2, r1] = ev as [Ev, Ev, Ev, Ev]
    expect(c1).toMatchObject({ module: 'Shop.Math', function: 'plusOne', arity: 1, pid: PID, args: [20], parentId: 0 })
    expect(c2.parentId).toBe(c1.callId)
    expect(r2).toMatchObject({ callId: c2.callId, result: 40 })
    expect(r1).toMatchObject({ callId: c1.callId, result: 41 })
    expect(typeof r1.durationMs).toBe('number')
    expect(c2.correlationId).toBe(c1.correlationId)
  })

  it("stamps a call event with the call's start and its return event with its end: the capture times span durationMs", () => {
    const { ring } = capture()
    const consumer = ring.consumer(1)
    const spin = (ms: number) => {
      const until = performance.now() + ms
      while (performance.now() < until);
    }
    const slow = trace((_order: object) => (spin(5), 1), { module: 'Shop.Clock', name: 'spin' })
    // An argument whose summary takes a while: the call event's time is still the call's start.
    const order = {
      get lines() {
        spin(3)
        return 2
      },
    }
    const before = performance.timeOrigin + performance.now()
    slow(order)
    const [call, ret] = consumer.claim(10)!.records
    expect(call!.event).toMatchObject({ type: 'call', function: 'spin' })
    expect(ret!.event).toMatchObject({ type: 'return', function: 'spin' })
    expect(call!.capturedAt).toBeGreaterThanOrEqual(before)
    // Capture times are epoch milliseconds: a double that large keeps about a quarter of a microsecond.
    expect(ret!.capturedAt - call!.capturedAt).toBeCloseTo((ret!.event as Ev).durationMs as number, 2)
    expect((ret!.event as Ev).durationMs as number).toBeGreaterThanOrEqual(5)
  })

  it('gives an error leaving several traced calls the same description in each exception event, and describes it anew once its message changed', () => {
    const { drain } = capture()
    const err = new TypeError('no such cart')
    const inner = trace(() => {
      throw err
    }, { module: 'Shop.Cart', name: 'find' })
    const middle = trace(() => inner(), { module: 'Shop.Cart', name: 'load' })
    const outer = trace(() => {
      try {
        middle()
      } catch (e) {
        ;(e as Error).message = `checkout: ${(e as Error).message}`
        throw e
      }
    }, { module: 'Shop.Cart', name: 'checkout' })
    expect(() => outer()).toThrow(err)
    const ex = drain().filter((e) => e.type === 'exception')
    expect(ex.map((e) => e.function)).toEqual(['find', 'load', 'checkout'])
    const [find, load, checkout] = ex.map((e) => e.error as { name: string; message: string; stack: string })
    expect(load).toEqual(find)
    expect(find).toMatchObject({ name: 'TypeError', message: 'no such cart' })
    expect(find!.stack).toMatch(/^at /)
    expect(checkout).toEqual({ ...find, message: 'checkout: no such cart' })
  })

  it('records an exception with its name, message and stack head, and rethrows the same error', () => {
    const { drain } = capture()
    const boom = new RangeError('out of stock')
    const f = trace(() => {
      throw boom
    }, { module: 'Shop.Cart', name: 'reserve' })
    let caught: unknown
    try {
      f()
    } catch (e) {
      caught = e
    }
    expect(caught).toBe(boom)
    const [call, ex] = drain() as [Ev, Ev]
    expect(call.type).toBe('call')
    expect(ex).toMatchObject({ type: 'exception', callId: call.callId, error: { name: 'RangeError', message: 'out of stock' } })
    expect((ex.error as { stack: string }).stack).toMatch(/^at /)
  })

  it('records an async function when its promise settles, and keeps the parent across await', async () => {
    const { drain } = capture()
    const child = trace((n: number) => n + 1, { module: 'M', name: 'child' })
    const parent = trace(async (n: number) => {
      await new Promise((r) => setTimeout(r, 5))
      return child(n)
    }, { module: 'M', name: 'parent' })
    const p = parent(1)
    expect(types(drain())).toEqual(['call:parent'])
    expect(await p).toBe(2)
    const ev = drain()
    expect(types(ev)).toEqual(['call:child', 'return:child', 'return:parent'])
    expect(ev[2]!.result).toBe(2)
    expect(ev[0]!.parentId).toBe(ev[2]!.callId)
  })

  it('records a rejected promise as an exception and leaves the rejection to the caller', async () => {
    const { drain } = capture()
    const f = trace(async () => {
      throw new TypeError('bad sku')
    }, { module: 'M', name: 'f' })
    await expect(f()).rejects.toThrow('bad sku')
    expect(types(drain())).toEqual(['call:f', 'exception:f'])
  })

  it('records a generator from its first next() to its end, with its return value', () => {
    const { drain } = capture()
    const gen = trace(function* count(n: number) {
      for (let i = 0; i < n; i++) yield i
      return 'done'
    }, { module: 'M' })
    const it = gen(3)
    expect(drain()).toEqual([])
    expect([...it]).toEqual([0, 1, 2])
    const ev = drain()
    expect(types(ev)).toEqual(['call:count', 'return:count'])
    expect(ev[1]!.result).toBe('done')
  })

  it('records an async generator when it finishes', async () => {
    const { drain } = capture()
    const gen = trace(async function* pages() {
      yield 1
      yield 2
    }, { module: 'M' })
    const seen: number[] = []
    for await (const x of gen()) seen.push(x)
    expect(seen).toEqual([1, 2])
    expect(types(drain())).toEqual(['call:pages', 'return:pages'])
  })

  it('keeps this, name, length and new', () => {
    capture()
    function Point(this: { x: number }, x: number, _y: number) {
      this.x = x
    }
    const P = trace(Point as unknown as (x: number, y: number) => void, { module: 'M' })
    expect(P.name).toBe('Point')
    expect(P.length).toBe(2)
    const p = new (P as unknown as new (x: number, y: number) => { x: number })(3, 4)
    expect(p.x).toBe(3)
    expect(p).toBeInstanceOf(Point)
    const obj = { k: 7, get: trace(function (this: { k: number }) { return this.k }, { module: 'M', name: 'get' }) }
    expect(obj.get()).toBe(7)
  })

  it('refuses a non-function with InstrumentError not_a_function and options without a module with invalid_option', () => {
    expect(() => trace(42 as never, { module: 'M' })).toThrow(InstrumentError)
    try {
      trace(42 as never, { module: 'M' })
    } catch (e) {
      expect((e as InstrumentError).code).toBe('not_a_function')
    }
    expect(() => trace(() => 1, {} as never)).toThrow(InstrumentOptionError)
  })

  it('writes to the ring given in its options', () => {
    capture()
    const own = RingBuffer.create({ size: 16, maxEventBytes: 1024 })
    trace(() => 1, { module: 'M', name: 'own', ring: own })()
    expect(own.stats().totalWrites).toBe(2)
  })
})

describe('traceMethods', () => {
  it('traces the prototype and static methods of a class, with this intact', () => {
    const { drain } = capture()
    class Cart {
      items: string[] = []
      add(sku: string) {
        this.items.push(sku)
        return this.items.length
      }
      static empty() {
        return new Cart()
      }
      get size() {
        return this.items.length
      }
    }
    traceMethods(Cart, { module: 'Shop.Cart' })
    const c = Cart.empty()
    expect(c.add('tea')).toBe(1)
    expect(c.size).toBe(1)
    expect(types(drain())).toEqual(['call:empty', 'return:empty', 'call:add', 'return:add'])
  })

  it('traces the methods of a plain object', () => {
    const { drain } = capture()
    const api = traceMethods({ ping: () => 'pong', n: 1 }, { module: 'Api' })
    expect(api.ping()).toBe('pong')
    expect(types(drain())).toEqual(['call:ping', 'return:ping'])
  })
})

describe('capture never breaks the application', () => {
  it('a full ring refuses events, counts them, and the traced calls still return their values', () => {
    const { ring } = capture({ size: 4 })
    const f = trace((x: number) => x + 1, { module: 'M', name: 'f' })
    let sum = 0
    for (let i = 0; i < 100; i++) sum += f(i)
    expect(sum).toBe(5050)
    expect(ring.stats().totalWrites).toBe(4)
    const s = instrumentStats()
    expect(s.rejected.full).toBe(196)
    expect(s.accepted + (s.rejected.full ?? 0)).toBe(s.attempted)
  })

  it('an argument that cannot be summarised (a throwing Proxy) is counted and the call goes on', () => {
    const { drain } = capture()
    const hostile = new Proxy({}, { ownKeys() { throw new Error('no keys') }, getPrototypeOf() { throw new Error('no proto') } })
    const f = trace((o: object) => typeof o, { module: 'M', name: 'f' })
    expect(f(hostile)).toBe('object')
    expect(drain()[0]!.args).toBe('[unsummarisable]')
    expect(instrumentStats().summaryErrors).toBeGreaterThan(0)
  })

  it('an event too large for the ring is written again with its summary replaced by a marker', () => {
    const { drain } = capture({ maxEventBytes: 256 })
    instrument({ summary: { maxBytes: 100_000, maxStringLength: 100_000 } })
    const f = trace((s: string) => s.length, { module: 'M', name: 'f' })
    expect(f('x'.repeat(5000))).toBe(5000)
    const [call] = drain() as [Ev]
    expect(call.args).toBe('[too large]')
    expect(instrumentStats().truncated).toBe(1)
    instrument({ summary: { maxBytes: 256, maxStringLength: 120 } })
  })

  it('with no ring set, calls are counted as noRing and run as usual', () => {
    capture()
    const f = trace(() => 5, { module: 'M', name: 'f' })
    const rt = (globalThis as Record<symbol, { ring: unknown }>)[Symbol.for('ringside.instrument')]!
    const saved = rt.ring
    rt.ring = undefined
    try {
      expect(f()).toBe(5)
      expect(instrumentStats().noRing).toBe(2)
    } finally {
      rt.ring = saved
    }
  })
})

describe('sampling', () => {
  it('records 1 call in N per function, counts the rest, and always records exceptions', () => {
    const { drain } = capture()
    instrument({ sampleEvery: 10 })
    try {
      const f = trace((x: number) => {
        if (x === 55) throw new Error('fifty-five')
        return x
      }, { module: 'M', name: 'f' })
      for (let i = 0; i < 100; i++) {
        try {
          f(i)
        } catch {}
      }
      const ev = drain()
      const s = instrumentStats()
      expect(s.calls).toBe(100)
      expect(s.recorded).toBe(10)
      expect(s.sampledOut).toBe(90)
      const ex = ev.filter((e) => e.type === 'exception')
      expect(ex).toHaveLength(1)
      const lateCall = ev.find((e) => e.type === 'call' && e.callId === ex[0]!.callId)
      expect(lateCall).toMatchObject({ late: true, args: [55] })
    } finally {
      instrument({ sampleEvery: 1 })
    }
  })

  it('caps the calls recorded per function per second and counts the rest as rateLimited', () => {
    const { drain } = capture()
    instrument({ maxCallsPerSecond: 5 })
    try {
      const f = trace(() => 1, { module: 'M', name: 'f' })
      for (let i = 0; i < 50; i++) f()
      const s = instrumentStats()
      expect(s.recorded + s.rateLimited).toBe(50)
      expect(s.recorded).toBeGreaterThanOrEqual(5)
      expect(s.recorded).toBeLessThan(50)
      expect(drain().filter((e) => e.type === 'call')).toHaveLength(s.recorded)
    } finally {
      instrument({ maxCallsPerSecond: 0 })
    }
  })
})

describe('withCorrelation', () => {
  it('gives every event inside, across await and timers, the same correlation id', async () => {
    const { drain } = capture()
    const step = trace((n: number) => n, { module: 'M', name: 'step' })
    await withCorrelation('order-42', async () => {
      step(1)
      await new Promise((r) => setTimeout(r, 2))
      step(2)
      await new Promise<void>((r) => setTimeout(() => (step(3), r()), 2))
    })
    step(4)
    const ev = drain()
    const corr = ev.filter((e) => e.type === 'call').map((e) => e.correlationId)
    expect(corr.slice(0, 3)).toEqual(['order-42', 'order-42', 'order-42'])
    expect(corr[3]).not.toBe('order-42')
  })

  it('gives each root call outside any scope its own correlation id, shared by its children', () => {
    const { drain } = capture()
    const inner = trace(() => 1, { module: 'M', name: 'inner' })
    const outer = trace(() => inner(), { module: 'M', name: 'outer' })
    outer()
    outer()
    const calls = drain().filter((e) => e.type === 'call')
    expect(calls[0]!.correlationId).toBe(calls[1]!.correlationId)
    expect(calls[2]!.correlationId).not.toBe(calls[0]!.correlationId)
  })
})
