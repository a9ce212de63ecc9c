// createStore and resolveStoreSpec: built-in kinds, a user's adapter module named by `target`,
// and one test per refusal (piscina's option-validation style).

import { pathToFileURL } from 'node:url'
import { fileURLToPath } from 'node:url'
import { relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MemoryStore, SqliteStore, StoreOpenError, StoreSpecError, createStore, isEventStore, resolveStoreSpec } from '../src/index.js'
import { RING_A, run } from './fixtures/records.js'

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))

describe('createStore', () => {
  it('creates a MemoryStore for kind memory and a SqliteStore for kind sqlite', async () => {
    const memory = await createStore({ kind: 'memory' })
    expect(memory).toBeInstanceOf(MemoryStore)
    const sqlite = await createStore({ kind: 'sqlite', path: ':memory:' })
    expect(sqlite).toBeInstanceOf(SqliteStore)
    await memory.close()
    await sqlite.close()
  })

  it.each([
    ['an absolute path', (): string => fixture('custom-store')],
    ['a file URL', (): string => pathToFileURL(fixture('custom-store')).href],
    ['a path relative to the working directory', (): string => `./${relative(process.cwd(), fixture('custom-store'))}`],
  ])('loads a target module from %s and hands its factory the options', async (_name, target) => {
    const store = await createStore({ target: target(), options: { url: 'mem://x', n: 1 } })
    expect(isEventStore(store)).toBe(true)
    expect(await store.storeEvents(run(RING_A, 0, 2))).toEqual({ inserted: 2, duplicates: 0 })
    const mod = (await import(pathToFileURL(fixture('custom-store')).href)) as { seen: unknown[] }
    expect(mod.seen).toContainEqual({ url: 'mem://x', n: 1 })
    await store.close()
  })

  it('uses an async default export when there is no createStore export', async () => {
    const store = await createStore({ target: fixture('default-export-store') })
    expect(store).toBeInstanceOf(MemoryStore)
    await store.close()
  })

  it.each([
    ['a missing module', (): string => fixture('does-not-exist'), 'target_unloadable'],
    ['an unknown package', (): string => '@ringside/no-such-store', 'target_unloadable'],
    ['a module without a factory', (): string => fixture('no-factory'), 'not_a_store'],
    ['a factory returning something that is not a store', (): string => fixture('not-a-store'), 'not_a_store'],
  ])('refuses %s with a StoreSpecError naming target', async (_name, target, code) => {
    const err = await createStore({ target: target() }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreSpecError)
    expect(err).toMatchObject({ code, field: 'target', transient: false })
  })

  it('reports a factory that throws as open_failed with the cause', async () => {
    const err = await createStore({ target: fixture('throwing-factory') }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreOpenError)
    expect(err).toMatchObject({ code: 'open_failed' })
    expect(((err as Error).cause as Error).message).toBe('connection refused')
  })
})

describe('resolveStoreSpec', () => {
  it('fills in the sqlite defaults', () => {
    expect(resolveStoreSpec({ kind: 'sqlite', path: 'a.db', synchronous: 'FULL' })).toEqual({
      kind: 'sqlite',
      options: { path: 'a.db', synchronous: 'FULL', busyTimeoutMs: 30_000, cacheSizeKiB: 4_096, walAutocheckpointPages: 50_000, walCheckpointPages: 4_000, readOnly: false },
    })
  })

  it('passes target options through untouched', () => {
    expect(resolveStoreSpec({ target: 'my-store', options: { a: [1] } })).toEqual({ kind: 'target', target: 'my-store', options: { a: [1] } })
  })

  it.each<[string, unknown, string]>([
    ['a spec that is not an object', 'sqlite', 'spec'],
    ['an array', [], 'spec'],
    ['a missing kind', { path: 'a.db' }, 'kind'],
    ['an unknown kind', { kind: 'oracle' }, 'kind'],
    ['a postgres spec without url', { kind: 'postgres' }, 'url'],
    ['a jetstream spec without servers', { kind: 'jetstream', stream: 's', subject: 'e' }, 'servers'],
    ['a kind of the wrong type', { kind: 1 }, 'kind'],
    ['both kind and target', { kind: 'memory', target: 'x' }, 'kind'],
    ['an empty target', { target: '' }, 'target'],
    ['a target of the wrong type', { target: 42 }, 'target'],
    ['an unknown field beside target', { target: 'x', opts: {} }, 'opts'],
    ['an unknown memory field', { kind: 'memory', size: 1 }, 'size'],
    ['a missing sqlite path', { kind: 'sqlite' }, 'path'],
    ['a cache below the minimum', { kind: 'sqlite', path: 'a.db', cacheSizeKiB: 64 }, 'cacheSizeKiB'],
  ])('refuses %s, naming the field', (_name, spec, field) => {
    let caught: unknown
    try {
      resolveStoreSpec(spec)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(StoreSpecError)
    expect(caught).toMatchObject({ code: 'invalid_spec', field })
  })
})
