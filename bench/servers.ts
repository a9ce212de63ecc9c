// End to end into the shared-server stores, beside SQLite in the same run: events/s from an
// application thread through the ring and 1 or 2 writers into SQLite (a file), PostgreSQL 15 (a
// private server on loopback), JetStream on one nats-server (1 replica) and JetStream on a
// three-node cluster (3 replicas). The servers are started here and stopped at the end.
// Usage: npx tsx bench/servers.ts [--seconds N] [--runs N]
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoreSpec } from '@ringside/storage'
import { freshSchema, startNatsCluster, startNatsServer, startPgServer } from '@ringside/storage/testing'
import { fmt, median, runPipeline, spread, type RunResult } from './e2e.js'

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
const SECONDS = Number(argOf('seconds') ?? 10)
const RUNS = Number(argOf('runs') ?? 3)
const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-servers-'))

const pg = await startPgServer()
const single = await startNatsServer()
const cluster = await startNatsCluster(3)
let n = 0
const stores: [label: string, spec: () => StoreSpec][] = [
  ['SQLite (file in the temp dir)', () => ({ kind: 'sqlite', path: join(dir, `s-${++n}.db`) })],
  ['PostgreSQL 15 (loopback, fsync off)', () => ({ kind: 'postgres', url: pg.url, schema: freshSchema() })],
  ['JetStream, 1 server, 1 replica', () => ({ kind: 'jetstream', servers: single.node.url, stream: `B${++n}`, subject: `bench.${n}`, createStream: true })],
  ['JetStream, 3-node cluster, 3 replicas', () => ({ kind: 'jetstream', servers: cluster.urls, stream: `B${++n}`, subject: `bench.${n}`, createStream: true, replicas: 3 })],
]

const rows: string[] = []
try {
  for (const [label, spec] of stores) {
    for (const writers of [1, 2]) {
      const rs: RunResult[] = []
      for (let r = 0; r < RUNS; r++) rs.push(await runPipeline(spec(), writers, SECONDS))
      const per = rs.map((x) => x.perSec)
      rows.push(
        `| ${label}, ${writers} writer${writers > 1 ? 's' : ''} | ${fmt(median(per))} (${spread(per)}) | ${fmt(median(rs.map((x) => x.p50 ?? NaN)))} / ${fmt(median(rs.map((x) => x.p99 ?? NaN)))} | ${rs.every((x) => x.balanced) ? 'yes' : 'no'} |`,
      )
      console.error(`done ${label}, ${writers} writer${writers > 1 ? 's' : ''}: ${fmt(median(per))} events/s`)
    }
  }
} finally {
  await cluster.stop()
  await single.stop()
  await pg.stop()
  rmSync(dir, { recursive: true, force: true })
}

const out = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
  `Command: \`npx tsx bench/servers.ts --seconds ${SECONDS} --runs ${RUNS}\`. Every server runs on this same 2-core machine as the application and its writers, so these figures are`,
  'the stores compared with one another under one load, not what a dedicated server would take. The application is one worker thread writing as fast as it can;',
  'Ringside runs the `throughput` preset (batches of up to 1000). PostgreSQL runs with fsync off (a throwaway server; SQLite keeps its own durable settings);',
  "JetStream keeps file storage and syncs on its own schedule (nats-server's default). Medians of the runs, spread in brackets.",
  '',
  `| store (${SECONDS} s runs) | events/s stored | capture→commit p50 / p99 ms | balanced |`,
  '|---|---:|---:|:---:|',
  ...rows,
]
console.log(out.join('\n'))
