import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, type QueryFilter } from '@ringside/storage'
import { runCli } from '../src/cli.js'
import { runDemo } from '../src/demo.js'
import { statusLine } from '../src/progress.js'
import { callTree } from '../src/trace-cmd.js'

const dir = mkdtempSync(join(tmpdir(), 'ringside-demo-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function capture() {
  const s = new PassThrough()
  let text = ''
  s.on('data', (c: Buffer) => (text += c.toString()))
  return { stream: s, text: () => text }
}

async function cli(...argv: string[]) {
  const out = capture()
  const err = capture()
  const code = await runCli(argv, out.stream, err.stream)
  return { code, out: out.text(), err: err.text() }
}

const db = join(dir, 'demo.db')
let k = 0
// better-sqlite3 is the storage package's driver; this app reaches it from there.
type Sqlite = new (path: string) => { exec(sql: string): unknown; close(): unknown }
const Database = createRequire(import.meta.resolve('@ringside/storage'))('better-sqlite3') as Sqlite

/** A user's own SQLite database (a `customers` table with three rows). */
function customersDb(): string {
  const path = join(dir, `customers-${++k}.db`)
  const userDb = new Database(path)
  userDb.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada'), ('Grace'), ('Edsger')")
  userDb.close()
  return path
}
/** A Ringside store holding `n` events of an earlier run. */
async function ringsideStore(n: number): Promise<string> {
  const path = join(dir, `earlier-${++k}.db`)
  const store = await createStore({ kind: 'sqlite', path })
  const ringId = 'cd'.repeat(16)
  await store.storeEvents(Array.from({ length: n }, (_, seq) => ({ key: `${ringId}:${seq}`, ringId, seq, capturedAt: 1_000 + seq, event: { type: 'call', seq } })))
  await store.close()
  return path
}
async function eventsIn(path: string): Promise<number> {
  const store = await createStore({ kind: 'sqlite', path, readOnly: true })
  try {
    return (await store.stats()).totalEvents
  } finally {
    await store.close()
  }
}

const BIN = new URL('../bin/ringside.mjs', import.meta.url).pathname

/** Runs the built `ringside demo` in a real process (the shop must load through Node's own loader, where the hooks are). */
function demoProcess(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    child.once('exit', (code) => resolve({ code, out }))
  })
}

async function stored(filter: QueryFilter): Promise<Record<string, unknown>[]> {
  const store = await createStore({ kind: 'sqlite', path: db, readOnly: true })
  try {
    return (await store.query(filter)).map((r) => r.event)
  } finally {
    await store.close()
  }
}

describe('ringside demo: the shop under load', () => {
  let run: { code: number | null; out: string }
  beforeAll(async () => {
    run = await demoProcess(['--duration', '5', '--rate', '150', '--port', '0', '--db', db])
  }, 120_000)

  it('serves requests, some refused on purpose, none failed, and exits 0', () => {
    expect(run.code).toBe(0)
    const m = /requests: ([\d,]+) sent, ([\d,]+) answered 2xx, ([\d,]+) 4xx .*?, ([\d,]+) failed/.exec(run.out)
    expect(m).not.toBeNull()
    const [sent, ok, refused, failed] = m!.slice(1).map((x) => Number(x.replace(/,/g, '')))
    expect(ok).toBeGreaterThan(0)
    expect(refused).toBeGreaterThan(0)
    expect(failed).toBe(0)
    expect(ok! + refused! + failed!).toBe(sent)
    expect(run.out).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/ /m)
    // not a terminal: plain progress lines, no carriage returns
    expect(run.out).not.toMatch(/\r/)
    expect(run.out).toMatch(/requests [\d,]+\/s .*\| stored [\d,]+\/s \| ring/)
  })

  it('kills and restarts a writer and scales the pool 2→4→2 while requests flow', () => {
    expect(run.out).toMatch(/killing writer-1/)
    expect(run.out).toMatch(/supervisor restarted writer-1/)
    expect(run.out).toMatch(/pool scaled from 2 to 4/)
    expect(run.out).toMatch(/pool scaled from 4 to 2/)
  })

  it('balances its accounting report', () => {
    expect(run.out).toMatch(/offered = stored \+ dropped \+ quarantined \+ filtered \+ in flight: ([\d,]+) = \1 → balanced/)
  })

  it("stores calls and returns of the shop's functions, each with its AST node", async () => {
    const calls = await stored({ type: 'call', module: 'cart.mjs', function: 'addItem' })
    expect(calls.length).toBeGreaterThan(0)
    for (const e of calls.slice(0, 20)) expect(e).toMatchObject({ arity: 3, astNodeId: expect.stringMatching(/^cart\.mjs:\d+:\d+$/) })
    expect((await stored({ type: 'return', module: 'payment.mjs', function: 'charge', limit: 5 })).length).toBeGreaterThan(0)
  })

  it('stores each HTTP request with a correlation id from its traceparent', async () => {
    const requests = await stored({ type: 'http_server_request', limit: 50 })
    expect(requests.length).toBeGreaterThan(0)
    for (const e of requests) {
      expect(e.correlationId).toMatch(/^[0-9a-f]{32}$/)
      expect(String(e.traceparent)).toContain(String(e.correlationId))
    }
  })

  it('stores the OutOfStockError thrown for the sold-out item', async () => {
    const thrown = await stored({ type: 'exception', module: 'inventory.mjs', function: 'reserve', limit: 5 })
    expect(thrown.length).toBeGreaterThan(0)
    expect(thrown[0]!.error).toMatchObject({ name: 'OutOfStockError', message: 'umbrella is out of stock' })
    expect(run.out).toMatch(/inventory\.mjs\.reserve {2}OutOfStockError: umbrella is out of stock/)
  })

  it("prints one checkout's call tree, with calls nested under their callers, as the store holds it", async () => {
    const corr = /one paid checkout, as 'ringside trace <db> --correlation ([0-9a-f]{32})' prints it/.exec(run.out)?.[1]
    expect(corr).toBeDefined()
    expect(run.out).toMatch(/\n {6}server\.mjs\.route\/2 /)
    expect(run.out).toMatch(/\n {10}payment\.mjs\.charge\/2 /)
    const tree = callTree(await stored({ correlationId: corr!, order: 'asc' }))
    const depth = (items: ReturnType<typeof callTree>): number => Math.max(0, ...items.map((i) => ('node' in i ? 1 + depth(i.node.children) : 0)))
    expect(depth(tree)).toBeGreaterThanOrEqual(3)
    const traced = await cli('trace', db, '--correlation', corr!)
    expect(traced.code).toBe(0)
    expect(run.out).toContain(traced.out.split('\n')[0])
  })

  it('names the slowest endpoint from the HTTP request events', () => {
    expect(run.out).toMatch(/slowest endpoint: (GET|POST) \/\S+/)
    expect(run.out).toMatch(/busiest AST nodes/)
  })
})

describe('runDemo', () => {
  it('refuses to replace a file that is not a Ringside store', async () => {
    const other = join(dir, 'precious.txt')
    writeFileSync(other, 'not a database, keep me')
    await expect(runDemo({ rate: 100, durationSec: 1, poolSize: 1, dbPath: other, drills: false, out: capture().stream })).rejects.toThrow(/not a Ringside store/)
  })
})

describe('ringside demo (a real process)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('stops gracefully on %s: drains, reports, exits 0', async (signal) => {
    const child = spawn(process.execPath, [BIN, 'demo', '--duration', '120', '--rate', '100', '--port', '0', '--db', join(dir, `${signal}.db`)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const deadline = Date.now() + 30_000
    while (!/offered [\d,]+\/s/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    child.kill(signal)
    expect(await exited).toBe(0)
    expect(out).toMatch(/interrupted: stopping gracefully/)
    expect(out).toMatch(/→ balanced/)
  })
})

describe('ringside CLI', () => {
  it('query: filters as flags, table or JSON output', async () => {
    const all = await cli('query', db, '--limit', '5', '--json')
    expect(all.code).toBe(0)
    const rows = all.out.trim().split('\n').map((l) => JSON.parse(l) as { key: string; event: { pid: string } })
    expect(rows).toHaveLength(5)
    const pid = rows[0]!.event.pid
    const ofPid = await cli('query', db, '--pid', pid, '--type', 'call', '--order', 'desc', '--limit', '3', '--json')
    const got = ofPid.out.trim().split('\n').map((l) => JSON.parse(l) as { capturedAt: number; event: { pid: string; type: string } })
    expect(got.length).toBeGreaterThan(0)
    for (const r of got) expect(r.event).toMatchObject({ pid, type: 'call' })
    expect(got.map((r) => r.capturedAt)).toEqual([...got.map((r) => r.capturedAt)].sort((a, b) => b - a))
    const table = await cli('query', db, '--module', 'cart.mjs', '--function', 'addItem', '--arity', '3', '--limit', '2')
    expect(table.out).toMatch(/cart\.mjs\.addItem\/3/)
    expect(table.out).toMatch(/2 events/)
  })

  it('stats: totals as text or JSON', async () => {
    const s = await cli('stats', db, '--json')
    expect(s.code).toBe(0)
    expect(JSON.parse(s.out).totalEvents).toBeGreaterThan(1000)
    expect((await cli('stats', db)).out).toMatch(/^events\s+[\d,]+/m)
  })

  it.each([
    [['query'], /missing <db>/],
    [['query', '/no/such.db'], /no such file/],
    [['query', db, '--order', 'sideways'], /--order must be asc or desc/],
    [['query', db, '--limit', 'ten'], /--limit must be an integer/],
    [['query', db, '--since', 'yesterday-ish'], /--since must be an ISO date/],
    [['query', db, '--colour', 'red'], /unknown option '--colour'/],
    [['demo', '--rate', '0'], /--rate must be an integer from 1/],
    [['stats'], /missing <db>/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('refuses %j with a clear message and exit code 2', async (argv, message) => {
    const r = await cli(...argv)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(message)
  })

  it.each(['demo', 'soak'])("%s refuses an existing SQLite database of the user's with exit 2, and leaves it as it was", async (command) => {
    const path = customersDb()
    const before = readFileSync(path)
    const r = await cli(command, '--db', path, ...(command === 'demo' ? ['--duration', '1', '--port', '0', '--fresh'] : ['--seconds', '1', '--fresh']))
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/is not a Ringside store; it is left as it is/)
    expect(readFileSync(path).equals(before)).toBe(true)
    expect(existsSync(`${path}-wal`)).toBe(false)
  })

  it.each(['demo', 'soak'])('%s asks for --fresh before it replaces a Ringside store', async (command) => {
    const path = await ringsideStore(100)
    const r = await cli(command, '--db', path, ...(command === 'demo' ? ['--duration', '1', '--port', '0'] : ['--seconds', '1']))
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/Ringside store holding 100 events; pass --fresh to replace it/)
    expect(await eventsIn(path)).toBe(100)
  })

  it('demo --fresh replaces a Ringside store', async () => {
    const path = await ringsideStore(100)
    // A real process: the shop loads through Node's own loader, where the instrument's hooks are.
    const r = await demoProcess(['--db', path, '--fresh', '--duration', '1', '--rate', '100', '--port', '0', '--no-drills'])
    expect(r.code).toBe(0)
    const store = await createStore({ kind: 'sqlite', path, readOnly: true })
    expect(await store.getEvent(`${'cd'.repeat(16)}:0`)).toBeUndefined()
    await store.close()
  })

  it.each(['query', 'stats'])("%s reads, never writes: a user's database is refused with exit 2 and left as it was", async (command) => {
    const path = customersDb()
    const before = readFileSync(path)
    const r = await cli(command, path)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/cannot be read as a Ringside store/)
    expect(readFileSync(path).equals(before)).toBe(true)
  })

  it('prints help for every command', async () => {
    for (const c of ['demo', 'query', 'stats', 'soak', 'bench']) {
      const r = await cli(c, '--help')
      expect(r.code).toBe(0)
      expect(r.out).toMatch(new RegExp(`Usage: ringside ${c}`))
    }
    expect((await cli('--help')).out).toMatch(/Commands:/)
  })
})

describe('statusLine', () => {
  it('shows a bar on a terminal and plain seconds otherwise', () => {
    const s = { elapsedSec: 5, durationSec: 20, offeredPerSec: 10_000, storedPerSec: 9_990, ringFill: 0.012, writersAlive: 2, writersTarget: 2, restarts: 1, p99Ms: 12.34 }
    expect(statusLine(s, true)).toMatch(/^\[#####-{15}\]\s+25% \| offered 10,000\/s \| stored 9,990\/s \| ring 1\.2% \| writers 2\/2 \| restarts 1 \| p99 capture→commit 12\.3 ms$/)
    expect(statusLine(s, false)).toMatch(/^5\.0s\/20s \|/)
    expect(statusLine({ ...s, recent: { p99Ms: 4.56, windowSeconds: 10 } }, false)).toMatch(/\| p99 capture→commit 4\.6 ms \(last 10 s\), 12\.3 ms since start$/)
    expect(statusLine({ ...s, requests: { perSec: 300, refused: 12, failed: 0 } }, false)).toMatch(/^5\.0s\/20s \| requests 300\/s \(4xx 12, failed 0\) \| offered/)
  })
})
