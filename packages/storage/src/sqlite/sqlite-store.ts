// SqliteStore: the EventStore contract over one better-sqlite3 connection. A file may be shared
// by several connections (one per writer thread): WAL lets readers run beside the single writer,
// every write transaction is IMMEDIATE, and the busy timeout makes writers queue, not fail. Every
// write checks that the file at the path is still the one opened, so nothing is written into a
// deleted file that nobody will ever read.

import { statSync } from 'node:fs'
import type Database from 'better-sqlite3'
import { StoreError, StoreFilterError, describeValue } from '../errors.js'
import { checkBatch, parseKey, type EventRecord } from '../event-record.js'
import { checkDeadLetters, deadLetterOf, type CheckedDeadLetter } from '../dead-letter.js'
import type { DeadLetter, DeadLetterInput, EventStore, ListDeadLettersOptions, StoreHealth, StoreResult, StoreStats } from '../event-store.js'
import { checkTime, resolveListLimit, resolveQueryFilter, type QueryFilter } from '../query-filter.js'
import { resolveSqliteOptions, type ResolvedSqliteOptions, type SqliteStoreOptions } from './options.js'
import { FROM_EVENTS, RECORD_COLUMNS, querySql } from './query-sql.js'
import { StoreFileWatch } from './file-watch.js'
import { openDatabase } from './open.js'
import { toStoreError } from './sqlite-errors.js'
import { hasLimits, resolveRetentionBudget, type RetentionBudget, type RetentionResult } from '../retention.js'
import { applySqliteRetention, vacuumFile, vacuumStep } from './retention.js'

type Statement = Database.Statement<unknown[], unknown>
interface RecordRow { ringId: string; seq: number; capturedAt: number; body: string }
interface DeadLetterRow { key: string; ringId: string; seq: number; capturedAt: number; body: string; error: string; attempts: number; reason: string | null; storedAt: number }

// The indexed fields, taken only with the right type (as indexedFields does, without its object).
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null)

function recordOf(row: RecordRow): EventRecord {
  return { key: `${row.ringId}:${row.seq}`, ringId: row.ringId, seq: row.seq, capturedAt: row.capturedAt, event: JSON.parse(row.body) as Record<string, unknown> }
}

/** An EventStore in a SQLite file (or `:memory:`), through better-sqlite3. */
export class SqliteStore implements EventStore {
  /** The options in force, defaults applied. */
  readonly options: ResolvedSqliteOptions
  #db: Database.Database | undefined
  // ring id -> ring_no; an entry is only added after the transaction that made it committed.
  readonly #ringNos = new Map<string, number>()
  readonly #queries = new Map<string, Statement>()
  readonly #insert: Statement
  readonly #ringInsert: Statement
  readonly #ringSelect: Statement
  readonly #countAdd: Statement
  readonly #writeBatch: (batch: readonly EventRecord[], bodies: readonly string[], fresh: Map<string, number>) => number
  readonly #watch: StoreFileWatch | undefined

  /**
   * Opens (creating, migrating and marking as needed; with `readOnly`, only an existing store);
   * throws StoreSpecError or StoreOpenError (`not_a_ringside_store`, `not_a_database`,
   * `store_read_only`, `schema_too_new`, `busy`, `open_failed`).
   */
  static open(options: SqliteStoreOptions): SqliteStore {
    return new SqliteStore(resolveSqliteOptions({ kind: 'sqlite', ...options }))
  }

  private constructor(options: ResolvedSqliteOptions) {
    this.options = options
    const db = openDatabase(options)
    this.#db = db
    this.#watch = StoreFileWatch.capture(options.path)
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO events
         (ring_no, seq, captured_at, type, pid, module, function, arity, correlation_id, ast_node_id, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#ringInsert = db.prepare('INSERT OR IGNORE INTO rings (ring_id) VALUES (?)')
    this.#ringSelect = db.prepare('SELECT ring_no FROM rings WHERE ring_id = ?').pluck()
    this.#countAdd = db.prepare("UPDATE counters SET value = value + ? WHERE name = 'events'")
    const tx = db.transaction((batch: readonly EventRecord[], bodies: readonly string[], fresh: Map<string, number>): number => {
      let inserted = 0
      const insert = this.#insert
      // A batch usually comes from one ring: look its number up once, not per row.
      let lastRing = ''
      let ringNo = 0
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i] as EventRecord
        if (r.ringId !== lastRing) {
          lastRing = r.ringId
          ringNo = this.#ringNos.get(lastRing) ?? fresh.get(lastRing) ?? this.#internRing(lastRing, fresh)
        }
        const e = r.event
        inserted += insert.run(ringNo, r.seq, r.capturedAt, str(e.type), str(e.pid), str(e.module), str(e.function), int(e.arity), str(e.correlationId), str(e.astNodeId), bodies[i]).changes
      }
      if (inserted > 0) this.#countAdd.run(inserted)
      return inserted
    })
    // IMMEDIATE: take the write lock up front. A deferred transaction that reads and then writes
    // gets SQLITE_BUSY at once, without the busy handler, when another connection wrote between.
    this.#writeBatch = (batch, bodies, fresh) => tx.immediate(batch, bodies, fresh)
  }

  #internRing(ringId: string, fresh: Map<string, number>): number {
    this.#ringInsert.run(ringId)
    const no = this.#ringSelect.get(ringId) as number
    fresh.set(ringId, no)
    return no
  }

  #open(): Database.Database {
    if (this.#db === undefined) throw new StoreError('store_closed', `the sqlite store ${this.options.path} is closed`)
    return this.#db
  }

  /**
   * Before and after a write: the file at the path must still be the one opened. After a commit
   * too, so a batch that went into a file deleted meanwhile is reported as not stored (its claim
   * stays, and it is stored again once the store is back). Transient: the writers retry behind
   * the breaker while the ring holds the events.
   */
  #checkWritable(doing: string): void {
    if (this.options.readOnly) throw new StoreError('read_only', `sqlite ${doing}: the store ${this.options.path} was opened read-only`)
    const problem = this.#watch?.problem()
    if (problem !== undefined) throw new StoreError('store_replaced', `sqlite ${doing} refused: ${problem}`, { transient: true })
  }

  #prepare(sql: string): Statement {
    let stmt = this.#queries.get(sql)
    if (stmt === undefined) {
      stmt = this.#open().prepare(sql)
      this.#queries.set(sql, stmt)
    }
    return stmt
  }

  async storeEvents(batch: readonly EventRecord[]): Promise<StoreResult> {
    this.#open()
    const bodies = checkBatch(batch)
    if (batch.length === 0) return { inserted: 0, duplicates: 0 }
    this.#checkWritable('storeEvents')
    try {
      const fresh = new Map<string, number>()
      const inserted = this.#writeBatch(batch, bodies, fresh)
      // Only now is a new ring_no committed; a rolled-back one may be given to another ring.
      for (const [id, no] of fresh) this.#ringNos.set(id, no)
      this.#checkWritable('storeEvents')
      return { inserted, duplicates: batch.length - inserted }
    } catch (err) {
      throw toStoreError(err, 'storeEvents')
    }
  }

  async getEvent(key: string): Promise<EventRecord | undefined> {
    this.#open()
    if (typeof key !== 'string') throw new StoreFilterError('key', `'key' must be a string, got ${describeValue(key)}`)
    const parsed = parseKey(key)
    if (parsed === undefined) return undefined
    try {
      const row = this.#prepare(`SELECT ${RECORD_COLUMNS} ${FROM_EVENTS} WHERE e.ring_no = (SELECT ring_no FROM rings WHERE ring_id = ?) AND e.seq = ?`)
        .get(parsed.ringId, parsed.seq) as RecordRow | undefined
      return row === undefined ? undefined : recordOf(row)
    } catch (err) {
      throw toStoreError(err, 'getEvent')
    }
  }

  async query(filter?: QueryFilter): Promise<EventRecord[]> {
    this.#open()
    const { sql, params } = querySql(resolveQueryFilter(filter))
    try {
      return (this.#prepare(sql).all(...params) as RecordRow[]).map(recordOf)
    } catch (err) {
      throw toStoreError(err, 'query')
    }
  }

  /** The query plan SQLite picks for a filter (EXPLAIN QUERY PLAN details); for tests and tuning. */
  explainQuery(filter?: QueryFilter): string[] {
    const { sql, params } = querySql(resolveQueryFilter(filter))
    const rows = this.#open().prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]
    return rows.map((r) => r.detail)
  }

  async stats(): Promise<StoreStats> {
    const db = this.#open()
    try {
      // One statement, so every figure comes from the same snapshot.
      const s = this.#prepare(
        `SELECT (SELECT value FROM counters WHERE name = 'events') AS total,
                (SELECT min(captured_at) FROM events) AS oldest,
                (SELECT max(captured_at) FROM events) AS newest,
                (SELECT count(*) FROM dead_letters) AS dead`,
      ).get() as { total: number; oldest: number | null; newest: number | null; dead: number }
      const sizeBytes = this.#sizeBytes(db)
      const base = { totalEvents: s.total, sizeBytes, deadLetters: s.dead }
      return s.oldest === null || s.newest === null ? base : { ...base, oldestCapturedAt: s.oldest, newestCapturedAt: s.newest }
    } catch (err) {
      throw toStoreError(err, 'stats')
    }
  }

  async countByRing(ringId: string): Promise<{ events: number; deadLetters: number }> {
    this.#open()
    try {
      // (ring_no, seq) is the primary key, so this counts one range of its index.
      return this.#prepare(
        `SELECT (SELECT count(*) FROM events WHERE ring_no = (SELECT ring_no FROM rings WHERE ring_id = @ringId)) AS events,
                (SELECT count(*) FROM dead_letters WHERE ring_id = @ringId) AS deadLetters`,
      ).get({ ringId }) as { events: number; deadLetters: number }
    } catch (err) {
      throw toStoreError(err, 'countByRing')
    }
  }

  #sizeBytes(db: Database.Database): number {
    if (db.memory) {
      return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number)
    }
    const size = (p: string): number => statSync(p, { throwIfNoEntry: false })?.size ?? 0
    return size(db.name) + size(`${db.name}-wal`)
  }

  async deleteOlderThan(time: number): Promise<number> {
    const db = this.#open()
    const t = checkTime(time)
    this.#checkWritable('deleteOlderThan')
    try {
      const del = this.#prepare('DELETE FROM events WHERE captured_at < ?')
      return db
        .transaction((): number => {
          const removed = del.run(t).changes
          if (removed > 0) this.#countAdd.run(-removed)
          return removed
        })
        .immediate()
    } catch (err) {
      throw toStoreError(err, 'deleteOlderThan')
    }
  }

  /** One chunk of retention (see sqlite/retention.ts): deletes past `options.retention`, then a step of incremental vacuum. */
  async applyRetention(budget?: RetentionBudget): Promise<RetentionResult> {
    const db = this.#open()
    const b = resolveRetentionBudget(budget)
    this.#checkWritable('applyRetention')
    try {
      const policy = this.options.retention
      if (hasLimits(policy)) return applySqliteRetention(db, policy, b.maxRows, b.maxVacuumPages, Date.now())
      const v = vacuumStep(db, b.maxVacuumPages)
      return { events: 0, deadLetters: 0, vacuumedPages: v.pages, more: v.more }
    } catch (err) {
      throw toStoreError(err, 'applyRetention')
    }
  }

  /** Rebuilds the file to its contents' size (VACUUM) and sets `auto_vacuum = INCREMENTAL`; only for a store nobody else has open. */
  vacuum(): void {
    this.#checkWritable('vacuum')
    try {
      vacuumFile(this.#open())
    } catch (err) {
      throw toStoreError(err, 'vacuum')
    }
  }

  async storeDeadLetters(items: readonly DeadLetterInput[]): Promise<StoreResult> {
    const db = this.#open()
    const checked = checkDeadLetters(items)
    if (checked.length === 0) return { inserted: 0, duplicates: 0 }
    this.#checkWritable('storeDeadLetters')
    try {
      const ins = this.#prepare(
        `INSERT OR IGNORE INTO dead_letters (key, ring_id, seq, captured_at, body, error, attempts, reason, stored_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      const storedAt = Date.now()
      const inserted = db
        .transaction((): number => {
          let n = 0
          for (const d of checked) {
            n += ins.run(d.key, d.ringId, d.seq, d.capturedAt, d.body, d.error, d.attempts, d.reason ?? null, storedAt).changes
          }
          return n
        })
        .immediate()
      this.#checkWritable('storeDeadLetters')
      return { inserted, duplicates: checked.length - inserted }
    } catch (err) {
      throw toStoreError(err, 'storeDeadLetters')
    }
  }

  async listDeadLetters(options?: ListDeadLettersOptions): Promise<DeadLetter[]> {
    this.#open()
    const limit = resolveListLimit(options)
    try {
      const rows = this.#prepare(
        `SELECT key, ring_id AS ringId, seq, captured_at AS capturedAt, body, error, attempts, reason, stored_at AS storedAt
         FROM dead_letters ORDER BY stored_at, rowid LIMIT ?`,
      ).all(limit ?? -1) as DeadLetterRow[]
      return rows.map((r) => {
        const checked: CheckedDeadLetter = { ...r, reason: r.reason ?? undefined }
        return deadLetterOf(checked, r.storedAt)
      })
    } catch (err) {
      throw toStoreError(err, 'listDeadLetters')
    }
  }

  /** Whether the file at the path is still the one opened (one stat); `:memory:` is always healthy. */
  async health(): Promise<StoreHealth> {
    return this.#watch?.health() ?? { status: 'healthy', reason: 'private in-memory database' }
  }

  async close(): Promise<void> {
    const db = this.#db
    if (db === undefined) return
    this.#db = undefined
    this.#queries.clear()
    try {
      db.close()
    } catch (err) {
      throw toStoreError(err, 'close')
    }
  }
}
