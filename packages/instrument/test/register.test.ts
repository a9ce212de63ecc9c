import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runApp, signalApp, storedEvents, type AppRun } from './run-app.js'

type Ev = Record<string, any>
const calls = (ev: Ev[]) => ev.filter((e) => e.type === 'call').map((e) => `${e.module} ${e.function}/${e.arity}`)

describe('register (node --import @ringside/instrument/register)', () => {
  // One run of the ESM fixture serves the tests that only read what it stored.
  let main: AppRun
  beforeAll(async () => {
    main = await runApp('main.mjs')
  })

  it('instruments ES modules as they load and stores their calls in SQLite when the app ends on its own', async () => {
    const run = main
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('total 810')
    const ev = (await storedEvents(run.db)) as Ev[]
    expect(calls(ev)).toEqual(expect.arrayContaining(['lib/cart.mjs Cart.constructor/1', 'lib/cart.mjs Cart.add/2', 'lib/cart.mjs total/1', 'lib/cart.mjs price/1', 'lib/explode.mjs explode/1']))
    const price = ev.find((e) => e.type === 'call' && e.function === 'price')!
    expect(price.astNodeId).toBe('lib/cart.mjs:2:8')
    const totalCall = ev.find((e) => e.type === 'call' && e.function === 'total')!
    expect(price.parentId).toBe(totalCall.callId)
    const totalRet = ev.find((e) => e.type === 'return' && e.function === 'total')!
    expect(totalRet.result).toBe(900)
    expect(ev.find((e) => e.type === 'exception' && e.function === 'explode')?.error).toMatchObject({ name: 'Error', message: 'kaboom: on purpose' })
    const stats = ev.find((e) => e.type === 'instrument_stats')!
    expect(stats.stats.calls).toBeGreaterThanOrEqual(7)
    expect(stats.stats.rejected).toEqual({})
  })

  it('redacts secrets in the arguments it stores', async () => {
    const run = main
    const add = ((await storedEvents(run.db, { function: 'Cart.add' })) as Ev[]).find((e) => e.type === 'call')!
    expect(add.args).toEqual(['tea', { user: 'ann', password: '[redacted]' }])
  })

  it('instruments CommonJS modules, required from ESM and from a CommonJS entry', async () => {
    const esm = main
    expect(calls((await storedEvents(esm.db)) as Ev[])).toContain('lib/legacy.cjs discount/2')
    const cjs = await runApp('main.cjs')
    expect(cjs.stderr).toBe('')
    expect(cjs.stdout).toContain('checkout 150')
    const ev = (await storedEvents(cjs.db)) as Ev[]
    expect(calls(ev)).toEqual(['main.cjs checkout/1', 'lib/legacy.cjs discount/2'])
    expect(ev.find((e) => e.function === 'discount' && e.type === 'call')!.parentId).toBe(ev.find((e) => e.function === 'checkout' && e.type === 'call')!.callId)
  })

  it('keeps stack traces pointing at the original line and column', async () => {
    const run = main
    const source = readFileSync(join(run.dir, 'lib/explode.mjs'), 'utf8').split('\n')
    const line = source.findIndex((l) => l.includes('throw new Error')) + 1
    const column = source[line - 1]!.indexOf('new Error') + 1
    expect(run.stdout).toContain(`lib/explode.mjs:${line}:${column})`)
  })

  it('leaves files outside the include globs alone', async () => {
    const run = await runApp('main.mjs', { RINGSIDE_INCLUDE: 'lib/cart.mjs' })
    const modules = new Set(((await storedEvents(run.db, { type: 'call' })) as Ev[]).map((e) => e.module))
    expect([...modules]).toEqual(['lib/cart.mjs'])
  })

  it('samples calls when told to and counts what it skipped in the stored instrument_stats event', async () => {
    const run = await runApp('main.mjs', { RINGSIDE_SAMPLE_EVERY: '1000' })
    const ev = (await storedEvents(run.db)) as Ev[]
    const stats = ev.find((e) => e.type === 'instrument_stats')!.stats
    expect(stats.sampledOut).toBeGreaterThan(0)
    expect(stats.calls).toBe(stats.recorded + stats.sampledOut + stats.rateLimited)
    expect(ev.filter((e) => e.type === 'call' && !e.late)).toHaveLength(stats.recorded)
  })

  it('runs the application even when the config is wrong, and says why nothing is captured', async () => {
    const run = await runApp('main.cjs', { RINGSIDE_POOL_SIZE: 'many' })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('checkout 150')
    expect(run.stderr).toContain('poolSize')
  })

  it('records process errors the application handles itself', async () => {
    const run = await runApp('errors.mjs')
    expect(run.stdout).toContain('handled nobody awaited me')
    const ev = (await storedEvents(run.db, { type: 'unhandled_rejection' })) as Ev[]
    expect(ev).toHaveLength(1)
    expect(ev[0]!.error).toMatchObject({ name: 'TypeError', message: 'nobody awaited me' })
  })

  it('drains the pipeline on SIGTERM and then ends the process as the signal would have', async () => {
    const run = await signalApp('serve.mjs', 'SIGTERM')
    expect(run.signal).toBe('SIGTERM')
    const ev = (await storedEvents(run.db)) as Ev[]
    expect(ev.filter((e) => e.type === 'call' && e.function === 'tick').length).toBeGreaterThanOrEqual(3)
    expect(ev.at(-1)!.type).toBe('instrument_stats')
  })
})
