import { afterEach, describe, expect, it } from 'vitest'
import { watchErrors } from '../src/index.js'
import { capture } from './helpers.js'

const announce = (err: Error, origin: string) => (process.emit as (name: string, ...args: unknown[]) => boolean)('uncaughtExceptionMonitor', err, origin)

describe('watchErrors', () => {
  let stop: (() => void) | undefined
  afterEach(() => stop?.())

  it('records an uncaught exception as Node announces it to uncaughtExceptionMonitor, before the crash', () => {
    const { drain } = capture()
    stop = watchErrors()
    // What Node does just before it crashes on an uncaught exception (or an unhandled rejection with no listener).
    announce(new RangeError('went wrong'), 'uncaughtException')
    announce(new TypeError('never awaited'), 'unhandledRejection')
    expect(drain().map((e) => [e.type, (e.error as { message: string }).message])).toEqual([
      ['uncaught_exception', 'went wrong'],
      ['unhandled_rejection', 'never awaited'],
    ])
  })

  it('stops recording once stopped', () => {
    const { drain } = capture()
    watchErrors()()
    announce(new Error('x'), 'uncaughtException')
    expect(drain()).toEqual([])
  })
})
