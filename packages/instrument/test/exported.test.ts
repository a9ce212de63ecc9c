import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadRegisterConfig } from '../src/config.js'
import { instrumentSource } from '../src/transform.js'

type Ev = Record<string, unknown>
const FIXTURE = fileURLToPath(new URL('./fixtures/exported-only.mjs', import.meta.url))

function run(): Promise<{ events: Ev[]; results: { esm: unknown[]; cjs: unknown[] } }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [FIXTURE], { timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))))
  })
}

const calls = (events: Ev[], module: string) => events.filter((e) => e.type === 'call' && e.module === module).map((e) => e.function)

describe("installLoadHooks with functions: 'exported'", () => {
  it('traces only the functions an ES module exports (declarations, arrows, export lists, default, class methods), not its helpers and callbacks', async () => {
    const { events, results } = await run()
    expect(results.esm).toEqual([6, 6, 9, 2, 6])
    expect(calls(events, 'shop.mjs')).toEqual(['total', 'price', 'discount', 'Cart.add', 'checkout', 'total'])
    // Each traced call still gets its outcome.
    expect(events.filter((e) => e.module === 'shop.mjs' && e.type === 'return').length).toBe(6)
  })

  it('traces only what a CommonJS module assigns to exports or module.exports, not its helpers and callbacks', async () => {
    const { events, results } = await run()
    expect(results.cjs).toEqual([5, 5, 6])
    expect(calls(events, 'shop.cjs')).toEqual(['total', 'tax', 'vat'])
  })
})

describe('instrumentSource', () => {
  it("leaves a module that exports no function unchanged in 'exported' mode", () => {
    const r = instrumentSource({ source: 'function inner() { return 1 }\nexport const n = inner()', module: 'm.mjs', file: '/m.mjs', format: 'module', functions: 'exported' })
    expect(r).toEqual({ ok: false, reason: 'no_functions' })
  })
})

describe('loadRegisterConfig', () => {
  it('takes functions from RINGSIDE_FUNCTIONS, defaults to all, and names the option when the value is neither', () => {
    expect(loadRegisterConfig({}, '/tmp').functions).toBe('all')
    expect(loadRegisterConfig({ RINGSIDE_FUNCTIONS: 'exported' }, '/tmp').functions).toBe('exported')
    expect(() => loadRegisterConfig({ RINGSIDE_FUNCTIONS: 'some' }, '/tmp')).toThrow(expect.objectContaining({ code: 'invalid_option', option: 'functions' }))
  })
})
