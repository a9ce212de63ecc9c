// The benchmark suite: runs the ring, store, pipeline, shared-server, journal and routing benchmarks one after another (never in
// parallel: the machine is small and shared) and writes BENCHMARKS.md from what they print.
// Usage: npx tsx bench/run.ts [--quick] [--reuse ring,store,pipeline,servers,journal,routed,instrument,shop,cold-start,retention]   (also: `ringside bench`)
import { spawnSync } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const quick = process.argv.includes('--quick')
// --reuse ring,store: keep those sections from the last run (bench/results/<name>.md) instead of
// running them again; each section carries its own machine, date and command lines.
const reuseAt = process.argv.indexOf('--reuse')
const reuse = new Set(reuseAt === -1 ? [] : (process.argv[reuseAt + 1] ?? '').split(','))
const root = fileURLToPath(new URL('..', import.meta.url))
const run = (script: string, args: string[]): string => {
  const section = script.replace(/\.m?[jt]s$/, '')
  const saved = new URL(`./results/${section}.md`, import.meta.url)
  if (reuse.has(section)) return readFileSync(saved, 'utf8').trim()
  console.error(`== bench/${script} ${args.join(' ')}`)
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${script}`, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`bench/${script} failed with exit code ${String(r.status)}`)
  writeFileSync(saved, `${r.stdout.trim()}\n`)
  return r.stdout.trim()
}

const ringArgs = quick ? ['--runs', '2', '--events', '300000'] : ['--runs', '5', '--events', '2000000']
const storeArgs = quick ? ['--reps', '2', '--rows', '50000', '--duration', '10', '--sustained', 'adapter,raw'] : ['--sustained', 'adapter,raw,naive']
const pipelineArgs = quick ? ['--seconds', '4', '--runs', '1', '--sustained', '10'] : ['--seconds', '10', '--runs', '3', '--sustained', '60']

const sections = [
  ['The ring', run('ring.ts', ringArgs)],
  ['The SQLite store', run('store.ts', storeArgs)],
  ['End to end', run('pipeline.ts', pipelineArgs)],
  ['End to end into PostgreSQL and JetStream, beside SQLite', run('servers.ts', quick ? ['--seconds', '4', '--runs', '1'] : ['--seconds', '10', '--runs', '3'])],
  ['The exit journal', run('journal.ts', quick ? ['--reps', '3'] : ['--reps', '7'])],
  ['Routing to several stores', run('routed.ts', quick ? ['--reps', '2', '--rows', '20000'] : ['--reps', '5', '--rows', '50000'])],
  ['Instrumentation', run('instrument.ts', quick ? ['--reps', '100'] : [])],
  ['The demo shop under instrumentation', run('shop.mjs', quick ? ['--seconds', '3', '--runs', '1'] : ['--seconds', '10', '--runs', '3'])],
  // The built packages in a plain node process; the figures from before the build existed are kept by hand.
  ['Cold start', `${run('cold-start.mjs', quick ? ['--runs', '3'] : ['--runs', '11'])}\n\n${readFileSync(new URL('./results/cold-start-before.md', import.meta.url), 'utf8').trim()}`],
  [
    'Retention (SQLite)',
    run(
      'retention.ts',
      quick
        ? ['--seconds', '3', '--runs', '1', '--limit', '20000', '--rate', '1000', '--sustained-minutes', '0.5', '--sustained-rate', '1000', '--sustained-limit', '10000']
        : ['--seconds', '10', '--runs', '5', '--limit', '200000', '--rate', '1000', '--sustained-minutes', '10', '--sustained-rate', '12000', '--sustained-limit', '1000000'],
    ),
  ],
] as const

const out = [
  '# Benchmarks',
  '',
  `Written by \`npx -y pnpm@10.34.9 bench\` (\`bench/run.ts${process.argv.slice(2).map((a) => ` ${a}`).join('')}\`) on ${new Date().toISOString().slice(0, 10)};`,
  reuse.size > 0 ? `sections ${[...reuse].join(', ')} were kept from their last run (bench/results/); each names its own command and date.` : '',
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
  quick ? '**Quick mode: short runs, for a smoke check only; do not quote these figures.**' : '',
  'The machine is shared and noisy: each table compares contenders side by side in one run, as medians',
  'with their spread. Nothing here is asserted by the unit tests.',
  '',
  ...sections.flatMap(([title, body]) => [`## ${title}`, '', body, '']),
  // Hand-written analysis (what costs what, separate measurements); it names its own commands.
  readFileSync(new URL('./NOTES.md', import.meta.url), 'utf8').trim(),
  '',
].join('\n')
writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), out)
console.error('wrote BENCHMARKS.md')
