import { describe, expect, it } from 'vitest'
import { storeIdentity } from '../src/store-identity.js'

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
