import { describe, expect, it } from 'vitest'
import { ControlCalls } from '../src/control-calls.js'

// The per-writer bookkeeping of control calls, on its own: how each call settles, and that a
// settled call keeps nothing.

const never = () => new Promise<never>(() => {})

describe('ControlCalls.call', () => {
  it("resolves with the writer's answer and keeps nothing", async () => {
    const calls = new ControlCalls()
    await expect(calls.call(async () => 42, 60_000)).resolves.toBe(42)
    expect(calls.pending).toBe(0)
  })

  it("rejects with the writer's error and keeps nothing", async () => {
    const calls = new ControlCalls()
    const err = Object.assign(new Error('refused'), { code: 'invalid_writer_config' })
    await expect(calls.call(() => Promise.reject(err), 60_000)).rejects.toBe(err)
    expect(calls.pending).toBe(0)
  })

  it('gives up with undefined when the writer does not answer in time', async () => {
    const calls = new ControlCalls()
    await expect(calls.call(never, 1)).resolves.toBeUndefined()
    expect(calls.pending).toBe(0)
  })
})

describe('ControlCalls.close', () => {
  it('settles every call in flight with undefined, and answers later calls at once', async () => {
    const calls = new ControlCalls()
    const inFlight = [calls.call(never, 60_000), calls.call(never, 60_000)]
    expect(calls.pending).toBe(2)
    calls.close()
    await expect(Promise.all(inFlight)).resolves.toEqual([undefined, undefined])
    expect(calls.pending).toBe(0)
    await expect(calls.call(async () => 1, 60_000)).resolves.toBeUndefined()
  })
})
