import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, type EventRecord } from '@ringside/storage'
import { runCli } from '../src/cli/index.js'

// The published `ringside` command against a real SQLite store written through the store's API.

const dir = mkdtempSync(join(tmpdir(), 'ringside-cli-'))
const appDir = join(dir, 'my-app')
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0)
const ringId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'

beforeAll(async () => {
  mkdirSync(appDir)
  const store = await createStore({ kind: 'sqlite', path: join(appDir, 'events.db') })
  const records: EventRecord[] = Array.from({ length: 30 }, (_, seq) => ({
    key: `${ringId}:${seq}`,
    ringId,
    seq,
    capturedAt: T0 + seq * 1000,
    event: { type: seq % 2 === 0 ? 'call' : 'return', pid: `<0.${seq % 3}.0>`, module: 'Shop.Cart', function: 'add', arity: 2, n: seq },
  }))
  await store.storeEvents(records)
  await store.close()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function cli(...argv: string[]) {
  const capture = () => {
    const s = new PassThrough()
    let text = ''
    s.on('data', (c: Buffer) => (text += c.toString()))
    return { s, text: () => text }
  }
  const out = capture()
  const err = capture()
  const code = await runCli(argv, { out: out.s, err: err.s, cwd: appDir })
  return { code, out: out.text(), err: err.text() }
}

describe('runCli', () => {
  it('names an unknown flag in one sentence, suggests the near miss, points to --help and exits 2', async () => {
    const r = await cli('query', 'events.db', '--limt', '3')
    expect(r.code).toBe(2)
    expect(r.out).toBe('')
    expect(r.err).toBe("ringside query: unknown option '--limt'; did you mean '--limit'? See 'ringside query --help'.\n")
  })

  it('says what is wrong with a negative --limit instead of calling it ambiguous', async () => {
    const r = await cli('query', 'events.db', '--limit', '-1')
    expect(r.code).toBe(2)
    expect(r.err).toBe("ringside query: --limit must be an integer from 0 to 10,000,000, got '-1'. See 'ringside query --help'.\n")
  })

  it('suggests the command meant by a misspelt command name', async () => {
    const r = await cli('qeury', 'events.db')
    expect(r.code).toBe(2)
    expect(r.err).toBe("ringside: unknown command 'qeury'; did you mean 'query'? See 'ringside --help'.\n")
  })

  it.each([
    [['query', 'events.db', '--json=yes'], "ringside query: --json is a switch and takes no value, got 'yes'. See 'ringside query --help'.\n"],
    [['query', 'events.db', '--limit'], "ringside query: --limit needs a value. See 'ringside query --help'.\n"],
    [['query', 'events.db', '--order', 'newest'], "ringside query: --order must be asc or desc, got 'newest'. See 'ringside query --help'.\n"],
    [['query', 'events.db', 'other.db'], "ringside query: unexpected argument 'other.db'. See 'ringside query --help'.\n"],
    [['stats', '--jsn', 'events.db'], "ringside stats: unknown option '--jsn'; did you mean '--json'? See 'ringside stats --help'.\n"],
    [['query', 'events.db', '--colour', 'red'], "ringside query: unknown option '--colour'. See 'ringside query --help'.\n"],
  ])('refuses %j with one line on stderr and exit code 2', async (argv, message) => {
    const r = await cli(...argv)
    expect(r).toEqual({ code: 2, out: '', err: message })
  })

  it('resolves <db> from the folder it runs in, and says where it looked when the file is missing', async () => {
    expect((await cli('stats', 'events.db', '--json')).code).toBe(0)
    const missing = await cli('stats', 'nope.db')
    expect(missing.code).toBe(2)
    expect(missing.err).toContain(`no such file 'nope.db' (looked for ${join(appDir, 'nope.db')})`)
  })

  it('prints JSON Lines and nothing else on stdout with --json', async () => {
    const r = await cli('query', 'events.db', '--type', 'call', '--limit', '100', '--json')
    expect(r.code).toBe(0)
    const rows = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as EventRecord)
    expect(rows).toHaveLength(15)
    for (const row of rows) expect(row.event).toMatchObject({ type: 'call' })
    const stats = await cli('stats', 'events.db', '--json')
    expect(JSON.parse(stats.out)).toMatchObject({ totalEvents: 30, deadLetters: 0 })
  })

  it('lists the oldest events first by default, the newest with --order desc, and limits after ordering', async () => {
    const seqs = async (...extra: string[]) => (await cli('query', 'events.db', '--json', ...extra)).out.trimEnd().split('\n').map((l) => (JSON.parse(l) as EventRecord).seq)
    expect(await seqs('--limit', '3')).toEqual([0, 1, 2])
    expect(await seqs('--limit', '3', '--order', 'desc')).toEqual([29, 28, 27])
    const help = await cli('query', '--help')
    expect(help.out).toMatch(/--order <asc\|desc>\s+by capture time: asc \(the default\) lists the oldest first, desc the\s+newest first/)
    expect(help.out).toMatch(/JSON Lines/)
  })

  it('tells that demo, soak and bench run from a checkout of the repository', async () => {
    const r = await cli('demo')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/^ringside: 'demo' runs from a checkout of the Ringside repository \('npx -y pnpm@10\.34\.9 demo'\)/)
    expect((await cli('--help')).out).toMatch(/demo, soak, bench: from a checkout of the Ringside repository/)
  })
})

describe('ringside (the bin)', () => {
  const bin = fileURLToPath(new URL('../bin/ringside.js', import.meta.url))

  it('runs from the built package with paths relative to its working folder and clean JSON on stdout', () => {
    const r = spawnSync(process.execPath, [bin, 'query', 'events.db', '--pid', '<0.1.0>', '--limit', '4', '--json'], { cwd: appDir, encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as EventRecord)
    expect(rows.map((x) => x.event['pid'])).toEqual(['<0.1.0>', '<0.1.0>', '<0.1.0>', '<0.1.0>'])
  })

  it('exits 2 with the message on stderr for a bad flag', () => {
    const r = spawnSync(process.execPath, [bin, 'stats', 'events.db', '--limt'], { cwd: appDir, encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^ringside stats: unknown option '--limt'\. See 'ringside stats --help'\.\n$/)
  })
})
