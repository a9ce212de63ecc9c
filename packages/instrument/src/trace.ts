// Manual capture: `trace(fn)` wraps one function, `traceMethods(obj | Class)` every method of an
// object or class. A wrapper keeps `this`, `name`, `length`, `new`, the prototype and the return
// value; async functions are recorded when their promise settles, generators when they finish.

import { InstrumentError, InstrumentOptionError } from './errors.js'
import type { Site } from './call.js'
import { runtime } from './runtime.js'
import type { RingBuffer } from '@ringside/core-ringbuffer'

/** Options of `trace` and `traceMethods`. */
export interface TraceOptions {
  /** The event's `module`, e.g. `Shop.Cart`. Required. */
  module: string
  /** The event's `function`. Defaults to the function's own `name` (`anonymous` when it has none). */
  name?: string
  /** An `astNodeId` to put on its events (the load hook sets one per function). Defaults to none. */
  astNodeId?: string
  /** Ring of this function's events; sets the default ring too if none is set. Defaults to the one given to `instrument()` or started by the register hook. */
  ring?: RingBuffer
}

type AnyFn = (...args: never[]) => unknown

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor
const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor
const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor
const TRACED = Symbol('ringside.traced')

function checkOptions(o: TraceOptions): void {
  if (typeof o !== 'object' || o === null || typeof o.module !== 'string' || o.module === '') throw new InstrumentOptionError('module', 'trace needs { module: string }')
  if (o.name !== undefined && typeof o.name !== 'string') throw new InstrumentOptionError('name', 'name must be a string')
}

/**
 * Returns a wrapper of `fn` that records a `call` event, then a `return` (with its duration and a
 * summary of the result) or an `exception`. Capture never throws into the caller.
 */
export function trace<F extends AnyFn>(fn: F, options: TraceOptions): F {
  if (typeof fn !== 'function') throw new InstrumentError('not_a_function', `trace expects a function, got ${typeof fn}`)
  checkOptions(options)
  if ((fn as { [TRACED]?: boolean })[TRACED]) return fn
  const rt = runtime()
  if (options.ring !== undefined && rt.ring === undefined) rt.configure({ ring: options.ring })
  const site = rt.site(options.module, options.name ?? (fn.name || 'anonymous'), fn.length, options.astNodeId)
  if (options.ring !== undefined && options.ring !== rt.ring) site.ringOverride(options.ring)
  let wrapped: AnyFn
  if (fn instanceof AsyncFunction) {
    wrapped = function (this: unknown, ...args: unknown[]) {
      return site.a(args, () => Reflect.apply(fn, this, args) as Promise<unknown>)
    }
  } else if (fn instanceof GeneratorFunction || fn instanceof AsyncGeneratorFunction) {
    wrapped = function (this: unknown, ...args: unknown[]) {
      return tracedIterator(site, args, Reflect.apply(fn, this, args) as Iterator<unknown> & AsyncIterator<unknown>)
    }
  } else {
    wrapped = function (this: unknown, ...args: unknown[]) {
      const call = site.c(args, 1)
      try {
        const v = new.target ? Reflect.construct(fn, args, new.target) : Reflect.apply(fn, this, args)
        return call.ra(v)
      } catch (e) {
        call.x(e)
        throw e
      } finally {
        call.f()
      }
    }
  }
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true })
  Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true })
  if (Object.prototype.hasOwnProperty.call(fn, 'prototype')) Object.defineProperty(wrapped, 'prototype', { value: fn.prototype, writable: true })
  Object.defineProperty(wrapped, TRACED, { value: true })
  return wrapped as F
}

/**
 * A generator's call spans from its first `next()` (when its body starts) to its end; the
 * iterator's own `next`, `throw` and `return` are wrapped, so it is the same object as untraced.
 */
function tracedIterator(site: Site, args: unknown[], it: Iterator<unknown> & AsyncIterator<unknown>): unknown {
  let call: ReturnType<Site['c']> | undefined
  const step = (method: 'next' | 'throw' | 'return') => {
    const orig = it[method] as ((v?: unknown) => unknown) | undefined
    if (typeof orig !== 'function') return
    Object.defineProperty(it, method, {
      configurable: true,
      writable: true,
      value(v?: unknown) {
        call ??= site.c(args, 0)
        const c = call
        const finish = (r: IteratorResult<unknown>) => {
          if (r.done) c.r(r.value)
          return r
        }
        let r: unknown
        try {
          r = orig.call(it, v)
        } catch (e) {
          c.x(e)
          throw e
        }
        if (r instanceof Promise) return r.then(finish, (e: unknown) => (c.x(e), Promise.reject(e)))
        return finish(r as IteratorResult<unknown>)
      },
    })
  }
  step('next')
  step('throw')
  step('return')
  return it
}

/**
 * Traces every method of an object, or every prototype and static method of a class, in place
 * (getters, setters and the constructor are left alone). Returns its argument. Function names are
 * the method names.
 */
export function traceMethods<T extends object>(target: T, options: Omit<TraceOptions, 'name' | 'astNodeId'>): T {
  checkOptions(options)
  const targets: object[] = typeof target === 'function' ? [target, (target as { prototype?: object }).prototype ?? {}] : [target]
  for (const t of targets) {
    for (const key of Object.getOwnPropertyNames(t)) {
      if (key === 'constructor' || (typeof target === 'function' && t === target && (key === 'prototype' || key === 'length' || key === 'name'))) continue
      const d = Object.getOwnPropertyDescriptor(t, key)
      if (!d || typeof d.value !== 'function' || !d.configurable) continue
      Object.defineProperty(t, key, { ...d, value: trace(d.value as AnyFn, { ...options, name: key }) })
    }
  }
  return target
}
