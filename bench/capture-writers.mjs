// What the writers cost an instrumented application, by pipeline setting: events shaped like the
// register hook's (HTTP request and response, call and return) offered at a steady rate from the
// main thread into a pipeline with SQLite, and the CPU time of the writer threads per event and per
// second, with the batches they made. On a machine whose cores the application needs, writer CPU is
// taken from it; at the modest rates an instrumented app produces, a batch's fixed price (its
// transaction, the file check, the wake-ups) is paid for few events unless the writer lingers.
// The settings take turns, round after round (each round starting one further along); medians.
// Usage: node bench/capture-writers.mjs [--rates 1000,10000] [--settings 2x5,1x5,1x50] [--seconds 5] [--runs 3]
//   (after the build; a setting is <writers>x<lingerMs>; prints Markdown)
// With --child <rate> <writers> <linger> it is one measured run and prints JSON.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const at = argv.indexOf(`--${name}`)
  return at === -1 ? fallback : argv[at + 1] ?? fallback
}
const seconds = Number(opt('seconds', 5))
const runs = Number(opt('runs', 3))

// CPU ticks (USER_HZ, 100 on Linux) of threads of this process, from /proc/self/task/<tid>/stat.
const TICK_S = 0.01
const tids = () => new Set(readdirSync('/proc/self/task').map(Number))
const ticksOf = (set) => {
  let t = 0
  for (const tid of set) {
    try {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const after = f.slice(f.lastIndexOf(')') + 2).split(' ')
      t += Number(after[11]) + Number(after[12])
    } catch {
      // the thread ended
    }
  }
  return t
}

if (argv.includes('--child')) {
  const at = argv.indexOf('--child')
  const [rate, writers, lingerMs] = argv.slice(at + 1, at + 4).map(Number)
  const { PipelineManager, RingBuffer } = await import('@ringside/pipeline-manager')
  const dir = mkdtempSync(join(tmpdir(), 'ringside-capture-writers-'))
  const ring = RingBuffer.create({ size: 1 << 16, maxEventBytes: 1024, overflowStrategy: 'drop_newest' })
  const before = tids()
  const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: join(dir, 'events.db') }, poolSize: writers, lingerMs })
  const writerTids = new Set([...tids()].filter((t) => !before.has(t)))
  const pid = `<${process.pid}.0>`
  let n = 0
  // One request's events: its HTTP pair around two traced calls, as the register hook writes them.
  const request = () => {
    const corr = (n++).toString(16).padStart(32, '0')
    ring.write({ type: 'http_server_request', pid, correlationId: corr, method: 'POST', url: '/carts/c12/items', traceparent: `00-${corr}-00f067aa0ba902b7-01` })
    ring.write({ type: 'call', pid, module: 'cart.mjs', function: 'addItem', arity: 3, astNodeId: 'cart.mjs:24:8', callId: n, parentId: 0, correlationId: corr, args: ['c12', 'tea', 2] })
    ring.write({ type: 'return', pid, module: 'cart.mjs', function: 'addItem', arity: 3, astNodeId: 'cart.mjs:24:8', callId: n, correlationId: corr, durationMs: 0.02, result: { $type: 'Object', id: 'c12', lines: '[Array(2)]' } })
    ring.write({ type: 'http_server_response', pid, correlationId: corr, method: 'POST', url: '/carts/c12/items', status: 200, durationMs: 0.4 })
  }
  // A steady rate: every millisecond, the events due since the start.
  const t0 = performance.now()
  let sent = 0
  const w0 = ticksOf(writerTids)
  const m0 = pipeline.getMetrics().totals
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0
      const due = Math.floor((elapsed / 1000) * rate)
      while (sent + 4 <= due) {
        request()
        sent += 4
      }
      if (elapsed >= seconds * 1000) {
        clearInterval(timer)
        resolve()
      }
    }, 1)
  })
  // Give the writers their linger to take the last batch, then read their CPU.
  await new Promise((r) => setTimeout(r, Math.max(100, lingerMs * 2)))
  const w1 = ticksOf(writerTids)
  const m1 = pipeline.getMetrics().totals
  const report = await pipeline.stop({ timeoutMs: 60_000 })
  rmSync(dir, { recursive: true, force: true })
  const stored = m1.eventsStored - m0.eventsStored
  const batches = m1.batchesProcessed - m0.batchesProcessed
  const cpuS = (w1 - w0) * TICK_S
  process.stdout.write(JSON.stringify({ sent, stored, batches, cpuUsPerEvent: (cpuS / Math.max(1, stored)) * 1e6, writerCores: cpuS / seconds, eventsPerBatch: stored / Math.max(1, batches), balanced: report.balanced, notStored: report.offered - report.stored }))
  process.exit(0)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const rates = String(opt('rates', '1000,10000')).split(',').map(Number)
const settings = String(opt('settings', '2x5,1x5,1x50')).split(',').map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s)
  if (!m) throw new Error(`a setting is <writers>x<lingerMs>, got ${s}`)
  return { label: s, writers: Number(m[1]), linger: Number(m[2]) }
})
const cases = rates.flatMap((rate) => settings.map((s) => ({ rate, ...s })))
const results = cases.map(() => [])
for (let round = 0; round < runs; round++) {
  cases.forEach((_, k) => {
    const i = (k + round) % cases.length
    const c = cases[i]
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(c.rate), String(c.writers), String(c.linger), '--seconds', String(seconds)], { encoding: 'utf8' })
    if (child.status !== 0) throw new Error(`run ${c.rate}/${c.label} failed: ${child.stderr}`)
    results[i].push(JSON.parse(child.stdout))
    process.stderr.write(`round ${round + 1}/${runs} ${c.rate}/s ${c.label}: ${child.stdout}\n`)
  })
}
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1))
console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim().split(' ').slice(0, 2).join(' ')}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`)
console.log(`Command: \`node bench/capture-writers.mjs --rates ${rates.join(',')} --settings ${settings.map((s) => s.label).join(',')} --seconds ${seconds} --runs ${runs}\`; ${runs} rounds, medians (spread);`)
console.log('events shaped like the register hook\'s (4 per request: HTTP request and response, a call and its return) into SQLite.')
console.log('')
console.log('| events/s | writers × lingerMs | writer CPU µs/event | writer cores | events/batch | events not stored |')
console.log('|---:|---|---:|---:|---:|---:|')
cases.forEach((c, i) => {
  const rs = results[i]
  const m = (k) => median(rs.map((r) => r[k]))
  const spread = (k) => `${fmt(Math.min(...rs.map((r) => r[k])))} – ${fmt(Math.max(...rs.map((r) => r[k])))}`
  console.log(`| ${c.rate.toLocaleString('en-US')} | ${c.writers} × ${c.linger} | ${fmt(m('cpuUsPerEvent'))} (${spread('cpuUsPerEvent')}) | ${m('writerCores').toFixed(2)} | ${fmt(m('eventsPerBatch'))} | ${rs.reduce((a, r) => a + r.notStored, 0)} |`)
})
