import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore } from '@ringside/storage'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { PipelineManager, appendJournal, readJournal } from '@ringside/pipeline-manager'

// The exit journal with real processes that exit, get signalled and crash, and a real SQLite file.

const dir = mkdtempSync(join(tmpdir(), 'ringside-journal-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const app = new URL('./fixtures/journal-app.ts', import.meta.url).pathname
let n = 0
const paths = () => ({ journal: join(dir, `j-${++n}.journal`), db: join(dir, `db-${n}.db`) })

async function replayInto(journal: string, db: string) {
  const ring = RingBuffer.create({ size: 1 << 10 })
  const p = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: db }, poolSize: 1, journal: { path: journal } })
  const state = p.getState()
  await p.stop()
  const store = await createStore({ kind: 'sqlite', path: db })
  const rows = await store.query({ order: 'asc' })
  await store.close()
  return { replay: state.journal?.replay, rows }
}

describe('exit journal', () => {
  it.each([
    ['exit', 0],
    ['sigterm', 143],
    ['sigint', 130],
    ['crash', 1],
  ] as const)('keeps every unstored event when the application leaves by %s, and the next start replays it once', async (mode, code) => {
    const { journal, db } = paths()
    const r = spawnSync(process.execPath, ['--import', 'tsx', app, mode, journal, db, '3000'], { encoding: 'utf8', timeout: 60_000 })
    expect(r.stdout).toMatch(/written/)
    expect(r.status).toBe(code)
    expect(existsSync(journal)).toBe(true)
    const saved = `${journal}.copy`
    copyFileSync(journal, saved)
    const first = await replayInto(journal, db)
    expect(first.replay).toMatchObject({ records: 3000, stored: 3000, duplicates: 0, corruptBytes: 0 })
    expect(first.rows.map((x) => x.event.n)).toEqual(Array.from({ length: 3000 }, (_, i) => i))
    expect(existsSync(journal)).toBe(false) // consumed
    // Replaying the same journal again stores nothing twice.
    const again = await replayInto(saved, db)
    expect(again.replay).toMatchObject({ records: 3000, stored: 0, duplicates: 3000 })
    expect(again.rows).toHaveLength(3000)
  }, 90_000)

  it('uses the valid part of a torn or corrupted journal and reports the rest', async () => {
    const { journal, db } = paths()
    const source = RingBuffer.create({ size: 16 })
    for (let i = 0; i < 10; i++) source.write({ type: 'call', n: i })
    const records = source.exportPending()
    const id = 'ab'.repeat(16)
    appendJournal(journal, id, records.slice(0, 5))
    const firstPart = readFileSync(journal).length
    appendJournal(journal, id, records.slice(5))
    const bytes = readFileSync(journal)
    bytes[Math.floor(firstPart / 2)]! ^= 0xff // corrupt a byte inside the 3rd record
    writeFileSync(journal, bytes.subarray(0, bytes.length - 7)) // and tear the tail (last record)
    const contents = readJournal(journal)
    expect(contents.records.map((r) => r.event.n)).toEqual([0, 1, 3, 4, 5, 6, 7, 8])
    expect(contents.corruptRegions).toBe(2)
    expect(contents.corruptBytes).toBeGreaterThan(0)
    const { replay, rows } = await replayInto(journal, db)
    expect(replay).toMatchObject({ records: 8, stored: 8, corruptRegions: 2 })
    expect(rows).toHaveLength(8)
  })

  it('stop() within its deadline writes what did not make it to the journal, and the report says so', async () => {
    const { journal, db } = paths()
    const control = new FaultyStoreControl()
    control.mode = 'offline'
    const ring = RingBuffer.create({ size: 1 << 12 })
    const p = await PipelineManager.start({
      ring,
      store: { target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path: db }, control: control.buffer } },
      poolSize: 1,
      shutdown: 200,
      journal: { path: journal },
    })
    for (let k = 0; k < 500; k++) ring.write({ type: 'call', n: k })
    const report = await p.stop({ timeoutMs: 500 })
    expect(report).toMatchObject({ timedOut: true, stored: 0, inFlight: 500, journaled: 500, balanced: true })
    expect(p.getState().journal?.written).toMatchObject({ reason: 'stop deadline', events: 500 })
    expect(readJournal(journal).records).toHaveLength(500)
  })
})
