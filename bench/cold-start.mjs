// Cold start: how long a plain `node` process takes to import Ringside and start a pipeline with
// two writers on SQLite, and how much memory (RSS) it then holds. Each run is a fresh process.
// Usage: node bench/cold-start.mjs [--runs N] [--entry ringside] [--node-arg=--import=tsx]
// (prints a Markdown report; with --child it is one measured run and prints JSON).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const argv = process.argv.slice(2)
const flag = (name, fallback) => {
  const at = argv.indexOf(`--${name}`)
  return at === -1 ? fallback : (argv[at + 1] ?? fallback)
}
const entry = flag('entry', 'ringside')

if (argv.includes('--child')) {
  // performance.now() counts from the process's time origin, so `total` includes Node's own boot.
  const dir = mkdtempSync(join(tmpdir(), 'ringside-cold-'))
  const beforeImport = performance.now()
  const { PipelineManager, RingBuffer } = await import(entry)
  const imported = performance.now()
  const ring = RingBuffer.create({ size: 1 << 14 })
  const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: join(dir, 'events.db') }, poolSize: 2 })
  const started = performance.now()
  const rssMb = process.memoryUsage().rss / 2 ** 20
  const report = await pipeline.stop({ timeoutMs: 10_000 })
  rmSync(dir, { recursive: true, force: true })
  if (!report.balanced) throw new Error('unbalanced report')
  console.log(JSON.stringify({ importMs: imported - beforeImport, startMs: started - imported, totalMs: started, rssMb }))
} else {
  const runs = Number(flag('runs', '7'))
  const nodeArgs = argv.filter((a) => a.startsWith('--node-arg=')).map((a) => a.slice('--node-arg='.length))
  const self = fileURLToPath(import.meta.url)
  const samples = []
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, [...nodeArgs, self, '--child', '--entry', entry], { cwd: fileURLToPath(new URL('.', import.meta.url)), encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`run ${i + 1} failed (${String(r.status)}): ${r.stderr}`)
    samples.push(JSON.parse(r.stdout.trim().split('\n').pop()))
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const row = (label, key, digits) => {
    const xs = samples.map((s) => s[key])
    const f = (x) => x.toFixed(digits)
    return `| ${label} | ${f(median(xs))} | ${f(Math.min(...xs))} – ${f(Math.max(...xs))} |`
  }
  const command = `node ${nodeArgs.join(' ')}${nodeArgs.length ? ' ' : ''}bench/cold-start.mjs --runs ${runs} --entry ${entry}`
  console.log(
    [
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
      `Command: \`${command}\`: each run is a fresh \`node\` process that imports \`${entry}\`, starts a pipeline with 2 writers on a new SQLite file, and stops it.`,
      '',
      `| cold start (${runs} runs) | median | spread |`,
      '|---|---:|---:|',
      row('`import` of the entry, ms', 'importMs', 0),
      row('`PipelineManager.start` with 2 writers (both ready), ms', 'startMs', 0),
      row('process start to pipeline started, ms', 'totalMs', 0),
      row('RSS once started, MiB', 'rssMb', 0),
    ].join('\n'),
  )
}
