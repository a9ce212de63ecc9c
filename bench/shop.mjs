// The demo shop under instrumentation: requests/s and p99 latency of the shop (apps/demo/shop)
// driven at full speed by the demo's load generator (16 keep-alive connections, its own thread),
// with no capture, with HTTP capture only, with HTTP capture and the functions the shop's modules
// export traced (the load hook's `functions: 'exported'`), and with every function traced. Each measurement is a fresh process (load hooks cannot be
// removed); the configurations take turns, round after round, and the report gives medians.
// Usage: node bench/shop.mjs [--seconds 10] [--runs 3]   (after the build; prints Markdown)
// With --child <capture> it is one measured run and prints JSON.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const argv = process.argv.slice(2)
const flag = (name, fallback) => {
  const at = argv.indexOf(`--${name}`)
  return at === -1 ? fallback : Number(argv[at + 1] ?? fallback)
}
const seconds = flag('seconds', 10)
const runs = flag('runs', 3)
const CONFIGS = [
  ['none', 1, 'no instrumentation'],
  ['http', 1, 'HTTP capture only (request and response events, correlation)'],
  ['exported', 1, "HTTP capture and the shop's exported functions traced"],
  ['all', 1, 'HTTP capture and every function of the shop traced'],
]

if (argv.includes('--child')) {
  const capture = argv[argv.indexOf('--child') + 1]
  const sampleEvery = flag('sample-every', 1)
  const demo = new URL('../apps/demo/dist/', import.meta.url)
  const { hostShop } = await import(new URL('shop-host.js', demo).href)
  const { startLoad } = await import(new URL('load.js', demo).href)
  const { PipelineManager, RingBuffer } = await import('@ringside/pipeline-manager')
  const dir = mkdtempSync(join(tmpdir(), 'ringside-shop-bench-'))
  let ring
  let pipeline
  if (capture !== 'none') {
    ring = RingBuffer.create({ size: 1 << 16, maxEventBytes: 1024, overflowStrategy: 'drop_newest' })
    pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: join(dir, 'events.db') }, poolSize: 2 })
  }
  const shop = await hostShop(ring, capture === 'idle' ? 'none' : capture, 0, sampleEvery)
  // A short warm-up (JIT, connections), then the measured window.
  const warm = startLoad(shop.url, 0, 16)
  await new Promise((r) => setTimeout(r, 1000))
  await warm.stop()
  const load = startLoad(shop.url, 0, 16)
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const r = await load.stop()
  const elapsed = (performance.now() - t0) / 1000
  await shop.close()
  const report = pipeline ? await pipeline.stop({ timeoutMs: 60_000 }) : undefined
  rmSync(dir, { recursive: true, force: true })
  const answered = r.ok + r.refused
  process.stdout.write(JSON.stringify({ rps: answered / elapsed, p99Ms: r.p99Ms, failed: r.failed, events: report?.offered ?? 0, dropped: report ? report.offered - report.stored : 0, balanced: report?.balanced ?? true }))
  process.exit(0)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const results = CONFIGS.map(() => [])
for (let round = 0; round < runs; round++) {
  CONFIGS.forEach(([capture, sampleEvery], i) => {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', capture, '--sample-every', String(sampleEvery), '--seconds', String(seconds)], { encoding: 'utf8' })
    if (child.status !== 0) throw new Error(`run ${capture} failed: ${child.stderr}`)
    results[i].push(JSON.parse(child.stdout))
    process.stderr.write(`round ${round + 1}/${runs} ${capture}/${sampleEvery}: ${child.stdout}\n`)
  })
}
const base = median(results[0].map((r) => r.rps))
const fmt = (x) => Math.round(x).toLocaleString('en-US')
console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim().split(' ').slice(0, 2).join(' ')}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`)
console.log(`Command: \`node bench/shop.mjs --seconds ${seconds} --runs ${runs}\` (after \`npx -y pnpm@10.34.9 build\`); ${runs} rounds, medians; the load`)
console.log('generator keeps 16 keep-alive connections busy from its own thread; captured events go to SQLite through 2 writers.')
console.log('')
console.log('| shop | requests/s | vs none | p99 latency ms | events/request | events not stored | runs (requests/s) |')
console.log('|---|---:|---:|---:|---:|---:|---|')
CONFIGS.forEach(([, , label], i) => {
  const rs = results[i]
  const rps = median(rs.map((r) => r.rps))
  const perReq = median(rs.map((r) => r.events / (r.rps * seconds)))
  const delta = i === 0 ? '–' : `${(((rps - base) / base) * 100).toFixed(1)} %`
  const dropped = rs.reduce((a, r) => a + r.dropped, 0)
  console.log(`| ${label} | ${fmt(rps)} | ${delta} | ${median(rs.map((r) => r.p99Ms)).toFixed(1)} | ${i === 0 ? '–' : perReq.toFixed(1)} | ${i === 0 ? '–' : fmt(dropped)} | ${rs.map((r) => fmt(r.rps)).join(', ')} |`)
})
console.log('')
console.log('events/request: events offered to the ring over the run (warm-up included) per measured request. Events not stored: refused by a')
console.log('full ring (drop_newest) and counted in the balanced report; the shop never waits for the ring.')
