// The demo shop under instrumentation: requests/s and p99 latency of the shop (apps/demo/shop)
// driven at full speed by the demo's load generator (16 keep-alive connections, its own thread),
// with no capture, with HTTP capture only, with HTTP capture and the functions the shop's modules
// export traced (the load hook's `functions: 'exported'`), and with every function traced. Each measurement is a fresh process (load hooks cannot be
// removed); the configurations take turns, round after round (each round starting one further
// along, so no configuration always runs first), and the report gives medians and the spread.
// Beside requests/s it reports where the CPU went during the measured window: the shop's thread
// (µs per request), the whole process (shop, load generator, writers), and the rest of the machine
// (other programs on the same cores, read from /proc/stat), so a run that lost its cores to
// something else shows it.
// Usage: node bench/shop.mjs [--seconds 10] [--runs 3] [--configs none,http,exported,all] [--writers 1] [--linger 50]
//   (after the build; prints Markdown; --configs also takes idle: a pipeline started, nothing captured;
//   --writers and --linger set the pipeline's writer threads and lingerMs, else the register hook's
//   1 and 50, and --ring-size the ring's slots (default 65536); --configs also takes context: no
//   capture, only an AsyncLocalStorage entered for each
//   request as the HTTP watcher does, the price Node 20 charges for correlation alone)
// With --child <capture> it is one measured run and prints JSON.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
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
// The pipeline of the captured runs: writer threads and their linger. Defaults: the register
// hook's (packages/instrument README), which is what an instrumented application gets.
const writers = flag('writers', 1)
const lingerMs = flag('linger', 50)
const ALL_CONFIGS = [
  ['none', 1, 'no instrumentation'],
  ['idle', 1, 'a pipeline started, nothing captured'],
  ['context', 1, 'no capture, an AsyncLocalStorage entered per request'],
  ['http', 1, 'HTTP capture only (request and response events, correlation)'],
  ['exported', 1, "HTTP capture and the shop's exported functions traced"],
  ['all', 1, 'HTTP capture and every function of the shop traced'],
]
const chosen = argv.includes('--configs') ? argv[argv.indexOf('--configs') + 1].split(',') : ['none', 'http', 'exported', 'all']
for (const c of chosen) if (!ALL_CONFIGS.some(([name]) => name === c)) throw new Error(`--configs takes ${ALL_CONFIGS.map(([n]) => n).join(', ')}; got ${c}`)
if (chosen[0] !== 'none') throw new Error('--configs must start with none (the baseline)')
const CONFIGS = ALL_CONFIGS.filter(([name]) => chosen.includes(name))

// CPU time in clock ticks (USER_HZ, 100 on Linux): one thread's (utime + stime of
// /proc/self/task/<tid>/stat) and the machine's (busy and total of /proc/stat's first line).
const TICK_S = 0.01
const threadTicks = (tid) => {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
  const after = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return Number(after[11]) + Number(after[12])
}
const tids = () => new Set(readdirSync('/proc/self/task').map(Number))
const ticksOf = (set) => {
  let t = 0
  for (const tid of set) {
    try {
      t += threadTicks(tid)
    } catch {
      // the thread ended
    }
  }
  return t
}
const machineTicks = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const total = f.reduce((a, b) => a + b, 0)
  const idle = f[3] + (f[4] ?? 0)
  return { busy: total - idle, total }
}

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
  // The threads a pipeline starts (its writers): the ones that appear while it starts.
  const writerTids = new Set()
  if (capture === 'context') {
    // What the HTTP watcher does for correlation, and nothing else: Node 20's AsyncLocalStorage
    // turns on async hooks for every promise and async resource once it is entered.
    const { AsyncLocalStorage } = await import('node:async_hooks')
    const dc = await import('node:diagnostics_channel')
    const als = new AsyncLocalStorage()
    dc.subscribe('http.server.request.start', () => als.enterWith({ id: 0, corr: 'request' }))
  }
  if (capture !== 'none' && capture !== 'context') {
    ring = RingBuffer.create({ size: flag('ring-size', 1 << 16), maxEventBytes: 1024, overflowStrategy: 'drop_newest' })
    const before = tids()
    pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: join(dir, 'events.db') }, poolSize: writers, ...(lingerMs >= 0 ? { lingerMs } : {}) })
    for (const t of tids()) if (!before.has(t)) writerTids.add(t)
  }
  const shop = await hostShop(ring, capture === 'idle' || capture === 'context' ? 'none' : capture, 0, sampleEvery)
  // A short warm-up (JIT, connections), then the measured window.
  const warm = startLoad(shop.url, 0, 16)
  await new Promise((r) => setTimeout(r, 1000))
  await warm.stop()
  const load = startLoad(shop.url, 0, 16)
  const t0 = performance.now()
  const ru0 = process.resourceUsage()
  const main0 = threadTicks(process.pid)
  const w0 = ticksOf(writerTids)
  const cpu0 = process.cpuUsage()
  const m0 = machineTicks()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const counts = load.counts()
  const main1 = threadTicks(process.pid)
  const ru1 = process.resourceUsage()
  const w1 = ticksOf(writerTids)
  const cpu1 = process.cpuUsage(cpu0)
  const m1 = machineTicks()
  const r = await load.stop()
  const elapsed = (performance.now() - t0) / 1000
  const windowRequests = counts.ok + counts.refused + counts.failed
  const procS = (cpu1.user + cpu1.system) / 1e6
  // The machine's busy time in the window (CPU-seconds over every core) less this process's: what other programs took, in cores.
  const othersCores = Math.max(0, (m1.busy - m0.busy) * TICK_S - procS) / elapsed
  await shop.close()
  const report = pipeline ? await pipeline.stop({ timeoutMs: 60_000 }) : undefined
  rmSync(dir, { recursive: true, force: true })
  const answered = r.ok + r.refused
  process.stdout.write(
    JSON.stringify({
      rps: answered / elapsed,
      p99Ms: r.p99Ms,
      failed: r.failed,
      events: report?.offered ?? 0,
      dropped: report ? report.offered - report.stored : 0,
      balanced: report?.balanced ?? true,
      shopCpuUs: (((main1 - main0) * TICK_S) / windowRequests) * 1e6,
      writersCpuUs: (((w1 - w0) * TICK_S) / windowRequests) * 1e6,
      writerThreads: writerTids.size,
      procCpuUs: (procS / windowRequests) * 1e6,
      procCores: procS / elapsed,
      othersCores,
      // Minor page faults of the whole process per request: memory touched for the first time
      // (the ring's slots on its first lap, heaps growing).
      faultsPerRequest: (ru1.minorPageFault - ru0.minorPageFault) / windowRequests,
    }),
  )
  process.exit(0)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const results = CONFIGS.map(() => [])
for (let round = 0; round < runs; round++) {
  CONFIGS.forEach((_, k) => {
    const i = (k + round) % CONFIGS.length
    const [capture, sampleEvery] = CONFIGS[i]
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', capture, '--sample-every', String(sampleEvery), '--seconds', String(seconds), '--writers', String(writers), '--linger', String(lingerMs), '--ring-size', String(flag('ring-size', 1 << 16))], { encoding: 'utf8' })
    if (child.status !== 0) throw new Error(`run ${capture} failed: ${child.stderr}`)
    results[i].push(JSON.parse(child.stdout))
    process.stderr.write(`round ${round + 1}/${runs} ${capture}/${sampleEvery}: ${child.stdout}\n`)
  })
}
const base = median(results[0].map((r) => r.rps))
const fmt = (x) => Math.round(x).toLocaleString('en-US')
console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim().split(' ').slice(0, 2).join(' ')}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`)
const configsFlag = (argv.includes('--configs') ? ` --configs ${chosen.join(',')}` : '') + (argv.includes('--writers') ? ` --writers ${writers}` : '') + (argv.includes('--linger') ? ` --linger ${lingerMs}` : '') + (argv.includes('--ring-size') ? ` --ring-size ${flag('ring-size', 1 << 16)}` : '')
console.log(`Command: \`node bench/shop.mjs --seconds ${seconds} --runs ${runs}${configsFlag}\` (after \`npx -y pnpm@10.34.9 build\`); ${runs} rounds, medians; the load`)
console.log(`generator keeps 16 keep-alive connections busy from its own thread; captured events go to SQLite through ${writers} writer${writers === 1 ? '' : 's'}${lingerMs >= 0 ? ` (lingerMs ${lingerMs})` : ''}.`)
console.log('')
console.log('| shop | requests/s | vs none | p99 latency ms | events/request | events not stored | shop thread µs/request | writers µs/request | process µs/request | other programs, cores | runs (requests/s) |')
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|')
const f1 = (x) => x.toFixed(1)
CONFIGS.forEach(([, , label], i) => {
  const rs = results[i]
  const rps = median(rs.map((r) => r.rps))
  const perReq = median(rs.map((r) => r.events / (r.rps * seconds)))
  const delta = i === 0 ? '–' : `${(((rps - base) / base) * 100).toFixed(1)} %`
  const dropped = rs.reduce((a, r) => a + r.dropped, 0)
  const m = (k) => median(rs.map((r) => r[k]))
  const spread = (k) => `${fmt(Math.min(...rs.map((r) => r[k])))} – ${fmt(Math.max(...rs.map((r) => r[k])))}`
  console.log(
    `| ${label} | ${fmt(rps)} | ${delta} | ${m('p99Ms').toFixed(1)} | ${i === 0 || CONFIGS[i][0] === 'idle' || CONFIGS[i][0] === 'context' ? '–' : perReq.toFixed(1)} | ${i === 0 || CONFIGS[i][0] === 'context' ? '–' : fmt(dropped)} | ${fmt(m('shopCpuUs'))} (${spread('shopCpuUs')}) | ${m('writersCpuUs') > 0 ? fmt(m('writersCpuUs')) : '–'} | ${fmt(m('procCpuUs'))} | ${f1(m('othersCores'))} | ${rs.map((r) => fmt(r.rps)).join(', ')} |`,
  )
})
console.log('')
console.log('events/request: events offered to the ring over the run (warm-up included) per measured request. Events not stored: refused by a')
console.log("full ring (drop_newest) and counted in the balanced report; the shop never waits for the ring. CPU per request: the shop's")
console.log("thread, the pipeline's writer threads, and the whole process (shop, load generator, writers, the receipt worker), over the")
console.log("measured window (medians; the shop thread's with its spread); other programs: the machine's busy cores less this process.")
