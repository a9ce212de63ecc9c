// Files and processes the pipeline does not own, with real SQLite files, worker threads and
// processes: a file that is not a Ringside store or cannot be written is refused at start, a store
// file deleted while running is noticed and never recreated, and an application that returns
// without stop() exits by itself with every event stored.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore, StoreOpenError } from '@ringside/storage'
import { makeReadOnly } from '@ringside/storage/testing'
import { PipelineManager, type PipelineError } from '../src/index.js'
import { until } from './fixtures/produce.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-pm-files-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const dbPath = () => join(dir, `events-${++n}.db`)
const rowsIn = (path: string): number => {
  const db = new Database(path, { readonly: true })
  try {
    return db.prepare('SELECT count(*) FROM events').pluck().get() as number
  } finally {
    db.close()
  }
}

describe('PipelineManager.start', () => {
  it('refuses a database that is not a Ringside store before any writer starts, and leaves it as it was', async () => {
    const path = dbPath()
    const user = new Database(path)
    user.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada'), ('Grace')")
    user.close()
    const before = readFileSync(path)
    const err = await PipelineManager.start({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'sqlite', path }, poolSize: 2 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreOpenError)
    expect(err).toMatchObject({ code: 'not_a_ringside_store' })
    expect(readFileSync(path).equals(before)).toBe(true)
  })

  it('refuses a store file it cannot write with store_read_only, instead of crashing writers in a loop', async () => {
    const path = dbPath()
    await (await createStore({ kind: 'sqlite', path })).close()
    const undo = makeReadOnly(path)
    try {
      const err = await PipelineManager.start({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'sqlite', path }, poolSize: 2 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StoreOpenError)
      expect(err).toMatchObject({ code: 'store_read_only' })
    } finally {
      undo()
    }
  })
})

describe('PipelineManager.healthCheck', () => {
  it('notices within seconds that its SQLite file was deleted, says so, and stop() neither recreates it nor claims balance', async () => {
    const path = dbPath()
    const ring = RingBuffer.create({ size: 1 << 14 })
    const p = await PipelineManager.start({ ring, store: { kind: 'sqlite', path }, poolSize: 2, health: { storeProbeMs: 200 } })
    const errors: PipelineError[] = []
    p.on('error', (e) => errors.push(e as PipelineError))
    for (let k = 0; k < 2000; k++) ring.write({ type: 'call', n: k })
    await until(() => p.getMetrics().totals.eventsStored === 2000, 30_000, 'the first 2000 stored')
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
    for (let k = 2000; k < 4000; k++) ring.write({ type: 'call', n: k })
    await until(() => p.healthCheck().status === 'unhealthy', 30_000, 'health unhealthy')
    expect(p.healthCheck().checks.find((c) => c.name === 'store')).toMatchObject({ status: 'unhealthy', reason: expect.stringMatching(/deleted/) })
    await until(() => errors.some((e) => e.code === 'store_file_lost'), 30_000, 'an error event')
    // Writers refused to write into the deleted file: the second 2000 are still in the ring.
    expect(p.getMetrics().totals.eventsStored).toBe(2000)
    const report = await p.stop({ timeoutMs: 1_000 })
    expect(report).toMatchObject({ countedBy: 'not counted', balanced: false, countError: expect.stringMatching(/deleted/), inFlight: 2000 })
    expect(existsSync(path)).toBe(false)
  }, 90_000)
})

describe('a process whose application never calls stop()', () => {
  it('exits by itself once its event loop is empty, with every event it wrote stored', () => {
    const path = dbPath()
    const app = new URL('./fixtures/leave-without-stop.ts', import.meta.url).pathname
    const r = spawnSync(process.execPath, ['--import', 'tsx', app, path, '10000'], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' })
    expect(r.stdout).toMatch(/written/)
    expect(r.signal).toBeNull() // not killed by the timeout: it left by itself
    expect(r.status).toBe(0)
    expect(rowsIn(path)).toBe(10_000)
  }, 90_000)
})
