import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

// How writer threads start, built and from sources. The workspace's build is the package as a user
// gets it (the test command builds first); the sources are what vitest runs.

const dir = mkdtempSync(join(tmpdir(), 'ringside-entry-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const builtEntry = new URL('../packages/async-writer/dist/entry.js', import.meta.url).href
const sourceEntry = new URL('../packages/async-writer/src/entry.ts', import.meta.url).href

describe('writerEntry', () => {
  it('names the built writer-main.js beside the built entry, with nothing to load it through', () => {
    // A plain node process, as an application runs it.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const { writerEntry } = await import(${JSON.stringify(builtEntry)}); console.log(JSON.stringify(writerEntry()))`], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ script: new URL('../packages/async-writer/dist/writer-main.js', import.meta.url).href })
  })

  it("falls back to the tsx bootstrap only when it runs from its TypeScript source (the workspace's tests)", async () => {
    const { writerEntry } = (await import(sourceEntry)) as typeof import('../packages/async-writer/src/entry.js')
    const entry = writerEntry()
    expect(entry.script.href).toBe(new URL('../packages/async-writer/src/boot.mjs', import.meta.url).href)
    expect(entry.entry).toBe(new URL('../packages/async-writer/src/writer-main.ts', import.meta.url).href)
  })
})

describe('a built writer', () => {
  it('loads a TypeScript stage through tsx when tsx is installed beside the application', () => {
    const stage = new URL('../packages/async-writer/test/fixtures/tag-stage.ts', import.meta.url).href
    const app = join(dir, 'app.mjs')
    // Resolved from the workspace, where the packages are built and tsx is a devDependency.
    const manager = new URL('../packages/pipeline-manager/dist/index.js', import.meta.url).href
    writeFileSync(
      app,
      `import { PipelineManager, RingBuffer } from ${JSON.stringify(manager)}
const ring = RingBuffer.create({ size: 1 << 10 })
const pipeline = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1, stages: [{ target: ${JSON.stringify(stage)}, options: { tag: 'typed' } }] })
for (let i = 0; i < 10; i++) ring.write({ type: 'call', i, drop: i % 5 === 0 })
const report = await pipeline.stop({ timeoutMs: 10000 })
console.log(JSON.stringify({ stored: report.stored, filtered: report.filtered, balanced: report.balanced, loaders: process.execArgv }))
`,
    )
    const r = spawnSync(process.execPath, [app], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 60_000 })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ stored: 8, filtered: 2, balanced: true, loaders: [] })
  })
})
