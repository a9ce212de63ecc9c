import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InstrumentError, InstrumentOptionError, loadRegisterConfig } from '../src/index.js'

const dirWith = (config?: unknown): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-config-'))
  if (config !== undefined) writeFileSync(join(dir, 'ringside.config.json'), typeof config === 'string' ? config : JSON.stringify(config))
  return dir
}

describe('loadRegisterConfig', () => {
  it('defaults to a SQLite file in the working directory and the app files under it', () => {
    const dir = dirWith()
    const c = loadRegisterConfig({}, dir)
    expect(c.store).toEqual({ kind: 'sqlite', path: join(dir, 'ringside-events.db') })
    expect(c.include).toEqual(['**/*.js', '**/*.mjs', '**/*.cjs'])
    expect(c).toMatchObject({ poolSize: 1, lingerMs: 50, sampleEvery: 1, maxCallsPerSecond: 10_000, nodeModules: false, sourceMaps: true, watch: ['http', 'fetch', 'workers', 'errors'] })
  })

  it('reads ringside.config.json, and RINGSIDE_* variables override it', () => {
    const dir = dirWith({ include: ['src/**/*.mjs'], poolSize: 2, store: 'data/e.db', sampleEvery: 5 })
    const c = loadRegisterConfig({ RINGSIDE_SAMPLE_EVERY: '7', RINGSIDE_REDACT: 'ssn, pin', RINGSIDE_LINGER_MS: '5' }, dir)
    expect(c).toMatchObject({ include: ['src/**/*.mjs'], poolSize: 2, lingerMs: 5, sampleEvery: 7, redact: ['ssn', 'pin'], store: { kind: 'sqlite', path: join(dir, 'data/e.db') } })
    expect(loadRegisterConfig({ RINGSIDE_STORE: 'memory' }, dir).store).toEqual({ kind: 'memory' })
  })

  it('names the field that is wrong', () => {
    const dir = dirWith()
    for (const [env, option] of [
      [{ RINGSIDE_POOL_SIZE: 'many' }, 'poolSize'],
      [{ RINGSIDE_LINGER_MS: '-5' }, 'lingerMs'],
      [{ RINGSIDE_RING_SIZE: '1000' }, 'ringSize'],
      [{ RINGSIDE_WATCH: 'http,smoke' }, 'watch'],
      [{ RINGSIDE_NODE_MODULES: 'maybe' }, 'nodeModules'],
    ] as const) {
      try {
        loadRegisterConfig(env, dir)
        expect.unreachable(option)
      } catch (e) {
        expect(e).toBeInstanceOf(InstrumentOptionError)
        expect((e as InstrumentOptionError).option).toBe(option)
      }
    }
  })

  it('refuses a config file that is not JSON or holds an unknown key', () => {
    expect(() => loadRegisterConfig({}, dirWith('{ nope'))).toThrow(InstrumentError)
    try {
      loadRegisterConfig({}, dirWith('{ nope'))
    } catch (e) {
      expect((e as InstrumentError).code).toBe('invalid_config_file')
    }
    expect(() => loadRegisterConfig({}, dirWith({ bogus: 1 }))).toThrow(InstrumentOptionError)
  })
})
