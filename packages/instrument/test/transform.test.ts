import { describe, expect, it } from 'vitest'
import { instrumentSource } from '../src/transform.js'
import { capture, types } from './helpers.js'

/** Rewrites a CommonJS body, runs it and returns its exports. */
function load(source: string, module = 'lib/shop.cjs'): Record<string, any> {
  const t = instrumentSource({ source, module, file: `/app/${module}`, format: 'commonjs' })
  if (!t.ok) throw new Error(`not instrumented: ${t.reason} ${t.detail ?? ''}`)
  const m = { exports: {} as Record<string, any> }
  new Function('module', 'exports', t.code)(m, m.exports)
  return m.exports
}

describe('instrumentSource', () => {
  it('wraps declarations, expressions, arrows and methods, each with an astNodeId of file:line:column', () => {
    const { drain } = capture()
    const lib = load(
      [
        'function add(a, b) { return a + b }',
        'const twice = (x) => add(x, x)',
        'const shop = { total(items) { return items.reduce((s, i) => add(s, i), 0) } }',
        'class Cart { constructor() { this.n = 0 } put(k, v = 1) { this.n += v; return this } get size() { return this.n } }',
        'module.exports = { add, twice, shop, Cart }',
      ].join('\n'),
    )
    expect(lib.twice(4)).toBe(8)
    expect(types(drain())).toEqual(['call:twice', 'call:add', 'return:add', 'return:twice'])
    expect(lib.shop.total([1, 2])).toBe(3)
    const ev = drain()
    expect(ev[0]).toMatchObject({ type: 'call', module: 'lib/shop.cjs', function: 'shop.total', arity: 1, astNodeId: 'lib/shop.cjs:3:21' })
    const cart = new lib.Cart().put('tea')
    expect(cart.size).toBe(1)
    const names = types(drain())
    expect(names).toEqual(['call:Cart.constructor', 'return:Cart.constructor', 'call:Cart.put', 'return:Cart.put'])
    expect(lib.add.length).toBe(2)
    expect(lib.add.name).toBe('add')
  })

  it('records exceptions and rethrows them, and records a function that falls off its end as returning undefined', () => {
    const { drain } = capture()
    const lib = load('exports.fail = function fail() { throw new Error("nope") }\nexports.none = function none() { let x = 1 }')
    expect(() => lib.fail()).toThrow('nope')
    expect(lib.none()).toBeUndefined()
    expect(types(drain())).toEqual(['call:fail', 'exception:fail', 'call:none', 'return:none'])
  })

  it('runs an async function in its own context: calls after its awaits are its children', async () => {
    const { drain } = capture()
    const lib = load('async function child(x) { return x + 1 }\nasync function parent(x) { await null; const y = await child(x); return y * 2 }\nmodule.exports = { parent }')
    expect(await lib.parent(1)).toBe(4)
    const ev = drain()
    expect(types(ev)).toEqual(['call:parent', 'call:child', 'return:child', 'return:parent'])
    expect(ev[1]!.parentId).toBe(ev[0]!.callId)
    expect(ev[3]!.result).toBe(4)
  })

  it('keeps a parameter that the body redeclares with var', async () => {
    capture()
    const lib = load('exports.f = async function f(a) { var a; return a }')
    expect(await lib.f(5)).toBe(5)
  })

  it('records generators from their first next() to their end', () => {
    const { drain } = capture()
    const lib = load('exports.g = function* g(n) { for (let i = 0; i < n; i++) yield i; return "end" }')
    expect([...lib.g(2)]).toEqual([0, 1])
    const ev = drain()
    expect(types(ev)).toEqual(['call:g', 'return:g'])
    expect(ev[1]!.result).toBe('end')
  })

  it('keeps expression-bodied arrows returning object literals, and sums up arrow arguments from their parameters', () => {
    const { drain } = capture()
    const lib = load('exports.pair = (a, { b, c }, ...rest) => ({ a, b, c, rest })\nexports.later = async (x) => ({ x })')
    expect(lib.pair(1, { b: 2, c: 3 }, 4, 5)).toEqual({ a: 1, b: 2, c: 3, rest: [4, 5] })
    expect(drain()[0]!.args).toEqual([1, { b: 2, c: 3 }, 4, 5])
    return lib.later(7).then((v: unknown) => expect(v).toEqual({ x: 7 }))
  })

  it('leaves getters, setters and top-level CommonJS returns alone', () => {
    const { drain } = capture()
    const lib = load('const o = { get v() { return 1 }, set v(x) {} }\nexports.o = o\nexports.read = function read() { return o.v }\nreturn')
    expect(lib.o.v).toBe(1)
    expect(drain()).toEqual([])
    expect(lib.read()).toBe(1)
    expect(types(drain())).toEqual(['call:read', 'return:read'])
  })

  it('keeps every line where it was, so stack lines match the original file', () => {
    const source = 'function a() {\n  return 1\n}\n\nconst b = () =>\n  2\n'
    const t = instrumentSource({ source, module: 'x.mjs', file: '/x.mjs', format: 'module' })
    expect(t.ok).toBe(true)
    if (!t.ok) return
    const lines = t.code.split('\n')
    expect(lines[1]).toContain('return __rc.r(1)')
    expect(lines[5]).toContain('2')
    expect(t.code).toMatch(/\/\/# sourceMappingURL=data:application\/json;charset=utf-8;base64,/)
  })

  it('refuses source it cannot parse, and source it already instrumented', () => {
    expect(instrumentSource({ source: 'function (', module: 'x', file: '/x', format: 'module' })).toMatchObject({ ok: false, reason: 'parse_error' })
    const once = instrumentSource({ source: 'function f() {}', module: 'x', file: '/x', format: 'module' })
    if (!once.ok) throw new Error('first pass failed')
    expect(instrumentSource({ source: once.code, module: 'x', file: '/x', format: 'module' })).toMatchObject({ ok: false, reason: 'already_instrumented' })
  })
})
