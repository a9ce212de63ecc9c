import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { runSoak } from '../src/soak.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-soak-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('runSoak (short)', () => {
  it('injects faults of every kind and ends with nothing lost, nothing doubled, the accounting exact', async () => {
    const out = new PassThrough()
    let text = ''
    out.on('data', (c: Buffer) => (text += c.toString()))
    const r = await runSoak({ seconds: 10, rate: 5_000, dbPath: join(dir, 'soak.db'), faultEverySec: 0.7, seed: 7, out })
    expect(Object.values(r.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5)
    expect(r.lost).toBe(0)
    expect(r.duplicated).toBe(0)
    expect(r.report).toMatchObject({ balanced: true, inFlight: 0, countedBy: 'store' })
    expect(r.report.offered).toBe(r.offeredByApp)
    expect(r.storedRows + r.deadLetters).toBe(r.report.accepted)
    expect(r.ok).toBe(true)
    expect(text).toMatch(/store holds every accepted event once: yes/)
  }, 120_000)
})
