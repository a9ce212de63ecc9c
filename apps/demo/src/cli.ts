// The repository's `ringside` command: the published command's query and stats (package
// `ringside`), plus demo, soak and bench, which need this demo app and the benchmarks. Bad flags
// print one line naming the flag and exit with code 2; runtime failures exit with 1.

import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import type { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { CORE_COMMANDS, UsageError, integerFlag, runCli as runCommand, type CliCommand } from 'ringside/cli'
import { runMcp } from './mcp.js'
import { slowestCommand, traceCommand } from './trace-cmd.js'
import { DbPathError, prepareNewStore } from './db-path.js'
import { DEMO_DEFAULTS, runDemo } from './demo.js'
import { runSoak } from './soak.js'

/** A --db path the command may not use (not a Ringside store, or one to replace without --fresh) is a usage error: exit 2. */
async function usable<T>(command: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (e) {
    if (e instanceof DbPathError) throw new UsageError(command, `${e.message}.`)
    throw e
  }
}

const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'demo            run the demo: an HTTP shop, instrumented with no code change, under load, into SQLite',
  help: `Usage: ringside demo [options]

  Runs a small HTTP shop (apps/demo/shop, plain JavaScript) in this process, every function of its
  files traced by the load hooks, driven by a load generator; then answers questions from the store.

  --rate <n>        HTTP requests per second sent to the shop (default ${DEMO_DEFAULTS.rate})
  --duration <s>    seconds of traffic (default ${DEMO_DEFAULTS.durationSec})
  --pool <n>        writers at start (default ${DEMO_DEFAULTS.poolSize})
  --db <path>       SQLite file, from the current folder (default ${DEMO_DEFAULTS.dbPath}); it must
                    not exist yet, or be a Ringside store and --fresh be given. Nothing else is
                    ever overwritten.
  --fresh           replace the Ringside store at --db (its events are deleted)
  --port <n>        port of the live dashboard and HTTP endpoints; 0 for any free port
                    (default ${DEMO_DEFAULTS.httpPort}; a port already taken falls back to a free one)
  --no-drills       do not kill a writer or scale the pool midway
  -h, --help        this help`,
  flags: { rate: { type: 'string' }, duration: { type: 'string' }, pool: { type: 'string' }, db: { type: 'string' }, fresh: { type: 'boolean' }, port: { type: 'string' }, 'no-drills': { type: 'boolean' } },
  positionals: 0,
  async run({ values }, io) {
    const options = {
      rate: values.rate === undefined ? DEMO_DEFAULTS.rate : integerFlag('demo', 'rate', values.rate, 1, 100_000),
      durationSec: values.duration === undefined ? DEMO_DEFAULTS.durationSec : integerFlag('demo', 'duration', values.duration, 1, 86_400),
      poolSize: values.pool === undefined ? DEMO_DEFAULTS.poolSize : integerFlag('demo', 'pool', values.pool, 1, 8),
      dbPath: resolve(io.cwd ?? process.cwd(), typeof values.db === 'string' ? values.db : DEMO_DEFAULTS.dbPath),
      fresh: values.fresh === true,
      drills: values['no-drills'] !== true,
      httpPort: values.port === undefined ? DEMO_DEFAULTS.httpPort : integerFlag('demo', 'port', values.port, 0, 65_535),
    }
    const controller = new AbortController()
    const onSignal = () => controller.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      const { report } = await usable('demo', () => runDemo({ ...options, out: io.out, signal: controller.signal }))
      return report.balanced ? 0 : 1
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  },
}

const soakCommand: CliCommand = {
  name: 'soak',
  summary: 'soak            run at a steady rate with random faults; check nothing is lost or doubled',
  help: `Usage: ringside soak [options]

  Runs a pipeline into SQLite at a steady rate and injects a random fault every ~1.5 s, each on its
  own schedule (never queued): writers terminated, exiting, crashing, hanging; the store offline,
  failing transiently, slow; poison, invalid and unserializable events all along; and, in a user
  stage loaded in every writer, events that make it throw, hang (never settle) or exit the writer
  thread, plus re-entrant writes (an event whose toJSON writes to the ring). Progress is printed
  every 5 s. Every wait is bounded: a pipeline that commits nothing for 30 s while the ring holds
  events and the store is up, a backlog not stored 2 min after an outage, a drill call that does
  not return in 10 s, or a ring that does not drain 2 min after the end fails the soak with a dump
  of the state (breaker and probe, each writer and its claim, the ring's cursors) and exit code 1.
  At the end the store is checked event by event: every accepted event once, as an event or a
  dead letter with the expected reason. Exit code 0 only when all of that holds.

  --mix full adds the ways an event leaves on purpose, each counted: a priority ring (16,384
  events under drop_lowest; 10 % high, 30 % low, the rest normal, fault events high) whose low
  events are evicted when an outage fills it, sampling (1 in 4 of each type kept from half full:
  \`sampled\` at the door; fault events are of a type always kept), and the store's retention
  (maxEvents) pruning while it runs. The check then also holds each priority to its counts: the
  store lacks exactly the events its sub-ring evicted plus those the store pruned of it.

  --minutes <n>       how long (default 10); or --seconds <n>
  --seconds <n>
  --rate <n>          events per second (default 20000)
  --db <path>         SQLite file, from the current folder (default ./ringside-soak.db); it must
                      not exist yet, or be a Ringside store and --fresh be given
  --fresh             replace the Ringside store at --db (its events are deleted)
  --seed <n>          seed of the fault schedule (default 24301)
  --no-stage-faults   leave the stage faults and re-entrant writes out of the mix
  --mix <faults|full> faults: the faults above (default); full: also priority drops, sampling
                      and retention (above)
  --retain <n>        with --mix full: most events the store keeps (default 10 s of --rate, at
                      least 20000)
  -h, --help          this help`,
  flags: { minutes: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' }, db: { type: 'string' }, fresh: { type: 'boolean' }, seed: { type: 'string' }, 'no-stage-faults': { type: 'boolean' }, mix: { type: 'string' }, retain: { type: 'string' } },
  positionals: 0,
  async run({ values }, io) {
    const seconds =
      values.seconds !== undefined ? integerFlag('soak', 'seconds', values.seconds, 1, 86_400) : 60 * (values.minutes === undefined ? 10 : integerFlag('soak', 'minutes', values.minutes, 1, 1440))
    const rate = values.rate === undefined ? 20_000 : integerFlag('soak', 'rate', values.rate, 1, 1_000_000)
    const seed = values.seed === undefined ? 24_301 : integerFlag('soak', 'seed', values.seed, 1, 2 ** 31 - 1)
    if (values.mix !== undefined && values.mix !== 'faults' && values.mix !== 'full') throw new UsageError('soak', `--mix must be faults or full, got ${String(values.mix)}`)
    const mix = values.mix === 'full' ? 'full' : 'faults'
    if (values.retain !== undefined && mix !== 'full') throw new UsageError('soak', '--retain needs --mix full')
    const retainEvents = values.retain === undefined ? undefined : integerFlag('soak', 'retain', values.retain, 1, 2 ** 31 - 1)
    const dbPath = resolve(io.cwd ?? process.cwd(), typeof values.db === 'string' ? values.db : './ringside-soak.db')
    await usable('soak', () => prepareNewStore(dbPath, values.fresh === true))
    const r = await runSoak({ seconds, rate, dbPath, seed, stageFaults: values['no-stage-faults'] !== true, out: io.out, mix, ...(retainEvents === undefined ? {} : { retainEvents }) })
    // Writer threads that would not stop would keep the process alive: a failed soak must end.
    if (r.report === undefined) process.exit(1)
    return r.ok ? 0 : 1
  },
}

/** The sections of the benchmark suite, in the order bench/run.ts runs them. */
const BENCH_SECTIONS = ['ring', 'store', 'pipeline', 'servers', 'journal', 'routed', 'instrument', 'shop', 'cold-start', 'retention'] as const

const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'bench           run the benchmark suite and write BENCHMARKS.md',
  help: `Usage: ringside bench [--quick] [--reuse <sections>]

Runs the benchmark suite (bench/run.ts), one section after another (never in parallel), and
writes BENCHMARKS.md at the repository's root. Sections, each a script that also runs alone with the flags shown (the
commands BENCHMARKS.md cites; run.ts chooses them, or shorter ones with --quick):
  ring         npx tsx bench/ring.ts --runs 5 --events 2000000
               the producer's price per event; events/s between threads beside postMessage and
               thread-stream (--only ring,pm,ts chooses the throughput contenders)
  store        npx tsx bench/store.ts --sustained adapter,raw,naive
               SQLite rows/s by batch size, and 60 s sustained (also --reps, --rows, --duration,
               --window, --sustained-reps, --skip-batches; contenders adapter, adapter-ckpt, raw,
               naive, v2)
  pipeline     npx tsx bench/pipeline.ts --seconds 10 --runs 3 --sustained 60
               end to end into a store that keeps nothing and into SQLite, latency at a steady rate
               (also --chart <path>)
  servers      npx tsx bench/servers.ts --seconds 10 --runs 3
               end to end into PostgreSQL and JetStream beside SQLite, 1 and 2 writers (starts
               private servers; installs them with apt-get when missing)
  journal      npx tsx bench/journal.ts --reps 7
               the exit journal: write and replay times
  routed       npx tsx bench/routed.ts --reps 5 --rows 50000
               a routed store over two SQLite files beside one file, and its per-destination count
  instrument   npx tsx bench/instrument.ts --reps 400 --batch 200
               the price of a traced call (trace() and the load hook) beside the untraced call
  shop         node bench/shop.mjs --seconds 10 --runs 3
               the demo shop's requests/s, p99 and CPU per request at full speed: no capture,
               HTTP capture, exported functions traced, every function traced (--configs picks
               among none, idle, context, http, exported, all; --writers and --linger set the
               pipeline, by default the register hook's 1 writer and 50 ms; --ring-size its ring)
  cold-start   node bench/cold-start.mjs --runs 11 --entry ringside
               import of an entry and a 2-writer start in a plain node process: time and RSS
               (--node-arg=<flag> passes a flag to each measured node process)
  retention    npx tsx bench/retention.ts --seconds 10 --runs 5 --limit 200000 --rate 1000
               --sustained-minutes 10 --sustained-rate 12000 --sustained-limit 1000000
               SQLite writers with and without retention at the store's limit, side by side;
               the file's size over a sustained run with maxEvents (also --chart <path>)
(Not in the suite: npx tsx packages/storage/bench/postgres.ts, the PostgreSQL store alone;
npx tsx bench/store-query.ts --events 1000000 --reps 21 [--size-events <n>] [--demo-db <file>] [--base <dist/index.js>],
queries and bytes per event on a store of a million events (--base: another build of the store
read alongside, for before/after ratios); npx tsx bench/memory.ts --seconds 600 (or node
bench/fixtures/memory-child.mjs <seconds> <dir> then --from <run.jsonl>), one pipeline's RSS and
rate over time and where its memory goes (also --out <prefix>, and for the child --ring <size>,
--cache <KiB>, --writers <n>, --producer thread|main, --writer-max-heap <MB>); npx tsx bench/sampling.ts
--reps 40, the price of the ring's sampling policy; npx tsx bench/wal-latency.ts [--pages 50000,4000,1000]
[--outside 1000,4000] [--rate 10000] [--seconds 20] [--writers 2] [--full-seconds 10] [--half] [--reps 3],
latency and rate by WAL checkpoint size, in the commit or outside the writers' turn;
npx tsx bench/retention-cpu.ts [--profile writer|varied] [--limit 200000] [--batches 100] [--chunk 1000],
CPU time per removed event and its parts; node
bench/capture-writers.mjs --rates 1000,10000 --settings 2x5,1x5,1x50 --seconds 5 --runs 3, the writers'
CPU per event at an instrumented application's rates, by writers × lingerMs.)

  --quick              shorter runs, for a smoke check (the report says so)
  --reuse <sections>   comma-separated sections to keep from their last run
                       (bench/results/<section>.md) instead of running them again,
                       e.g. --reuse ring,store
  -h, --help           this help`,
  flags: { quick: { type: 'boolean' }, reuse: { type: 'string' } },
  positionals: 0,
  async run({ values }) {
    const reuse = typeof values.reuse === 'string' ? values.reuse.split(',').filter((s) => s !== '') : []
    for (const s of reuse) {
      if (!(BENCH_SECTIONS as readonly string[]).includes(s)) throw new UsageError('bench', `--reuse takes sections among ${BENCH_SECTIONS.join(', ')}, got '${s}'.`)
    }
    const script = fileURLToPath(new URL('../../../bench/run.ts', import.meta.url))
    const args = [...(values.quick === true ? ['--quick'] : []), ...(reuse.length > 0 ? ['--reuse', reuse.join(',')] : [])]
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit' })
    return r.status ?? 1
  },
}

const mcpCommand: CliCommand = {
  name: 'mcp',
  summary: 'mcp <db | url>  serve a store (and/or a running pipeline) to an assistant over MCP (stdio)',
  help: `Usage: ringside mcp <db> [--pipeline <url>] [--config-token <token>]
       ringside mcp <url> [--config-token <token>]

  Runs a Model Context Protocol server on stdin/stdout (for an assistant's MCP client).
  With a store: tools query_events (every filter), get_event, call_tree (a request's calls, as
  captured by @ringside/instrument) and store_stats. With a running pipeline's HTTP address
  (http://...): pipeline_health, pipeline_metrics and pipeline_config. Read-only, unless
  --config-token is given: then update_config changes live settings through POST /config.
  -h, --help    this help`,
  flags: { pipeline: { type: 'string' }, 'config-token': { type: 'string' } },
  positionals: 1,
  async run({ values, positionals }, io) {
    const target = positionals[0]
    if (target === undefined) throw new UsageError('mcp', "name a store file or a pipeline's http:// address.")
    const isUrl = /^https?:\/\//.test(target)
    if (isUrl && values.pipeline !== undefined) throw new UsageError('mcp', '--pipeline goes with a store file, not with a URL.')
    await runMcp({
      ...(isUrl ? { pipeline: target } : { db: resolve(io.cwd ?? process.cwd(), target) }),
      ...(typeof values.pipeline === 'string' ? { pipeline: values.pipeline } : {}),
      ...(typeof values['config-token'] === 'string' ? { configToken: values['config-token'] } : {}),
    })
    return 0
  },
}

/** Every command of the repository's `ringside`. */
export const COMMANDS: readonly CliCommand[] = [demoCommand, ...CORE_COMMANDS, traceCommand, slowestCommand, soakCommand, benchCommand, mcpCommand]

/** Runs the CLI; returns the exit code. */
export function runCli(argv: string[], out: Writable & { isTTY?: boolean }, err: Writable): Promise<number> {
  return runCommand(argv, { out, err }, COMMANDS)
}
