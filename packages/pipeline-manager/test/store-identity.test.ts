import { describe, expect, it } from 'vitest'
import { storeFiles, storeIdentity } from '../src/store-identity.js'

describe('storeIdentity', () => {
  it("names a user's store module by its name, whether loaded built, from its sources or moved", () => {
    const a = storeIdentity({ target: 'file:///app/dist/my-store.js', options: { table: 'events' } })
    const b = storeIdentity({ target: '/elsewhere/src/my-store.ts', options: { table: 'events' } })
    expect(a).toBe(b)
  })

  it('tells two stores of one module apart by their options, whatever the key order', () => {
    const a = storeIdentity({ target: 'file:///app/my-store.js', options: { table: 'a', region: 'x' } })
    expect(a).not.toBe(storeIdentity({ target: 'file:///app/my-store.js', options: { table: 'b', region: 'x' } }))
    expect(a).toBe(storeIdentity({ target: 'file:///app/my-store.js', options: { region: 'x', table: 'a' } }))
  })

  it('keeps a bare package specifier as it is', () => {
    expect(storeIdentity({ target: '@acme/ringside-store', options: {} })).toBe('target:@acme/ringside-store:{}')
  })
})

describe('storeIdentity (routed)', () => {
  const spec = (errorsPath: string, queryRoute?: string) =>
    ({
      kind: 'routed',
      routes: [
        { name: 'errors', when: { types: ['error'] }, store: { kind: 'sqlite', path: errorsPath } },
        { name: 'all', store: { kind: 'sqlite', path: '/tmp/all.db' } },
        { name: 'copy', store: { kind: 'sqlite', path: '/tmp/copy.db' } },
      ],
      ...(queryRoute ? { queryRoute } : {}),
    }) as const

  it('names every destination and the query route, so a journal replays only into the same set', () => {
    expect(storeIdentity(spec('/tmp/errors.db'))).toBe(storeIdentity(spec('/tmp/errors.db')))
    expect(storeIdentity(spec('/tmp/errors.db'))).not.toBe(storeIdentity(spec('/tmp/other.db')))
    expect(storeIdentity(spec('/tmp/errors.db'))).not.toBe(storeIdentity(spec('/tmp/errors.db', 'copy')))
  })
})

describe('storeFiles', () => {
  it("lists the SQLite files of every destination of a routed store, a wrapper's inner one too", () => {
    const files = storeFiles({
      kind: 'routed',
      routes: [
        { name: 'errors', when: { types: ['error'] }, store: { target: 'file:///x/faulty-store.js', options: { inner: { kind: 'sqlite', path: '/tmp/e.db' } } } },
        { name: 'all', store: { kind: 'sqlite', path: '/tmp/a.db' } },
      ],
    })
    expect(files).toEqual(['/tmp/e.db', '/tmp/e.db-wal', '/tmp/e.db-shm', '/tmp/e.db-journal', '/tmp/a.db', '/tmp/a.db-wal', '/tmp/a.db-shm', '/tmp/a.db-journal'])
  })
})
