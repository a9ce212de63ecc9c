import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { StoreLock, StoreLockTimeoutError, createStoreLockBuffer, readStoreLock, releaseStoreLockOf } from '../src/store-lock.js'

// The lock word alone; its use by writers of one SQLite file is tested in pipeline-manager
// (store-lock.test.ts) with real writer threads.

describe('StoreLock', () => {
  it('lets one owner in at a time and counts acquisitions', () => {
    const buf = createStoreLockBuffer()
    const a = new StoreLock(buf, 1)
    const b = new StoreLock(buf, 2)
    expect(a.tryAcquire()).toBe(true)
    expect(b.tryAcquire()).toBe(false)
    expect(readStoreLock(buf).owner).toBe(1)
    b.release() // not the holder: no effect
    expect(a.held).toBe(true)
    a.release()
    expect(b.tryAcquire()).toBe(true)
    expect(readStoreLock(buf)).toMatchObject({ owner: 2, acquisitions: 2 })
  })

  it('fails a bounded wait with a transient StoreLockTimeoutError naming the holder', async () => {
    const buf = createStoreLockBuffer()
    new StoreLock(buf, 7).tryAcquire()
    const err = await new StoreLock(buf, 8).acquire(120).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreLockTimeoutError)
    expect(err).toMatchObject({ code: 'store_lock_timeout', holder: 7, transient: true })
    expect(readStoreLock(buf).contended).toBe(1)
  })

  it('is handed to a waiter when another thread releases it', async () => {
    const buf = createStoreLockBuffer()
    const held = new Int32Array(new SharedArrayBuffer(4))
    const w = new Worker(
      `const { workerData } = require('node:worker_threads')
       const word = new Int32Array(workerData.buf)
       Atomics.compareExchange(word, 0, 0, 99)
       Atomics.store(workerData.held, 0, 1)
       Atomics.wait(workerData.held, 0, 1, 150)
       Atomics.store(word, 0, 0)
       Atomics.notify(word, 0, 1)`,
      { eval: true, workerData: { buf, held } },
    )
    while (Atomics.load(held, 0) === 0) await new Promise((r) => setTimeout(r, 1))
    const mine = new StoreLock(buf, 5)
    await mine.acquire(30_000)
    expect(mine.held).toBe(true)
    await w.terminate()
  })

  it('is freed by its pool for a dead owner, and only for that owner', () => {
    const buf = createStoreLockBuffer()
    new StoreLock(buf, 3).tryAcquire()
    expect(releaseStoreLockOf(buf, 4)).toBe(false)
    expect(readStoreLock(buf).owner).toBe(3)
    expect(releaseStoreLockOf(buf, 3)).toBe(true)
    expect(readStoreLock(buf).owner).toBe(0)
  })

  it('refuses an owner that is not a thread id', () => {
    expect(() => new StoreLock(createStoreLockBuffer(), 0)).toThrow(RangeError)
  })
})
