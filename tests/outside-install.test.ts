import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Ringside as a user gets it: every package is packed with pnpm as it would be published, the
// tarballs are installed with plain `npm install` into a fresh folder outside the workspace, and
// an application there uses them with plain node (no loader), tsc and npx.
//
// npm's cache for these installs is kept in node_modules/.cache between runs. better-sqlite3's
// install script (prebuild-install, else a 2-5 minute build from source) fetches a prebuilt binary
// from GitHub's releases when it can; this machine may not reach GitHub, so its download cache is
// seeded with the binary the workspace built from the same version with the same Node, which is
// what that download holds. The install itself is unchanged: plain npm, better-sqlite3's own
// install script. RINGSIDE_OUTSIDE_FROM_SOURCE=1 skips the seed (and takes the long build).

const root = fileURLToPath(new URL('..', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'ringside-outside-'))
const tarballs = join(work, 'tarballs')
const app = join(work, 'app')
const npmCache = join(root, 'node_modules', '.cache', 'ringside-outside-install')
afterAll(() => rmSync(work, { recursive: true, force: true }))

function run(cmd: string, args: readonly string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 120_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_cache: npmCache, npm_config_update_notifier: 'false', ...env } })
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error }
}
function mustRun(cmd: string, args: readonly string[], cwd: string, timeoutMs?: number): string {
  const r = run(cmd, args, cwd, {}, timeoutMs)
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${String(r.status ?? r.error)}):\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

const versionOf = (pkg: string, from = root): string => {
  const req = createRequire(join(from, 'package.json'))
  return (JSON.parse(readFileSync(req.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version
}

/** Puts the workspace's better-sqlite3 binary where prebuild-install looks for its download. */
function seedBetterSqlite3Download(version: string): void {
  const req = createRequire(join(root, 'packages', 'storage', 'package.json'))
  const dir = dirname(req.resolve('better-sqlite3/package.json'))
  const url = `https://github.com/WiseLibs/better-sqlite3/releases/download/v${version}/better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`
  // prebuild-install's cache name: the first 6 hex digits of the URL's SHA-512, then the file name.
  const file = join(npmCache, '_prebuilds', `${createHash('sha512').update(url).digest('hex').slice(0, 6)}-${basename(url).replace(/[^a-zA-Z0-9.]+/g, '-')}`)
  if (existsSync(file)) return
  mkdirSync(dirname(file), { recursive: true })
  mustRun('tar', ['czf', file, '-C', dir, 'build/Release/better_sqlite3.node'], root)
}

const tarContents = new Map<string, { files: string[]; manifest: Record<string, unknown> }>()
let installSeconds = Number.NaN

beforeAll(() => {
  // The test command has built dist/ already; run alone, this file builds it (a no-op when current).
  mustRun(process.execPath, ['scripts/build.mjs'], root, 300_000)
  mustRun('npx', ['-y', 'pnpm@10.34.9', '-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballs], root, 300_000)
  const deps: Record<string, string> = {}
  for (const tgz of readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))) {
    const path = join(tarballs, tgz)
    const manifest = JSON.parse(mustRun('tar', ['-xzOf', path, 'package/package.json'], work)) as { name: string }
    tarContents.set(manifest.name, { files: mustRun('tar', ['-tzf', path], work).trim().split('\n'), manifest })
    deps[manifest.name] = `file:${path}`
  }
  const sqliteVersion = versionOf('better-sqlite3', join(root, 'packages', 'storage'))
  if (process.env.RINGSIDE_OUTSIDE_FROM_SOURCE !== '1') seedBetterSqlite3Download(sqliteVersion)
  mkdirSync(app)
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'outside-app',
        private: true,
        type: 'module',
        dependencies: deps,
        devDependencies: { typescript: versionOf('typescript'), '@types/node': versionOf('@types/node') },
        // The version the workspace is tested with (and whose binary the seed holds).
        overrides: { 'better-sqlite3': sqliteVersion },
      },
      null,
      2,
    ),
  )
  const started = Date.now()
  mustRun('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app, 900_000)
  installSeconds = (Date.now() - started) / 1000
  console.log(`npm install of the packed tarballs (and typescript, @types/node) took ${installSeconds.toFixed(1)} s`)
}, 1_200_000)

describe('the packed tarballs', () => {
  it('hold built JavaScript, declarations and sources, every export target, and no tests or fixtures', () => {
    expect([...tarContents.keys()].sort()).toEqual(['@ringside/async-writer', '@ringside/core-ringbuffer', '@ringside/instrument', '@ringside/pipeline-manager', '@ringside/storage', 'ringside'])
    for (const [name, { files, manifest }] of tarContents) {
      expect(files, name).toContain('package/dist/index.js')
      expect(files, name).toContain('package/dist/index.d.ts')
      expect(files, name).toContain('package/LICENSE')
      expect(files.filter((f) => /\/test\/|fixtures|\.test\.|tsbuildinfo|tsconfig/.test(f)), name).toEqual([])
      expect(manifest['license'], name).toBe('MIT')
      const targets = Object.values(manifest['exports'] as Record<string, unknown>).flatMap((t) => (t !== null && typeof t === 'object' ? Object.values(t) : [t]))
      for (const t of targets) if (typeof t === 'string') expect(files, `${name}: ${t}`).toContain(`package/${t.slice(2)}`)
      const deps = Object.keys((manifest['dependencies'] ?? {}) as Record<string, string>)
      expect(deps.filter((d) => d === 'tsx' || d === 'esbuild'), name).toEqual([])
    }
  })
})

describe('an application outside the workspace', () => {
  it('runs with plain node: a pipeline on SQLite takes 10,000 events from its main thread and a worker thread of its own, balances, and reads them back', () => {
    writeFileSync(
      join(app, 'producer.mjs'),
      `import { parentPort, workerData } from 'node:worker_threads'
import { RingBuffer } from 'ringside'
const ring = RingBuffer.attach(workerData.handle)
let refused = 0
for (let i = 0; i < workerData.n; i++) if (!ring.write({ type: 'message', pid: '<0.2.0>', module: 'Worker', function: 'send', arity: 2, i }).ok) refused++
parentPort.postMessage(refused)
`,
    )
    writeFileSync(
      join(app, 'main.mjs'),
      `import { Worker } from 'node:worker_threads'
import { PipelineManager, RingBuffer, createStore } from 'ringside'
const ring = RingBuffer.create({ size: 1 << 14 })
const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: 'events.db' }, poolSize: 2 })
const worker = new Worker(new URL('./producer.mjs', import.meta.url), { workerData: { handle: ring.handle, n: 5000 } })
const fromWorker = new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
let refused = 0
for (let i = 0; i < 5000; i++) if (!ring.write({ type: 'call', pid: '<0.1.0>', module: 'Main', function: 'work', arity: 1, i }).ok) refused++
refused += await fromWorker
const report = await pipeline.stop({ timeoutMs: 60000 })
const store = await createStore({ kind: 'sqlite', path: 'events.db' })
const fromMain = (await store.query({ pid: '<0.1.0>', type: 'call' })).length
const fromThread = (await store.query({ pid: '<0.2.0>', module: 'Worker', function: 'send', arity: 2 })).length
const total = (await store.stats()).totalEvents
await store.close()
console.log(JSON.stringify({ refused, report, fromMain, fromThread, total }))
`,
    )
    const r = run(process.execPath, ['main.mjs'], app)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout) as { refused: number; report: Record<string, unknown>; fromMain: number; fromThread: number; total: number }
    expect(out).toMatchObject({ refused: 0, fromMain: 5000, fromThread: 5000, total: 10_000 })
    expect(out.report).toMatchObject({ offered: 10_000, accepted: 10_000, stored: 10_000, quarantined: 0, inFlight: 0, balanced: true, countedBy: 'store' })
    // Nothing compiles TypeScript at run time: neither tsx nor esbuild was installed.
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false)
    expect(existsSync(join(app, 'node_modules', 'esbuild'))).toBe(false)
  })

  it('runs examples/basic.mjs as it is', () => {
    mkdirSync(join(app, 'basic'))
    copyFileSync(join(root, 'examples', 'basic.mjs'), join(app, 'basic', 'basic.mjs'))
    const r = run(process.execPath, ['basic.mjs'], join(app, 'basic'))
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('offered 1000, stored 1000, balanced: true\n')
  })

  it('type-checks a TypeScript application with strict settings, lib es2022 and skipLibCheck off (tsc --noEmit)', () => {
    const project = join(app, 'typed')
    mkdirSync(join(project, 'src'), { recursive: true })
    copyFileSync(join(root, 'examples', 'typescript', 'tsconfig.json'), join(project, 'tsconfig.json'))
    for (const f of ['main.ts', 'redact-stage.ts']) copyFileSync(join(root, 'examples', 'typescript', 'src', f), join(project, 'src', f))
    // Every public entry point, so that each one's declarations are checked, not only the main one's.
    const entryPoints = [...tarContents].flatMap(([name, { manifest }]) =>
      Object.entries(manifest['exports'] as Record<string, unknown>)
        .filter(([, target]) => target !== null && typeof target === 'object')
        .map(([sub]) => `${name}${sub.slice(1)}`)
        // The pool's comlink wrapper: its declarations are comlink's own, which need the DOM lib.
        .filter((entry) => entry !== '@ringside/async-writer/comlink'),
    )
    expect(entryPoints).toEqual(expect.arrayContaining(['ringside', 'ringside/testing', 'ringside/cli', '@ringside/storage/postgres', '@ringside/async-writer/protocol']))
    writeFileSync(join(project, 'src', 'entry-points.ts'), entryPoints.map((e, i) => `export type * as e${i} from '${e}'\n`).join(''))
    const tsconfig = readFileSync(join(project, 'tsconfig.json'), 'utf8')
    for (const setting of ['"strict": true', '"exactOptionalPropertyTypes": true', '"noPropertyAccessFromIndexSignature": true', '"noUncheckedIndexedAccess": true', '"skipLibCheck": false', '"target": "es2022"', '"lib": ["es2022"]']) {
      expect(tsconfig).toContain(setting)
    }
    const r = run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--noEmit'], app)
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  // Reads the events.db the first test of this group wrote.
  it('answers npx ringside stats and query from its folder, with a relative path and JSON alone on stdout', () => {
    const stats = run('npx', ['ringside', 'stats', 'events.db', '--json'], app)
    expect(stats.status).toBe(0)
    expect(JSON.parse(stats.stdout)).toMatchObject({ totalEvents: 10_000, deadLetters: 0 })
    const query = run('npx', ['ringside', 'query', 'events.db', '--pid', '<0.2.0>', '--order', 'desc', '--limit', '3', '--json'], app)
    expect(query.status).toBe(0)
    const rows = query.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { event: Record<string, unknown> })
    expect(rows.map((row) => row.event['i'])).toEqual([4999, 4998, 4997])
    const bad = run('npx', ['ringside', 'query', 'events.db', '--limt', '3'], app)
    expect(bad.status).toBe(2)
    expect(bad.stdout).toBe('')
    expect(bad.stderr).toContain("unknown option '--limt'; did you mean '--limit'?")
  })

  it('instruments a plain app with node --import ringside/register, with no change to its code, and stores its calls', () => {
    mkdirSync(join(app, 'shop'), { recursive: true })
    writeFileSync(join(app, 'shop', 'cart.mjs'), 'export function add(items, sku) { return [...items, sku] }\nexport function total(items) { return items.length * 3 }\n')
    writeFileSync(join(app, 'shop', 'main.mjs'), "import { add, total } from './cart.mjs'\nlet items = []\nfor (const sku of ['tea', 'jam', 'oat']) items = add(items, sku)\nconsole.log(total(items))\n")
    const r = run(process.execPath, ['--import', 'ringside/register', join('shop', 'main.mjs')], app, { RINGSIDE_STORE: 'traced.db', RINGSIDE_INCLUDE: 'shop/**/*.mjs' })
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('9')
    const calls = run('npx', ['ringside', 'query', 'traced.db', '--type', 'call', '--function', 'add', '--json'], app)
    expect(calls.status).toBe(0)
    const events = calls.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { event: Record<string, unknown> }).event)
    expect(events).toHaveLength(3)
    expect(events[0]).toMatchObject({ module: expect.stringContaining('cart') as unknown, function: 'add', arity: 2 })
    expect(typeof events[0]!['astNodeId']).toBe('string')
  })

  it('refuses to start a writer whose stage is TypeScript when tsx is not installed, saying to install it', () => {
    writeFileSync(join(app, 'stage.ts'), 'export const createStage = () => ({ process: (e: Record<string, unknown>) => e })\n')
    writeFileSync(
      join(app, 'ts-stage.mjs'),
      `import { PipelineManager, RingBuffer } from 'ringside'
const ring = RingBuffer.create({ size: 1 << 10 })
try {
  await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1, stages: [{ target: new URL('./stage.ts', import.meta.url).href }] })
  console.log(JSON.stringify({ started: true }))
} catch (err) {
  console.log(JSON.stringify({ name: err.name, code: err.code, message: err.message }))
}
`,
    )
    const r = run(process.execPath, ['ts-stage.mjs'], app)
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout) as { name: string; code: string; message: string }
    expect(out).toMatchObject({ name: 'WriterStartError', code: 'writer_start_failed' })
    expect(out.message).toContain('TypeScriptLoaderError')
    expect(out.message).toContain('install tsx')
  })
})
