import { readFileSync } from 'node:fs'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.js'

// The repository's `ringside` command: what its help promises about the benchmark suite.

async function cli(...argv: string[]) {
  const out = new PassThrough()
  const err = new PassThrough()
  let text = ''
  out.on('data', (c: Buffer) => (text += c.toString()))
  err.on('data', (c: Buffer) => (text += c.toString()))
  const code = await runCli(argv, out, err)
  return { code, text }
}

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8')

describe('ringside bench', () => {
  it('lists in --help every section the suite runs and every flag BENCHMARKS.md cites', async () => {
    const help = await cli('bench', '--help')
    expect(help.code).toBe(0)
    const sections = [...read('bench/run.ts').matchAll(/run\('([\w-]+)\.m?[jt]s'/g)].map((m) => m[1] as string)
    expect(sections.length).toBeGreaterThanOrEqual(6)
    for (const s of sections) expect(help.text).toMatch(new RegExp(`^  ${s}\\s+(npx tsx|node) bench/${s}\\.m?[jt]s`, 'm'))
    const cited = [...read('BENCHMARKS.md').matchAll(/`((?:npx tsx|node) [\w/.-]+\.m?[jt]s|bench\/run\.ts)([^`]*)`/g)]
    expect(cited.length).toBeGreaterThanOrEqual(6)
    for (const [, script, args] of cited) {
      expect(help.text).toContain(script!.replace(/^(npx tsx|node) /, ''))
      for (const flag of args!.match(/--[\w-]+/g) ?? []) expect(help.text).toContain(flag)
    }
  })

  it('refuses a section --reuse does not know, naming the sections it takes', async () => {
    const r = await cli('bench', '--reuse', 'ring,disk')
    expect(r.code).toBe(2)
    expect(r.text).toBe("ringside bench: --reuse takes sections among ring, store, pipeline, servers, journal, routed, instrument, shop, cold-start, retention, got 'disk'. See 'ringside bench --help'.\n")
  })
})
