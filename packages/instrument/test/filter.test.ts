import { describe, expect, it } from 'vitest'
import { fileFilter } from '../src/filter.js'

describe('fileFilter', () => {
  const base = { root: '/app', include: ['**/*.js', '**/*.mjs'], exclude: ['test/**'], nodeModules: false }

  it('selects files under the root that match include and not exclude, named relative to the root', () => {
    const f = fileFilter(base)
    expect(f('/app/src/cart.mjs')).toBe('src/cart.mjs')
    expect(f('/app/main.js')).toBe('main.js')
    expect(f('/app/test/cart.test.mjs')).toBeUndefined()
    expect(f('/app/src/cart.ts')).toBeUndefined()
  })

  it('leaves node_modules alone unless asked, and never reaches outside the root', () => {
    expect(fileFilter(base)('/app/node_modules/lodash/index.js')).toBeUndefined()
    expect(fileFilter(base)('/app/src/node_modules/x/index.js')).toBeUndefined()
    expect(fileFilter({ ...base, nodeModules: true })('/app/node_modules/lodash/index.js')).toBe('node_modules/lodash/index.js')
    expect(fileFilter(base)('/elsewhere/lib.js')).toBeUndefined()
  })
})
