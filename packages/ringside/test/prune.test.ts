// `ringside prune` against real SQLite files: it refuses what is not a Ringside store and a store
// another connection has open (changing neither), prunes a closed store by age or count, and
// --vacuum shrinks the file to what is left.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { createRequire } from 'node:module'
import { afterAll, describe, expect, it } from 'vitest'
import { SqliteStore, createStore, type EventRecord } from '@ringside/storage'
import { runCli } from '../src/cli/index.js'

// The driver the storage package uses, so this package needs no dependency of its own on it.
interface Db {
  exec(sql: string): void
  pragma(sql: string, o: { simple: true }): unknown
  prepare(sql: string): { pluck(): { all(): unknown[] } }
  close(): void
}
const Database = createRequire(import.meta.resolve('@ringside/storage'))('better-sqlite3') as new (path: string, o?: { readonly?: boolean }) => Db

const dir = mkdtempSync(join(tmpdir(), 'ringside-prune-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const ringId = 'c0ffee00c0ffee00c0ffee00c0ffee00'
let n = 0

/**
 * A closed store of `count` events, each with a 500-byte body, captured `ageMs(seq)` before now:
 * by default one per second up to now.
 */
async function storeOf(count: number, ageMs: (seq: number) => number = (seq) => (count - seq) * 1000): Promise<string> {
  const name = `s-${++n}.db`
  const now = Date.now()
  const store = await createStore({ kind: 'sqlite', path: join(dir, name) })
  for (let from = 0; from < count; from += 1000) {
    const batch: EventRecord[] = []
    for (let seq = from; seq < Math.min(count, from + 1000); seq++) {
      batch.push({ key: `${ringId}:${seq}`, ringId, seq, capturedAt: now - ageMs(seq), event: { type: 'call', pad: 'p'.repeat(500) } })
    }
    await store.storeEvents(batch)
  }
  await store.close()
  return name
}

async function cli(...argv: string[]) {
  const capture = () => {
    const s = new PassThrough()
    let text = ''
    s.on('data', (c: Buffer) => (text += c.toString()))
    return { s, text: () => text }
  }
  const out = capture()
  const err = capture()
  const code = await runCli(argv, { out: out.s, err: err.s, cwd: dir })
  return { code, out: out.text(), err: err.text() }
}

const seqsOf = (name: string): number[] => {
  const db = new Database(join(dir, name), { readonly: true })
  try {
    return db.prepare('SELECT seq FROM events ORDER BY seq').pluck().all() as number[]
  } finally {
    db.close()
  }
}

describe('ringside prune', () => {
  it('refuses a SQLite database of another application with exit code 2 and leaves it as it was', async () => {
    const path = join(dir, 'theirs.db')
    const db = new Database(path)
    db.exec("CREATE TABLE events (id INTEGER PRIMARY KEY, captured_at REAL); INSERT INTO events (captured_at) VALUES (1), (2)")
    db.close()
    const before = readFileSync(path)
    const r = await cli('prune', 'theirs.db', '--keep', '0')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/^ringside prune: .*theirs\.db cannot be read as a Ringside store .*it is left as it is/)
    expect(readFileSync(path).equals(before)).toBe(true)
  })

  it('refuses a text file and an empty database with exit code 2', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'not a database at all, just some notes\n'.repeat(200))
    expect((await cli('prune', 'notes.txt', '--keep', '1')).code).toBe(2)
    new Database(join(dir, 'empty.db')).close()
    expect((await cli('prune', 'empty.db', '--keep', '1')).code).toBe(2)
  })

  it.each([
    [['prune', 'x.db'], 'no such file'],
    [['prune', 's-1.db'], 'give --older-than, --keep or --vacuum.'],
    [['prune', 's-1.db', '--older-than', '3 days'], "--older-than must be a duration such as 90s, 30m, 1h or 7d, got '3 days'."],
    [['prune', 's-1.db', '--keep', '-5'], "--keep must be a whole number of events such as 1000000 or 1e6, got '-5'."],
  ])('refuses %j with exit code 2', async (argv, message) => {
    if (n === 0) await storeOf(10)
    const r = await cli(...argv)
    expect(r.code).toBe(2)
    expect(r.err).toContain(message)
  })

  it('keeps the newest --keep events of a closed store, accepting 1e3 notation', async () => {
    const name = await storeOf(5000)
    const r = await cli('prune', name, '--keep', '1.2e3', '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out)).toMatchObject({ events: 3800, deadLetters: 0 })
    expect(seqsOf(name)).toEqual(Array.from({ length: 1200 }, (_, i) => 3800 + i))
    const store = SqliteStore.open({ path: join(dir, name), readOnly: true })
    expect((await store.stats()).totalEvents).toBe(1200)
    await store.close()
  })

  it('removes the events older than --older-than and keeps the newer ones', async () => {
    // 2,400 events two hours old, then 600 from the last minute: the cut at 10 minutes falls in a
    // gap wide enough that however long the command takes to start, the same events go.
    const name = await storeOf(3000, (seq) => (seq < 2400 ? 7_200_000 - seq : 60_000 - (seq - 2400) * 100))
    const r = await cli('prune', name, '--older-than', '10m')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/removed\s+2,400 events/)
    const left = seqsOf(name)
    expect(left).toEqual(Array.from({ length: 600 }, (_, i) => 2400 + i))
  })

  it('with --vacuum shrinks the file to what is left', async () => {
    const name = await storeOf(8000)
    const before = statSync(join(dir, name)).size
    const r = await cli('prune', name, '--keep', '500', '--vacuum', '--json')
    expect(r.code).toBe(0)
    const after = statSync(join(dir, name)).size
    expect(after).toBeLessThan(before / 5)
    expect(JSON.parse(r.out)).toMatchObject({ events: 7500, sizeAfter: after })
    const db = new Database(join(dir, name), { readonly: true })
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2)
    db.close()
    expect(seqsOf(name)).toHaveLength(500)
  })

  it('refuses a store another connection has open (a running pipeline) with exit code 1, changing nothing', async () => {
    const name = await storeOf(2000)
    const holder = SqliteStore.open({ path: join(dir, name) })
    try {
      const r = await cli('prune', name, '--keep', '10')
      expect(r.code).toBe(1)
      expect(r.err).toMatch(/is open by another connection \(a running pipeline\?\); stop it first/)
      expect((await holder.stats()).totalEvents).toBe(2000)
    } finally {
      await holder.close()
    }
    expect(seqsOf(name)).toHaveLength(2000)
  })
})
