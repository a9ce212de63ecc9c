// SqliteStore: the EventStore contract over one better-sqlite3 connection. A file may be shared
// by several connections (one per writer thread): WAL lets readers run beside the single writer,
// every write transaction is IMMEDIATE, and the busy timeout makes writers queue, not fail. Every
// write checks that the file at the path is still the one opened, so nothing is written into a
// deleted file that nobody will ever read.

import { statSync } from 'node:fs'
import type Database from 'better-sqlite3'
import { StoreError, StoreFilterError, StoreRecordError, describeValue } from '../errors.js'
import { checkRecordFields, parseKey, serializeEvent, type EventRecord } from '../event-record.js'
import { checkDeadLetters, deadLetterOf, type CheckedDeadLetter } from '../dead-letter.js'
import type { CheckpointResult, DeadLetter, DeadLetterInput, EventStore, ListDeadLettersOptions, StoreHealth, StoreResult, StoreStats } from '../event-store.js'
import { checkTime, resolveListLimit, resolveQueryFilter, type QueryFilter, type ResolvedQueryFilter } from '../query-filter.js'
import { resolveSqliteOptions, type ResolvedSqliteOptions, type SqliteStoreOptions } from './options.js'
import { FROM_EVENTS, RECORD_COLUMNS, querySql, tieQuery } from './query-sql.js'
import { orderTies, type RingOrder } from './tie-order.js'
import { StringInterner } from './interner.js'
import { ID_COLUMNS, OWN_KEY, OWN_KEY_ID, joinEvent, splitEvent, type Row, type SplitEvent } from './row-codec.js'
import { StoreFileWatch } from './file-watch.js'
import { openDatabase } from './open.js'
import { WalCheckpointer, hasNoopCheckpoint } from './checkpoint.js'
import { toStoreError } from './sqlite-errors.js'
import { hasLimits, resolveRetentionBudget, type RetentionBudget, type RetentionResult } from '../retention.js'
import { PRUNE_EVENTS, PRUNE_EVENTS_END, applySqliteRetention, vacuumFile, vacuumStep } from './retention.js'

type Statement = Database.Statement<unknown[], unknown>
interface DeadLetterRow { key: string; ringId: string; seq: number; capturedAt: number; body: string; error: string; attempts: number; reason: string | null; storedAt: number }

// Rows per INSERT statement: one statement execution per chunk instead of per row (the driver's
// per-call cost dominates a narrow row); 50 x 15 parameters stays far below SQLite's limit.
const CHUNK = 50
const COLUMNS = 15
const INSERT_COLUMNS = '(ring_no, seq, captured_at, type, pid, module, function, arity, correlation, ast_node, writer, enriched_at, processing_order, shape, body)'
const insertSql = (rows: number): string =>
  `INSERT OR IGNORE INTO events ${INSERT_COLUMNS} VALUES ${Array.from({ length: rows }, () => `(${'?,'.repeat(COLUMNS - 1)}?)`).join(',')}`

/** Checks a batch and splits every event, before the write lock is taken; throws StoreRecordError. */
function splitBatch(batch: unknown): SplitEvent[] {
  if (!Array.isArray(batch)) throw new StoreRecordError(-1, 'batch', `a batch must be an array of records, got ${describeValue(batch)}`)
  const out = new Array<SplitEvent>(batch.length)
  for (let i = 0; i < batch.length; i++) {
    const event = checkRecordFields(batch[i], i)
    out[i] = serializeEvent(() => splitEvent((batch[i] as EventRecord).key, event), i)
  }
  return out
}

/** An EventStore in a SQLite file (or `:memory:`), through better-sqlite3. */
export class SqliteStore implements EventStore {
  /** The options in force, defaults applied. */
  readonly options: ResolvedSqliteOptions
  #db: Database.Database | undefined
  // ring id -> ring_no; an entry is only added after the transaction that made it committed.
  readonly #ringNos = new Map<string, number>()
  readonly #queries = new Map<string, Statement>()
  readonly #strings: StringInterner
  readonly #insertOne: Statement
  readonly #insertChunk: Statement
  readonly #ringInsert: Statement
  readonly #ringSelect: Statement
  readonly #countAdd: Statement
  readonly #writeBatch: (batch: readonly EventRecord[], split: readonly SplitEvent[], fresh: Map<string, number>) => number
  readonly #watch: StoreFileWatch | undefined
  /** Checkpoints outside the writers' turns; absent for read-only, `:memory:` or walCheckpointPages 0. */
  readonly #checkpointer: WalCheckpointer | undefined
  /** Batches split by prepareEvents ahead of their storeEvents (outside the writers' turn-taking). */
  readonly #prepared = new WeakMap<readonly EventRecord[], SplitEvent[]>()

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
    const wal = !options.readOnly && !db.memory && options.walCheckpointPages > 0 && hasNoopCheckpoint(db)
    this.#checkpointer = wal ? new WalCheckpointer(db, options.walCheckpointPages, options.walAutocheckpointPages) : undefined
    this.#strings = new StringInterner(db)
    this.#insertOne = db.prepare(insertSql(1))
    this.#insertChunk = db.prepare(insertSql(CHUNK))
    this.#ringInsert = db.prepare('INSERT OR IGNORE INTO rings (ring_id) VALUES (?)')
    this.#ringSelect = db.prepare('SELECT ring_no FROM rings WHERE ring_id = ?').pluck()
    this.#countAdd = db.prepare("UPDATE counters SET value = value + ? WHERE name = 'events'")
    const tx = db.transaction((batch: readonly EventRecord[], split: readonly SplitEvent[], fresh: Map<string, number>): number => {
      let inserted = 0
      const strings = this.#strings
      const id = (v: string | null): number | null => (v === null ? null : strings.idOf(v))
      // A batch usually comes from one ring: look its number up once, not per row.
      let lastRing = ''
      let ringNo = 0
      const params: unknown[] = []
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i] as EventRecord
        if (r.ringId !== lastRing) {
          lastRing = r.ringId
          ringNo = this.#ringNos.get(lastRing) ?? fresh.get(lastRing) ?? this.#internRing(lastRing, fresh)
        }
        const e = split[i] as SplitEvent
        const c = e.correlationId
        params.push(
          ringNo, r.seq, r.capturedAt, id(e.type), id(e.pid), id(e.module), id(e.function), e.arity,
          c === OWN_KEY ? OWN_KEY_ID : id(c), id(e.astNodeId), id(e.writerId), e.enrichedAt, e.processingOrder, id(e.shape), e.body,
        )
        if (params.length === CHUNK * COLUMNS) {
          inserted += this.#insertChunk.run(params).changes
          params.length = 0
        }
      }
      for (let at = 0; at < params.length; at += COLUMNS) inserted += this.#insertOne.run(params.slice(at, at + COLUMNS)).changes
      if (inserted > 0) this.#countAdd.run(inserted)
      return inserted
    })
    // IMMEDIATE: take the write lock up front. A deferred transaction that reads and then writes
    // gets SQLITE_BUSY at once, without the busy handler, when another connection wrote between.
    this.#writeBatch = (batch, split, fresh) => tx.immediate(batch, split, fresh)
  }

  #internRing(ringId: string, fresh: Map<string, number>): number {
    this.#ringInsert.run(ringId)
    const no = this.#ringSelect.get(ringId) as number
    fresh.set(ringId, no)
    return no
  }

  #recordOf(row: Row): EventRecord {
    const ringId = this.#ringIdOf(row[0])
    const seq = row[1]
    const key = `${ringId}:${seq}`
    return { key, ringId, seq, capturedAt: row[2], event: joinEvent(row, key, this.#strings) }
  }

  // ring_no -> ring id of committed rows (a committed ring_no never changes its ring).
  readonly #ringIds = new Map<number, string>()
  #ringIdOf(no: number): string {
    let id = this.#ringIds.get(no)
    if (id === undefined) {
      id = this.#prepare('SELECT ring_id FROM rings WHERE ring_no = ?').pluck().get(no) as string
      this.#ringIds.set(no, id)
    }
    return id
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
      // Reads of events return raw arrays (no object per row); the rest return objects.
      if (sql.startsWith(`SELECT ${RECORD_COLUMNS}`)) stmt.raw()
      this.#queries.set(sql, stmt)
    }
    return stmt
  }

  prepareEvents(batch: readonly EventRecord[]): void {
    try {
      this.#prepared.set(batch, splitBatch(batch))
    } catch {
      // storeEvents checks the batch again and reports what is wrong with it.
    }
  }

  async storeEvents(batch: readonly EventRecord[]): Promise<StoreResult> {
    this.#open()
    const split = this.#prepared.get(batch) ?? splitBatch(batch)
    this.#prepared.delete(batch)
    if (batch.length === 0) return { inserted: 0, duplicates: 0 }
    this.#checkWritable('storeEvents')
    try {
      const fresh = new Map<string, number>()
      let inserted: number
      try {
        this.#checkpointer?.beforeWrite()
        inserted = this.#writeBatch(batch, split, fresh)
      } catch (err) {
        this.#strings.rollback()
        throw err
      }
      // Only now are new ring_nos and string ids committed; rolled-back ones may be given to others.
      for (const [id, no] of fresh) this.#ringNos.set(id, no)
      this.#strings.commit()
      this.#checkWritable('storeEvents')
      return { inserted, duplicates: batch.length - inserted }
    } catch (err) {
      throw toStoreError(err, 'storeEvents')
    }
  }

  /**
   * Copies the WAL into the database once it holds `walCheckpointPages` pages not yet there (a
   * PASSIVE checkpoint: it never waits for a lock and blocks no writer); otherwise only reads the
   * WAL's size. Writers call it after their turn on the file, so the copy overlaps another
   * writer's commit instead of lengthening one (see sqlite/checkpoint.ts).
   */
  async checkpoint(): Promise<CheckpointResult> {
    this.#open()
    if (this.#checkpointer === undefined) return { walPages: 0, copiedPages: 0 }
    this.#checkWritable('checkpoint')
    try {
      return this.#checkpointer.outsideTurn()
    } catch (err) {
      throw toStoreError(err, 'checkpoint')
    }
  }

  async getEvent(key: string): Promise<EventRecord | undefined> {
    this.#open()
    if (typeof key !== 'string') throw new StoreFilterError('key', `'key' must be a string, got ${describeValue(key)}`)
    const parsed = parseKey(key)
    if (parsed === undefined) return undefined
    try {
      const row = this.#prepare(`SELECT ${RECORD_COLUMNS} ${FROM_EVENTS} WHERE e.ring_no = (SELECT ring_no FROM rings WHERE ring_id = ?) AND e.seq = ?`)
        .get(parsed.ringId, parsed.seq) as Row | undefined
      return row === undefined ? undefined : this.#recordOf(row)
    } catch (err) {
      throw toStoreError(err, 'getEvent')
    }
  }

  async query(filter?: QueryFilter): Promise<EventRecord[]> {
    this.#open()
    const f = resolveQueryFilter(filter)
    try {
      const rows = f.limit === undefined ? this.#rowsOf(f) : this.#limitedRows(f)
      orderTies(rows, f.order === 'asc' ? 1 : -1, this.#ringOrder)
      this.#strings.prefetch(rows, ID_COLUMNS)
      const out = new Array<EventRecord>(rows.length)
      for (let i = 0; i < rows.length; i++) out[i] = this.#recordOf(rows[i] as Row)
      return out
    } catch (err) {
      throw toStoreError(err, 'query')
    }
  }

  #rowsOf(f: ResolvedQueryFilter, at?: number): Row[] {
    const { sql, params } = at === undefined ? querySql(f) : tieQuery(f, at)
    return this.#prepare(sql).all(...params) as Row[]
  }

  /**
   * The rows of a filter with a limit. When the limit cuts through a run of equal capture times,
   * SQL (ordering by capture time only) chose which of the run to keep by index order, so the run
   * is read whole and the first of it in ring-id, seq order kept. One read transaction, so both
   * statements see the same snapshot.
   */
  #limitedRows(f: ResolvedQueryFilter): Row[] {
    this.#readTx ??= this.#open().transaction((g: ResolvedQueryFilter): Row[] => {
      const rows = this.#rowsOf(g)
      const limit = g.limit as number
      if (limit === 0 || rows.length < limit) return rows
      const t = (rows[limit - 1] as Row)[2]
      let start = limit - 1
      while (start > 0 && (rows[start - 1] as Row)[2] === t) start--
      const run = this.#rowsOf(g, t)
      // The run's rows already read are some of `run`: as many means all of it.
      if (run.length === limit - start) return rows
      orderTies(run, g.order === 'asc' ? 1 : -1, this.#ringOrder)
      return rows.slice(0, start).concat(run.slice(0, limit - start))
    })
    return this.#readTx(f)
  }

  #readTx: ((f: ResolvedQueryFilter) => Row[]) | undefined

  // ring_no -> place in ring-id order, for ordering ties; read again when a newer ring shows up.
  #ringRanks = new Map<number, number>()
  readonly #ringOrder: RingOrder = {
    rankOf: (no) => this.#ringRanks.get(no),
    reload: () => {
      const nos = this.#prepare('SELECT ring_no FROM rings ORDER BY ring_id').pluck().all() as number[]
      this.#ringRanks = new Map(nos.map((no, rank) => [no, rank]))
    },
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

  async countByRing(ringId: string): Promise<{ events: number; deadLetters: number; prunedEvents: number; prunedDeadLetters: number }> {
    this.#open()
    try {
      // (ring_no, seq) is the primary key, so this counts one range of its index.
      return this.#prepare(
        `SELECT (SELECT count(*) FROM events WHERE ring_no = (SELECT ring_no FROM rings WHERE ring_id = @ringId)) AS events,
                (SELECT count(*) FROM dead_letters WHERE ring_id = @ringId) AS deadLetters,
                coalesce((SELECT events FROM pruned WHERE ring_id = @ringId), 0) AS prunedEvents,
                coalesce((SELECT dead_letters FROM pruned WHERE ring_id = @ringId), 0) AS prunedDeadLetters`,
      ).get({ ringId }) as { events: number; deadLetters: number; prunedEvents: number; prunedDeadLetters: number }
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
      const count = this.#prepare(`${PRUNE_EVENTS} WHERE e.captured_at < ? ${PRUNE_EVENTS_END}`)
      const del = this.#prepare('DELETE FROM events WHERE captured_at < ?')
      return db
        .transaction((): number => {
          count.run(t)
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
