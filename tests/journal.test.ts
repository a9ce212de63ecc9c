import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { createStore, type StoreSpec } from '@ringside/storage'
import { FAULTY_STORE_TARGET, FaultyStoreControl } from '@ringside/storage/testing'
import { JournalError, PipelineManager, appendJournal, createJournal, readJournal, storeIdentity, type PipelineError } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

// The exit journal with real processes that exit, get signalled and crash, and real SQLite files.

const dir = mkdtempSync(join(tmpdir(), 'ringside-journal-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const app = new URL('./fixtures/journal-app.ts', import.meta.url).pathname
const twoApp = new URL('./fixtures/two-pipelines-app.ts', import.meta.url).pathname
let n = 0
const paths = () => ({ journal: join(dir, `j-${++n}.journal`), db: join(dir, `db-${n}.db`) })
/** The store spec the fixture apps use (the fault-injection store around SQLite), here healthy. */
const specOf = (db: string): StoreSpec => ({ target: FAULTY_STORE_TARGET, options: { inner: { kind: 'sqlite', path: db }, control: new FaultyStoreControl().buffer } })
const runApp = (mode: string, journal: string, db: string, count = 3000) =>
  spawnSync(process.execPath, ['--import', 'tsx', app, mode, journal, db, String(count)], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' })

async function replayInto(journal: string, db: string) {
  const ring = RingBuffer.create({ size: 1 << 10 })
  const p = await PipelineManager.start({ ring, store: specOf(db), poolSize: 1, journal: { path: journal } })
  const state = p.getState()
  await p.stop()
  const store = await createStore({ kind: 'sqlite', path: db, readOnly: true })
  const rows = await store.query({ order: 'asc' })
  await store.close()
  return { replay: state.journal?.replay, rows }
}

async function eventsIn(db: string): Promise<number> {
  const store = await createStore({ kind: 'sqlite', path: db, readOnly: true })
  try {
    return (await store.stats()).totalEvents
  } finally {
    await store.close()
  }
}

const startError = (o: Parameters<typeof PipelineManager.start>[0]) => PipelineManager.start(o).then((p) => p.stop().then(() => undefined), (e: unknown) => e)

describe('exit journal', () => {
  it.each([
    ['exit', 0],
    ['sigterm', 143],
    ['sigint', 130],
    ['sighup', 129],
    ['sigquit', 131],
    ['crash', 1],
  ] as const)('keeps every unstored event when the application leaves by %s, and the next start replays it once', async (mode, code) => {
    const { journal, db } = paths()
    const r = runApp(mode, journal, db)
    expect(r.stdout).toMatch(/written/)
    expect(r.status).toBe(code)
    expect(existsSync(journal)).toBe(true)
    expect(existsSync(`${journal}.lock`)).toBe(false)
    const saved = `${journal}.copy`
    copyFileSync(journal, saved)
    const first = await replayInto(journal, db)
    expect(first.replay).toMatchObject({ records: 3000, stored: 3000, duplicates: 0, corruptBytes: 0 })
    expect(first.rows.map((x) => x.event.n)).toEqual(Array.from({ length: 3000 }, (_, i) => i))
    expect(existsSync(journal)).toBe(false) // consumed, and the run that replayed it left nothing to keep
    // Replaying the same journal again stores nothing twice.
    const again = await replayInto(saved, db)
    expect(again.replay).toMatchObject({ records: 3000, stored: 0, duplicates: 3000 })
    expect(again.rows).toHaveLength(3000)
  }, 90_000)

  it('journals what the ring holds when the application returns without stop() and the store is down, then exits by itself', async () => {
    const { journal, db } = paths()
    const r = runApp('return', journal, db)
    expect(r.signal).toBeNull()
    expect(r.status).toBe(0)
    expect(readJournal(journal).records).toHaveLength(3000)
  }, 90_000)

  it('uses the valid part of a torn or corrupted journal, reports the rest and keeps the bad bytes aside', async () => {
    const { journal, db } = paths()
    const source = RingBuffer.create({ size: 16 })
    for (let i = 0; i < 10; i++) source.write({ type: 'call', n: i })
    const records = source.exportPending()
    const id = 'ab'.repeat(16)
    createJournal(journal, { store: storeIdentity(specOf(db)), ringId: id, pid: 1, host: 'elsewhere', createdAt: 0 })
    const headerEnd = readFileSync(journal).length
    appendJournal(journal, id, records.slice(0, 5))
    const firstPart = readFileSync(journal).length
    appendJournal(journal, id, records.slice(5))
    const bytes = readFileSync(journal)
    bytes[headerEnd + Math.floor((firstPart - headerEnd) / 2)]! ^= 0xff // corrupt a byte inside the 3rd record
    writeFileSync(journal, bytes.subarray(0, bytes.length - 7)) // and tear the tail (last record)
    const contents = readJournal(journal)
    expect(contents.records.map((r) => r.event.n)).toEqual([0, 1, 3, 4, 5, 6, 7, 8])
    expect(contents.corruptRegions).toBe(2)
    expect(contents.corruptBytes).toBeGreaterThan(0)
    const { replay, rows } = await replayInto(journal, db)
    expect(replay).toMatchObject({ records: 8, stored: 8, corruptRegions: 2 })
    expect(rows).toHaveLength(8)
    expect(readFileSync(replay!.keptAs!).equals(bytes.subarray(0, bytes.length - 7))).toBe(true)
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

describe('PipelineManager.start with a journal', () => {
  it('refuses a journal path that holds a file which is not a Ringside journal, and leaves it untouched', async () => {
    const { journal, db } = paths()
    const text = 'notes.txt: not a journal\n'.repeat(76) // 1,900 bytes
    writeFileSync(journal, text)
    const err = await startError({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'sqlite', path: db }, poolSize: 1, journal: { path: journal } })
    expect(err).toBeInstanceOf(JournalError)
    expect(err).toMatchObject({ code: 'not_a_journal' })
    expect(readFileSync(journal, 'utf8')).toBe(text)
    expect(existsSync(`${journal}.lock`)).toBe(false)
  })

  it("refuses the store's own file as its journal, and the store keeps its events", async () => {
    const { db } = paths()
    const ring = RingBuffer.create({ size: 1 << 13 })
    const first = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: db }, poolSize: 1 })
    for (let k = 0; k < 5000; k++) ring.write({ type: 'call', n: k })
    expect(await first.stop({ timeoutMs: 20_000 })).toMatchObject({ stored: 5000, balanced: true })
    const err = await startError({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'sqlite', path: db }, poolSize: 1, journal: { path: db } })
    expect(err).toMatchObject({ code: 'journal_is_store' })
    expect(await eventsIn(db)).toBe(5000)
  })

  it('refuses to start while another live process holds the journal, and takes over the lock of one that died', async () => {
    const { journal, db } = paths()
    const holder = spawn(process.execPath, ['--import', 'tsx', app, 'hold', journal, db, '3000'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()))
    let out = ''
    holder.stdout.on('data', (c: Buffer) => (out += c.toString()))
    try {
      await until(() => out.includes('written'), 60_000, 'the holder started')
      const err = await startError({ ring: RingBuffer.create({ size: 64 }), store: specOf(db), poolSize: 1, journal: { path: journal } })
      expect(err).toMatchObject({ code: 'journal_locked' })
      expect((err as Error).message).toContain(`process ${holder.pid}`)
    } finally {
      holder.kill('SIGKILL')
      await exited
    }
    // Killed outright, the holder left its lock behind: its process is gone, so the lock is stale.
    expect(existsSync(`${journal}.lock`)).toBe(true)
    const { replay } = await replayInto(journal, db)
    expect(replay).toBeUndefined() // SIGKILL wrote nothing: the journal held only its header
    expect(existsSync(`${journal}.lock`)).toBe(false)
  }, 90_000)

  it('refuses two pipelines of one process on one journal', async () => {
    const { journal, db } = paths()
    const first = await PipelineManager.start({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'sqlite', path: db }, poolSize: 1, journal: { path: journal } })
    const err = await startError({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'sqlite', path: `${db}-other` }, poolSize: 1, journal: { path: journal } })
    await first.stop()
    expect(err).toMatchObject({ code: 'journal_locked' })
    expect((err as Error).message).toMatch(/another pipeline of this process/)
  })

  it('refuses to replay a journal written for another store, and keeps it for that store', async () => {
    const { journal, db } = paths()
    expect(runApp('exit', journal, db).status).toBe(0)
    const before = readFileSync(journal)
    const other = join(dir, `other-${n}.db`)
    const err = await startError({ ring: RingBuffer.create({ size: 64 }), store: specOf(other), poolSize: 1, journal: { path: journal } })
    expect(err).toMatchObject({ code: 'journal_of_another_store' })
    expect(readFileSync(journal).equals(before)).toBe(true)
    expect(await eventsIn(other).catch(() => 0)).toBe(0)
    expect((await replayInto(journal, db)).replay).toMatchObject({ records: 3000, stored: 3000 })
  }, 90_000)

  it('refuses a journal in a directory that does not exist', async () => {
    const { db } = paths()
    const journal = join(dir, 'no-such-dir', 'app.journal')
    const err = await startError({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'sqlite', path: db }, poolSize: 1, journal: { path: journal } })
    expect(err).toMatchObject({ code: 'journal_unwritable' })
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false)
  })

  it('reports a journal write that failed in getState, health, an error event and the report', async () => {
    const { db } = paths()
    const sub = join(dir, `sub-${n}`)
    mkdirSync(sub)
    const journal = join(sub, 'app.journal')
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
    const errors: PipelineError[] = []
    p.on('error', (e) => errors.push(e as PipelineError))
    for (let k = 0; k < 3000; k++) ring.write({ type: 'call', n: k })
    rmSync(sub, { recursive: true, force: true })
    expect(p.healthCheck().checks.find((c) => c.name === 'journal')).toMatchObject({ status: 'degraded' })
    const report = await p.stop({ timeoutMs: 500 })
    expect(report).toMatchObject({ inFlight: 3000, journaled: 0, journalError: expect.stringMatching(/could not write 3000 unstored events/) })
    expect(p.getState().journal?.error).toMatch(/could not write 3000/)
    expect(p.healthCheck().checks.find((c) => c.name === 'journal')).toMatchObject({ status: 'unhealthy' })
    expect(errors.map((e) => e.code)).toContain('journal_write_failed')
  })
})

describe('two pipelines in one process', () => {
  const twoPaths = () => {
    const a = paths()
    const b = paths()
    return { dbA: a.db, journalA: a.journal, dbB: b.db, journalB: b.journal }
  }
  const runTwo = (mode: string, store: 'online' | 'offline', p: ReturnType<typeof twoPaths>) =>
    spawnSync(process.execPath, ['--import', 'tsx', twoApp, mode, store, p.dbA, p.journalA, p.dbB, p.journalB, '3000'], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' })

  it.each([
    ['SIGTERM', 'sigterm', 143],
    ['exit', 'exit', 0],
  ] as const)('on %s, journals what each ring holds and the process exits', async (_name, mode, code) => {
    const p = twoPaths()
    const r = runTwo(mode, 'offline', p)
    expect(r.signal).toBeNull()
    expect(r.status).toBe(code)
    expect((await replayInto(p.journalA, p.dbA)).rows).toHaveLength(3000)
    expect((await replayInto(p.journalB, p.dbB)).rows).toHaveLength(3000)
  }, 90_000)

  it('stop() of each drains into its own store, reports balanced, and leaves no journal or lock', async () => {
    const p = twoPaths()
    const r = runTwo('stop', 'online', p)
    expect(r.status).toBe(0)
    const reports = r.stdout.split('\n').filter((l) => l.startsWith('report ')).map((l) => JSON.parse(l.slice(7)) as { stored: number; balanced: boolean })
    expect(reports).toEqual([expect.objectContaining({ stored: 3000, balanced: true }), expect.objectContaining({ stored: 3000, balanced: true })])
    for (const f of [p.journalA, p.journalB]) expect([existsSync(f), existsSync(`${f}.lock`)]).toEqual([false, false])
    expect([await eventsIn(p.dbA), await eventsIn(p.dbB)]).toEqual([3000, 3000])
  }, 90_000)

  it('returning without stop(): both drain into their stores and the process exits by itself', async () => {
    const p = twoPaths()
    const r = runTwo('return', 'online', p)
    expect(r.signal).toBeNull()
    expect(r.status).toBe(0)
    expect([await eventsIn(p.dbA), await eventsIn(p.dbB)]).toEqual([3000, 3000])
    for (const f of [p.journalA, p.journalB]) expect(existsSync(f)).toBe(false)
  }, 90_000)
})
