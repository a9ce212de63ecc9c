// PostgreSQL write benchmark: rows/s of three idempotent batch writes into the adapter's schema,
// at batches of 1000 on a private server: the adapter's INSERT ... SELECT FROM unnest(arrays), a
// multi-row VALUES list of bound parameters, and COPY into a temp table then INSERT ... SELECT.
// Usage: npx tsx packages/storage/bench/postgres.ts [--reps 5] [--batches 100] [--batch 1000]
// (RINGSIDE_PG_URL=<url> to use your own server). Prints a Markdown table of medians.

import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { EventRecord } from '../src/event-record.js'
import { PostgresStore } from '../src/postgres/index.js'
import { startPgServer } from '../src/testing/pg-server.js'

const argv = process.argv.slice(2)
const opt = (name: string, dflt: string): number => {
  const i = argv.indexOf(`--${name}`)
  return Number(i === -1 ? dflt : (argv[i + 1] ?? dflt))
}
const REPS = opt('reps', '5')
const BATCHES = opt('batches', '100')
const BATCH = opt('batch', '1000')

const COLS = 'ring_id, seq, captured_at, type, pid, module, function, arity, correlation_id, ast_node_id, body'
const ring = 'ab'.repeat(16)

function batchOf(b: number): EventRecord[] {
  return Array.from({ length: BATCH }, (_, i) => {
    const seq = b * BATCH + i
    const capturedAt = 1.7e12 + seq * 0.25
    return {
      key: `${ring}:${seq}`, ringId: ring, seq, capturedAt,
      event: { type: ['call', 'return'][seq % 2], pid: `<0.${seq % 50}.0>`, module: 'Shop.Cart', function: 'add', arity: 2, args: ['item', seq], writerId: 'w1', enrichedAt: capturedAt + 0.1, processingOrder: seq, correlationId: `corr-${seq >> 4}`, astNodeId: `node-${seq % 97}` },
    }
  })
}

const s = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const rowOf = (r: EventRecord): unknown[] => {
  const e = r.event
  return [r.ringId, r.seq, r.capturedAt, s(e.type), s(e.pid), s(e.module), s(e.function), typeof e.arity === 'number' ? e.arity : null, s(e.correlationId), s(e.astNodeId), JSON.stringify(e)]
}

async function viaValues(pool: pg.Pool, schema: string, batch: EventRecord[]): Promise<number> {
  const params: unknown[] = []
  const tuples: string[] = []
  for (const r of batch) {
    const base = params.length
    params.push(...rowOf(r))
    tuples.push(`(${Array.from({ length: 11 }, (_, c) => `$${base + c + 1}${c === 10 ? '::jsonb' : ''}`).join(',')})`)
  }
  const res = await pool.query(`INSERT INTO "${schema}".events (${COLS}) VALUES ${tuples.join(',')} ON CONFLICT (ring_id, seq) DO NOTHING`, params)
  return res.rowCount ?? 0
}

// COPY text format: backslash, tab, newline and CR escaped; \N is NULL.
const copyField = (v: unknown): string => (v === null ? '\\N' : String(v).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c] as string))

async function viaCopy(pool: pg.Pool, schema: string, batch: EventRecord[]): Promise<number> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS staging (LIKE "${schema}".events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`)
    const text = batch.map((r) => rowOf(r).map(copyField).join('\t')).join('\n') + '\n'
    await pipeline(Readable.from([text]), client.query(copyFrom(`COPY staging (${COLS}) FROM STDIN`)))
    const res = await client.query(`INSERT INTO "${schema}".events SELECT * FROM staging ON CONFLICT (ring_id, seq) DO NOTHING`)
    await client.query('COMMIT')
    return res.rowCount ?? 0
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

async function main(): Promise<void> {
  const server = await startPgServer()
  const batches = Array.from({ length: BATCHES }, (_, b) => batchOf(b))
  const results: Record<string, number[]> = { 'unnest (adapter)': [], 'VALUES list': [], 'COPY + INSERT SELECT': [] }
  let n = 0
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const method of Object.keys(results)) {
        const store = await PostgresStore.open({ url: server.url, schema: `bench_${process.pid}_${++n}` })
        const pool = new pg.Pool({ connectionString: server.url, max: 1 })
        const schema = store.options.schema
        const t0 = performance.now()
        let inserted = 0
        for (const batch of batches) {
          if (method === 'unnest (adapter)') inserted += (await store.storeEvents(batch)).inserted
          else if (method === 'VALUES list') inserted += await viaValues(pool, schema, batch)
          else inserted += await viaCopy(pool, schema, batch)
        }
        const ms = performance.now() - t0
        if (inserted !== BATCHES * BATCH) throw new Error(`${method}: inserted ${inserted}`)
        results[method]?.push((inserted / ms) * 1000)
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
        await pool.end()
        await store.close()
      }
    }
  } finally {
    await server.stop()
  }
  console.log(`| method (batch ${BATCH}, ${BATCHES} batches, ${REPS} reps) | median rows/s | min | max |\n|---|---:|---:|---:|`)
  for (const [method, xs] of Object.entries(results)) {
    console.log(`| ${method} | ${Math.round(median(xs))} | ${Math.round(Math.min(...xs))} | ${Math.round(Math.max(...xs))} |`)
  }
}

await main()
