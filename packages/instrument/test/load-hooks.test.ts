import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

type Ev = Record<string, unknown>
const FIXTURE = fileURLToPath(new URL('./fixtures/load-hooks.mjs', import.meta.url))

function run(): Promise<{ events: Ev[]; registered: boolean }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [FIXTURE], { timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))))
  })
}

describe('installLoadHooks', () => {
  it('rewrites only the files its filter selects, ES modules and CommonJS, into the ring set by instrument(), and starts no pipeline', async () => {
    const { events, registered } = await run()
    const called = events.filter((e) => e.type === 'call').map((e) => `${String(e.module)} ${String(e.function)}`)
    expect(called).toEqual(expect.arrayContaining(['cart.mjs total', 'cart.mjs price', 'legacy.cjs discount']))
    expect(called.some((c) => c.includes('explode'))).toBe(false)
    expect(events.find((e) => e.type === 'call' && e.function === 'price')?.astNodeId).toBe('cart.mjs:2:8')
    expect(registered).toBe(false)
  })
})
