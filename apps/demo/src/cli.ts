// The `ringside` command: demo, query, stats and bench, each with --help. Bad flags print a clear
// message and exit with code 2; runtime failures exit with 1.

import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Writable } from 'node:stream'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { QueryFilter } from '@ringside/storage'
import { DbPathError, openForReading, prepareNewStore } from './db-path.js'
import { DEMO_DEFAULTS, runDemo } from './demo.js'
import { runSoak } from './soak.js'

class UsageError extends Error {}

const HELP: Record<string, string> = {
  main: `Usage: ringside <command> [options]

Commands:
  demo            run the demo: a traced app writing into a pipeline that stores in SQLite
  query <db>      query a Ringside SQLite store
  stats <db>      show a store's totals
  soak            run at a steady rate with random faults; check nothing is lost or doubled
  bench           run the benchmark suite and write BENCHMARKS.md

Run 'ringside <command> --help' for a command's options.`,
  demo: `Usage: ringside demo [options]

  --rate <n>        events per second offered by the app (default ${DEMO_DEFAULTS.rate})
  --duration <s>    seconds of traffic (default ${DEMO_DEFAULTS.durationSec})
  --pool <n>        writers at start (default ${DEMO_DEFAULTS.poolSize})
  --db <path>       SQLite file (default ${DEMO_DEFAULTS.dbPath}); it must not exist yet, or be a
                    Ringside store and --fresh be given. Nothing else is ever overwritten.
  --fresh           replace the Ringside store at --db (its events are deleted)
  --port <n>        port of the live dashboard and HTTP endpoints; 0 for any free port
                    (default ${DEMO_DEFAULTS.httpPort}; a port already taken falls back to a free one)
  --no-drills       do not kill a writer or scale the pool midway
  -h, --help        this help`,
  query: `Usage: ringside query <db> [filters] [--json]

  Reads a Ringside SQLite store (read-only: the file is never changed).

  --pid <pid>             events of one process, e.g. '<0.107.0>'
  --type <type>           call, return, message, state_change, ...
  --since <time>          capture time from (ISO date or ms since the epoch), inclusive
  --until <time>          capture time to, inclusive
  --correlation-id <id>
  --ast-node-id <id>
  --module <m>  --function <f>  --arity <n>
  --limit <n>             at most n events (default 20)
  --order <asc|desc>      by capture time (default asc)
  --json                  one JSON object per line instead of a table
  -h, --help              this help`,
  stats: `Usage: ringside stats <db> [--json]

  Reads a Ringside SQLite store (read-only: the file is never changed).

  --json        print the stats as JSON
  -h, --help    this help`,
  soak: `Usage: ringside soak [options]

  --minutes <n>     how long (default 10); or --seconds <n>
  --rate <n>        events per second (default 20000)
  --db <path>       SQLite file (default ./ringside-soak.db); it must not exist yet, or be a
                    Ringside store and --fresh be given. Nothing else is ever overwritten.
  --fresh           replace the Ringside store at --db (its events are deleted)
  --seed <n>        seed of the fault schedule (default 24301)
  -h, --help        this help`,
  bench: `Usage: ringside bench [--quick]

  Runs bench/ring.ts, bench/store.ts and bench/pipeline.ts and writes BENCHMARKS.md.
  --quick       shorter runs (for a smoke check; the report says so)
  -h, --help    this help`,
}

type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] }

function parse(argv: string[], options: ParseArgsConfig['options'], positionals: number, command: string): Parsed {
  let parsed: Parsed
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals > 0, strict: true }) as Parsed
  } catch (e) {
    throw new UsageError(`ringside ${command}: ${(e as Error).message}`)
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`ringside ${command}: unexpected argument '${parsed.positionals[positionals]}'`)
  return parsed
}

function int(command: string, name: string, v: unknown, min: number, max: number): number {
  const x = Number(v)
  if (typeof v !== 'string' || !/^\d+$/.test(v) || x < min || x > max) throw new UsageError(`ringside ${command}: --${name} must be an integer from ${min} to ${max}, got '${String(v)}'`)
  return x
}

function time(command: string, name: string, v: string): number {
  const t = /^\d+(\.\d+)?$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isFinite(t)) throw new UsageError(`ringside ${command}: --${name} must be an ISO date or ms since the epoch, got '${v}'`)
  return t
}

function dbArg(command: string, positionals: string[]): string {
  const db = positionals[0]
  if (db === undefined) throw new UsageError(`ringside ${command}: missing <db> (a Ringside SQLite file)`)
  if (!existsSync(db)) throw new UsageError(`ringside ${command}: no such file '${db}'`)
  return db
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[], out: Writable & { isTTY?: boolean }, err: Writable): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        out.write(`${HELP.main}\n`)
        return command === undefined ? 2 : 0
      case 'demo': {
        const { values } = parse(rest, { rate: { type: 'string' }, duration: { type: 'string' }, pool: { type: 'string' }, db: { type: 'string' }, fresh: { type: 'boolean' }, port: { type: 'string' }, 'no-drills': { type: 'boolean' } }, 0, 'demo')
        if (values.help) return void out.write(`${HELP.demo}\n`), 0
        const controller = new AbortController()
        const onSignal = () => controller.abort()
        process.once('SIGINT', onSignal)
        process.once('SIGTERM', onSignal)
        try {
          const { report } = await runDemo({
            rate: values.rate === undefined ? DEMO_DEFAULTS.rate : int('demo', 'rate', values.rate, 1, 10_000_000),
            durationSec: values.duration === undefined ? DEMO_DEFAULTS.durationSec : int('demo', 'duration', values.duration, 1, 86_400),
            poolSize: values.pool === undefined ? DEMO_DEFAULTS.poolSize : int('demo', 'pool', values.pool, 1, 8),
            dbPath: (values.db as string | undefined) ?? DEMO_DEFAULTS.dbPath,
            fresh: values.fresh === true,
            drills: values['no-drills'] !== true,
            httpPort: values.port === undefined ? DEMO_DEFAULTS.httpPort : int('demo', 'port', values.port, 0, 65_535),
            out,
            signal: controller.signal,
          })
          return report.balanced ? 0 : 1
        } finally {
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
        }
      }
      case 'query': {
        const { values, positionals } = parse(
          rest,
          {
            pid: { type: 'string' },
            type: { type: 'string' },
            since: { type: 'string' },
            until: { type: 'string' },
            'correlation-id': { type: 'string' },
            'ast-node-id': { type: 'string' },
            module: { type: 'string' },
            function: { type: 'string' },
            arity: { type: 'string' },
            limit: { type: 'string' },
            order: { type: 'string' },
            json: { type: 'boolean' },
          },
          1,
          'query',
        )
        if (values.help) return void out.write(`${HELP.query}\n`), 0
        const db = dbArg('query', positionals)
        const f: Record<string, unknown> = { limit: values.limit === undefined ? 20 : int('query', 'limit', values.limit, 0, 10_000_000) }
        if (values.pid !== undefined) f.pid = values.pid
        if (values.type !== undefined) f.type = values.type
        if (values.since !== undefined) f.since = time('query', 'since', values.since as string)
        if (values.until !== undefined) f.until = time('query', 'until', values.until as string)
        if (values['correlation-id'] !== undefined) f.correlationId = values['correlation-id']
        if (values['ast-node-id'] !== undefined) f.astNodeId = values['ast-node-id']
        if (values.module !== undefined) f.module = values.module
        if (values.function !== undefined) f.function = values.function
        if (values.arity !== undefined) f.arity = int('query', 'arity', values.arity, 0, 255)
        if (values.order !== undefined) {
          if (values.order !== 'asc' && values.order !== 'desc') throw new UsageError(`ringside query: --order must be asc or desc, got '${String(values.order)}'`)
          f.order = values.order
        }
        const store = await openForReading(db)
        try {
          const rows = await store.query(f as QueryFilter)
          if (values.json) for (const r of rows) out.write(`${JSON.stringify(r)}\n`)
          else {
            out.write(`${'captured at'.padEnd(24)} ${'type'.padEnd(12)} ${'pid'.padEnd(11)} ${'module.function/arity'.padEnd(34)} key\n`)
            for (const r of rows) {
              const e = r.event
              const mfa = e.module ? `${String(e.module)}.${String(e.function ?? '')}${e.arity === undefined ? '' : `/${String(e.arity)}`}` : ''
              out.write(`${new Date(r.capturedAt).toISOString().padEnd(24)} ${String(e.type).padEnd(12)} ${String(e.pid ?? '').padEnd(11)} ${mfa.padEnd(34)} ${r.key}\n`)
            }
            out.write(`${rows.length} event${rows.length === 1 ? '' : 's'}\n`)
          }
        } finally {
          await store.close()
        }
        return 0
      }
      case 'stats': {
        const { values, positionals } = parse(rest, { json: { type: 'boolean' } }, 1, 'stats')
        if (values.help) return void out.write(`${HELP.stats}\n`), 0
        const store = await openForReading(dbArg('stats', positionals))
        try {
          const s = await store.stats()
          if (values.json) out.write(`${JSON.stringify(s)}\n`)
          else {
            out.write(`events        ${s.totalEvents.toLocaleString('en-US')}\n`)
            out.write(`oldest        ${s.oldestCapturedAt === undefined ? '–' : new Date(s.oldestCapturedAt).toISOString()}\n`)
            out.write(`newest        ${s.newestCapturedAt === undefined ? '–' : new Date(s.newestCapturedAt).toISOString()}\n`)
            out.write(`dead letters  ${s.deadLetters.toLocaleString('en-US')}\n`)
            out.write(`size          ${(s.sizeBytes / 1e6).toFixed(2)} MB\n`)
          }
        } finally {
          await store.close()
        }
        return 0
      }
      case 'soak': {
        const { values } = parse(rest, { minutes: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' }, db: { type: 'string' }, fresh: { type: 'boolean' }, seed: { type: 'string' } }, 0, 'soak')
        if (values.help) return void out.write(`${HELP.soak}\n`), 0
        const seconds =
          values.seconds !== undefined ? int('soak', 'seconds', values.seconds, 1, 86_400) : 60 * (values.minutes === undefined ? 10 : int('soak', 'minutes', values.minutes, 1, 1440))
        const dbPath = (values.db as string | undefined) ?? './ringside-soak.db'
        await prepareNewStore(dbPath, values.fresh === true)
        const r = await runSoak({
          seconds,
          rate: values.rate === undefined ? 20_000 : int('soak', 'rate', values.rate, 1, 1_000_000),
          dbPath,
          seed: values.seed === undefined ? 24_301 : int('soak', 'seed', values.seed, 1, 2 ** 31 - 1),
          out,
        })
        return r.ok ? 0 : 1
      }
      case 'bench': {
        const { values } = parse(rest, { quick: { type: 'boolean' } }, 0, 'bench')
        if (values.help) return void out.write(`${HELP.bench}\n`), 0
        const script = fileURLToPath(new URL('../../../bench/run.ts', import.meta.url))
        const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...(values.quick ? ['--quick'] : [])], { stdio: 'inherit' })
        return r.status ?? 1
      }
      default:
        throw new UsageError(`ringside: unknown command '${command}'\n\n${HELP.main}`)
    }
  } catch (e) {
    // A path the command may not use is bad input too: refused, nothing touched.
    if (e instanceof UsageError || e instanceof DbPathError) {
      err.write(`${e.message}\n`)
      return 2
    }
    err.write(`ringside ${command}: ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
}
