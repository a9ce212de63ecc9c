// PostgresStore: the EventStore contract over a small `pg` connection pool. Each batch is one
// INSERT ... SELECT FROM unnest(arrays) ... ON CONFLICT DO NOTHING: eleven parameters whatever the
// batch size (no 65535-parameter limit to chunk around), one statement, so one transaction.

import pg from 'pg'
import { StoreError, StoreFilterError, StoreOpenError, describeValue } from '../errors.js'
import { checkBatch, parseKey, type EventRecord } from '../event-record.js'
import { checkDeadLetters, deadLetterOf } from '../dead-letter.js'
import type { DeadLetter, DeadLetterInput, EventStore, ListDeadLettersOptions, StoreHealth, StoreResult, StoreStats } from '../event-store.js'
import { checkTime, resolveListLimit, resolveQueryFilter, type QueryFilter } from '../query-filter.js'
import { redactUrl, resolvePostgresOptions, type PostgresStoreOptions, type ResolvedPostgresOptions } from './options.js'
import { toStoreError } from './pg-errors.js'
import { RECORD_COLUMNS, querySql } from './query-sql.js'
import { migrate } from './schema.js'
import { applyPostgresRetention, countedDeleteSql } from './retention.js'
import { hasLimits, resolveRetentionBudget, type RetentionBudget, type RetentionResult } from '../retention.js'

interface RecordRow { ring_id: string; seq: string; captured_at: number; body: Record<string, unknown> }
interface DeadLetterRow { key: string; ring_id: string; seq: string; captured_at: number; body: string; error: string; attempts: string; reason: string | null; stored_at: number }

// The indexed fields, taken only with the right type (as indexedFields does, without its object).
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null)

function recordOf(row: RecordRow): EventRecord {
  // bigint comes back as text (pg does not guess at precision); seq is at most 2^53-1.
  const seq = Number(row.seq)
  return { key: `${row.ring_id}:${seq}`, ringId: row.ring_id, seq, capturedAt: row.captured_at, event: row.body }
}

/** The order every batch is written in: by ring id (code units), then seq; stable for repeats. */
function keyOrder(batch: readonly EventRecord[]): number[] {
  const order = batch.map((_, i) => i)
  // Two transactions that insert overlapping keys wait on each other's row locks; taking them in
  // one global order means they queue instead of deadlocking (40P01).
  order.sort((a, b) => {
    const ra = batch[a] as EventRecord
    const rb = batch[b] as EventRecord
    return ra.ringId < rb.ringId ? -1 : ra.ringId > rb.ringId ? 1 : ra.seq - rb.seq || a - b
  })
  return order
}

/** An EventStore in a PostgreSQL schema, through `pg`. */
export class PostgresStore implements EventStore {
  /** The options in force, defaults applied. */
  readonly options: ResolvedPostgresOptions
  #pool: pg.Pool | undefined
  readonly #where: string
  readonly #s: string

  /** Connects, creates and migrates the schema as needed; throws StoreSpecError or StoreOpenError. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const resolved = resolvePostgresOptions({ kind: 'postgres', ...options })
    const pool = new pg.Pool({
      connectionString: resolved.url,
      max: resolved.poolSize,
      connectionTimeoutMillis: resolved.connectTimeoutMs,
      statement_timeout: resolved.statementTimeoutMs === 0 ? false : resolved.statementTimeoutMs,
      application_name: 'ringside',
    })
    // An idle connection the server drops emits 'error' on the pool; unhandled, it would kill the
    // process. The next query gets a fresh connection, or fails with a typed transient error.
    pool.on('error', () => undefined)
    const where = String(redactUrl(resolved.url))
    try {
      const client = await pool.connect()
      try {
        await migrate(client, resolved.schema, where)
      } finally {
        client.release()
      }
    } catch (cause) {
      await pool.end().catch(() => undefined)
      if (cause instanceof StoreError) throw cause
      const e = toStoreError(cause, 'open')
      const code = e.code === 'busy' ? 'busy' : 'open_failed'
      throw new StoreOpenError(code, where, `cannot open postgres store at ${where} (schema "${resolved.schema}"): ${e.message}`, {
        cause,
        transient: e.transient,
      })
    }
    return new PostgresStore(resolved, pool, where)
  }

  private constructor(options: ResolvedPostgresOptions, pool: pg.Pool, where: string) {
    this.options = options
    this.#pool = pool
    this.#where = where
    this.#s = `"${options.schema}"`
  }

  #open(): pg.Pool {
    if (this.#pool === undefined) throw new StoreError('store_closed', `the postgres store at ${this.#where} (schema ${this.#s}) is closed`)
    return this.#pool
  }

  async #run<R extends pg.QueryResultRow>(doing: string, sql: string, params: readonly unknown[]): Promise<pg.QueryResult<R>> {
    const pool = this.#open()
    try {
      return await pool.query<R>(sql, params as unknown[])
    } catch (err) {
      throw toStoreError(err, doing)
    }
  }

  async storeEvents(batch: readonly EventRecord[]): Promise<StoreResult> {
    this.#open()
    const bodies = checkBatch(batch)
    if (batch.length === 0) return { inserted: 0, duplicates: 0 }
    const n = batch.length
    const cols = Array.from({ length: 11 }, () => new Array<unknown>(n))
    const order = keyOrder(batch)
    for (let j = 0; j < n; j++) {
      const i = order[j] as number
      const r = batch[i] as EventRecord
      const e = r.event
      const row = [r.ringId, r.seq, r.capturedAt, str(e.type), str(e.pid), str(e.module), str(e.function), int(e.arity), str(e.correlationId), str(e.astNodeId), bodies[i]]
      for (let c = 0; c < 11; c++) (cols[c] as unknown[])[j] = row[c]
    }
    // WITH ORDINALITY + ORDER BY keeps the sorted order into the insert, so the first copy of a
    // key repeated inside the batch is the one kept, and row locks are taken in key order.
    const res = await this.#run(
      'storeEvents',
      `INSERT INTO ${this.#s}.events (ring_id, seq, captured_at, type, pid, module, function, arity, correlation_id, ast_node_id, body)
       SELECT r, s, c, t, p, m, f, a, co, n, b::jsonb
       FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::text[], $11::text[])
            WITH ORDINALITY AS u(r, s, c, t, p, m, f, a, co, n, b, o)
       ORDER BY o
       ON CONFLICT (ring_id, seq) DO NOTHING`,
      cols,
    )
    const inserted = res.rowCount ?? 0
    return { inserted, duplicates: n - inserted }
  }

  async getEvent(key: string): Promise<EventRecord | undefined> {
    this.#open()
    if (typeof key !== 'string') throw new StoreFilterError('key', `'key' must be a string, got ${describeValue(key)}`)
    const parsed = parseKey(key)
    if (parsed === undefined) return undefined
    const res = await this.#run<RecordRow>('getEvent', `SELECT ${RECORD_COLUMNS} FROM ${this.#s}.events WHERE ring_id = $1 AND seq = $2`, [parsed.ringId, parsed.seq])
    const row = res.rows[0]
    return row === undefined ? undefined : recordOf(row)
  }

  async query(filter?: QueryFilter): Promise<EventRecord[]> {
    this.#open()
    const { sql, params } = querySql(this.options.schema, resolveQueryFilter(filter))
    return (await this.#run<RecordRow>('query', sql, params)).rows.map(recordOf)
  }

  /** The plan PostgreSQL picks for a filter (EXPLAIN text lines); for tests and tuning. */
  async explainQuery(filter?: QueryFilter): Promise<string[]> {
    const { sql, params } = querySql(this.options.schema, resolveQueryFilter(filter))
    const res = await this.#run<{ 'QUERY PLAN': string }>('explainQuery', `EXPLAIN ${sql}`, params)
    return res.rows.map((r) => r['QUERY PLAN'])
  }

  async stats(): Promise<StoreStats> {
    // One statement, so every figure comes from the same snapshot. count(*) rather than a counter
    // row: a counter would make every writer's transaction queue on one row lock.
    const res = await this.#run<{ total: string; oldest: number | null; newest: number | null; dead: string; size: string }>(
      'stats',
      `SELECT (SELECT count(*) FROM ${this.#s}.events) AS total,
              (SELECT min(captured_at) FROM ${this.#s}.events) AS oldest,
              (SELECT max(captured_at) FROM ${this.#s}.events) AS newest,
              (SELECT count(*) FROM ${this.#s}.dead_letters) AS dead,
              pg_total_relation_size('${this.#s}.events') + pg_total_relation_size('${this.#s}.dead_letters') AS size`,
      [],
    )
    const s = res.rows[0] as { total: string; oldest: number | null; newest: number | null; dead: string; size: string }
    const base = { totalEvents: Number(s.total), sizeBytes: Number(s.size), deadLetters: Number(s.dead) }
    return s.oldest === null || s.newest === null ? base : { ...base, oldestCapturedAt: s.oldest, newestCapturedAt: s.newest }
  }

  async countByRing(ringId: string): Promise<{ events: number; deadLetters: number; prunedEvents: number; prunedDeadLetters: number }> {
    const res = await this.#run<{ events: string; dead: string; pe: string; pd: string }>(
      'countByRing',
      `SELECT (SELECT count(*) FROM ${this.#s}.events WHERE ring_id = $1) AS events,
              (SELECT count(*) FROM ${this.#s}.dead_letters WHERE ring_id = $1) AS dead,
              coalesce((SELECT events FROM ${this.#s}.pruned WHERE ring_id = $1), 0) AS pe,
              coalesce((SELECT dead_letters FROM ${this.#s}.pruned WHERE ring_id = $1), 0) AS pd`,
      [ringId],
    )
    const row = res.rows[0] as { events: string; dead: string; pe: string; pd: string }
    return { events: Number(row.events), deadLetters: Number(row.dead), prunedEvents: Number(row.pe), prunedDeadLetters: Number(row.pd) }
  }

  /**
   * One round trip on a pooled connection: `unhealthy` when the server cannot be reached or is a
   * standby in recovery (it would refuse every write), `healthy` otherwise.
   */
  async health(): Promise<StoreHealth> {
    if (this.#pool === undefined) return { status: 'unhealthy', reason: 'the postgres store is closed' }
    try {
      const res = await this.#pool.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')
      return res.rows[0]?.standby === true
        ? { status: 'unhealthy', reason: `postgres at ${this.#where} is a standby in recovery: it refuses writes` }
        : { status: 'healthy', reason: `postgres at ${this.#where} answers` }
    } catch (err) {
      return { status: 'unhealthy', reason: `postgres at ${this.#where} does not answer: ${err instanceof Error ? err.message : String(err)}` }
    }
  }

  async deleteOlderThan(time: number): Promise<number> {
    this.#open()
    const t = checkTime(time)
    const sql = countedDeleteSql(this.#s, 'events', `DELETE FROM ${this.#s}.events WHERE captured_at < $1::float8 RETURNING ring_id`)
    const res = await this.#run<{ n: string }>('deleteOlderThan', sql, [t])
    return Number(res.rows[0]?.n ?? 0)
  }

  /** One chunk of retention (see postgres/retention.ts): deletes past `options.retention`. */
  async applyRetention(budget?: RetentionBudget): Promise<RetentionResult> {
    const pool = this.#open()
    const b = resolveRetentionBudget(budget)
    const policy = this.options.retention
    if (!hasLimits(policy)) return { events: 0, deadLetters: 0, vacuumedPages: 0, more: false }
    try {
      return await applyPostgresRetention(pool, this.#s, policy, b.maxRows, Date.now())
    } catch (err) {
      throw toStoreError(err, 'applyRetention')
    }
  }

  async storeDeadLetters(items: readonly DeadLetterInput[]): Promise<StoreResult> {
    this.#open()
    const checked = checkDeadLetters(items)
    if (checked.length === 0) return { inserted: 0, duplicates: 0 }
    const col = <K extends keyof (typeof checked)[number]>(k: K): unknown[] => checked.map((d) => d[k] ?? null)
    const res = await this.#run(
      'storeDeadLetters',
      `INSERT INTO ${this.#s}.dead_letters (key, ring_id, seq, captured_at, body, error, attempts, reason, stored_at)
       SELECT k, r, s, c, b, e, a, re, $9::float8
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[], $5::text[], $6::text[], $7::bigint[], $8::text[])
            WITH ORDINALITY AS u(k, r, s, c, b, e, a, re, o)
       ORDER BY o
       ON CONFLICT (key) DO NOTHING`,
      [col('key'), col('ringId'), col('seq'), col('capturedAt'), col('body'), col('error'), col('attempts'), col('reason'), Date.now()],
    )
    const inserted = res.rowCount ?? 0
    return { inserted, duplicates: checked.length - inserted }
  }

  async listDeadLetters(options?: ListDeadLettersOptions): Promise<DeadLetter[]> {
    this.#open()
    const limit = resolveListLimit(options)
    const res = await this.#run<DeadLetterRow>(
      'listDeadLetters',
      `SELECT key, ring_id, seq, captured_at, body, error, attempts, reason, stored_at
       FROM ${this.#s}.dead_letters ORDER BY stored_at, no LIMIT $1`,
      [limit ?? null],
    )
    return res.rows.map((r) =>
      deadLetterOf(
        { key: r.key, ringId: r.ring_id, seq: Number(r.seq), capturedAt: r.captured_at, body: r.body, error: r.error, attempts: Number(r.attempts), reason: r.reason ?? undefined },
        r.stored_at,
      ),
    )
  }

  async close(): Promise<void> {
    const pool = this.#pool
    if (pool === undefined) return
    this.#pool = undefined
    try {
      await pool.end()
    } catch (err) {
      throw toStoreError(err, 'close')
    }
  }
}
