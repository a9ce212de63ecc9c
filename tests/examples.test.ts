import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createStore } from '@ringside/storage'
import { freshSchema, startPgServer, type PgServer } from '@ringside/storage/testing'
import { untilAsync } from './fixtures/until.js'

// The applications in examples/, run as a user runs them: plain `node` on the workspace's build
// (the test command builds first), each in a folder of its own where it writes its SQLite file.

const examples = fileURLToPath(new URL('../examples/', import.meta.url))
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'ringside-example-'))
  dirs.push(d)
  return d
}

function node(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

async function countEvents(path: string, filter: { type?: string; pid?: string } = {}): Promise<number> {
  const store = await createStore({ kind: 'sqlite', path })
  try {
    return (await store.query({ ...filter, limit: 1_000_000 })).length
  } finally {
    await store.close()
  }
}

describe('examples/basic.mjs', () => {
  it('starts a pipeline, writes 1,000 events and stops with a balanced report, in plain node', async () => {
    const cwd = folder()
    const r = node([join(examples, 'basic.mjs')], cwd)
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('offered 1000, stored 1000, balanced: true\n')
    expect(await countEvents(join(cwd, 'events.db'), { type: 'call' })).toBe(1000)
  })
})

describe('examples/worker-producers.mjs', () => {
  it('lets worker threads and the main thread write into one ring, every event stored once', async () => {
    const cwd = folder()
    const r = node([join(examples, 'worker-producers.mjs'), '3000', '3'], cwd)
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain('offered 12000, refused 0, stored 12000, balanced: true')
    for (const name of ['main', 'worker-1', 'worker-2', 'worker-3']) expect(r.stdout).toContain(`${name}: 3000 events stored`)
    expect(await countEvents(join(cwd, 'events.db'))).toBe(12_000)
  })
})

describe('examples/http-server.mjs', () => {
  let child: ChildProcess | undefined
  afterAll(() => void child?.kill('SIGKILL'))

  it('records one event per request, answers /healthz from the pipeline, and stops gracefully on SIGTERM', async () => {
    const cwd = folder()
    child = spawn(process.execPath, [join(examples, 'http-server.mjs')], { cwd, env: { ...process.env, PORT: '0', DB: 'http.db' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()))
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve))
    await untilAsync(async () => /listening on http:\/\/127\.0\.0\.1:\d+\//.test(out), 60_000, 'the server listening')
    const base = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!
    for (let i = 0; i < 20; i++) expect((await fetch(`${base}items/${i}`)).status).toBe(200)
    const health = await fetch(`${base}healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'healthy' })
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(out).toContain('stopped: offered 21, stored 21, balanced: true')
    expect(await countEvents(join(cwd, 'http.db'), { type: 'request' })).toBe(21)
  })
})

describe('examples/typescript', () => {
  it('type-checks under strict application settings, builds with tsc and runs its custom stage in the writers', async () => {
    const project = join(examples, 'typescript')
    const tsc = spawnSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', project], { encoding: 'utf8', timeout: 120_000 })
    expect(tsc.stdout + tsc.stderr).toBe('')
    expect(tsc.status).toBe(0)
    const cwd = folder()
    const r = node([join(project, 'dist', 'main.js')], cwd)
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('offered 5, stored 3, filtered 2, balanced: true\nstored paths: /login /cart /checkout; passwords stored: 0\n')
  })
})

describe('examples/postgres.mjs', () => {
  let server: PgServer | undefined
  afterAll(async () => server?.stop())

  it('stores into PostgreSQL and reads back (or, with no PostgreSQL to be had, at least parses)', async () => {
    const script = join(examples, 'postgres.mjs')
    try {
      server = await startPgServer()
    } catch (err) {
      // No server could be started here (no apt-get, no network): check what can be checked.
      console.warn(`examples/postgres.mjs: syntax check only, no PostgreSQL (${String(err)})`)
      expect(node(['--check', script], examples).status).toBe(0)
      return
    }
    const r = node([script], folder(), { DATABASE_URL: server.url, PG_SCHEMA: freshSchema() })
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('offered 1000, stored 1000, balanced: true\nevents of pid <0.3.0> in the store: 100\n')
  }, 360_000)
})
