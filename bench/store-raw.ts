// The "raw" contender: the best plain better-sqlite3 insert loop for the very schema and pragmas
// of the SQLite store, with none of its checks. Other benchmarks measure the store and the
// pipeline against it, so it is its own module. It reads the schema back from a file the store
// created, interns strings through a Map (its ids are final: it is the file's only writer and
// never rolls back), splits the known fields out of the body as the store does, and inserts 50
// rows per statement.
import { rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import { SQLITE_DEFAULTS, SqliteStore, type EventRecord } from '@ringside/storage'

let schemaCache: string[] | undefined
/** The store's schema, read back from a file the store created at `scratchPath` (then removed). */
export async function storeSchema(scratchPath: string): Promise<string[]> {
  if (schemaCache !== undefined) return schemaCache
  await SqliteStore.open({ path: scratchPath }).close()
  const db = new Database(scratchPath, { readonly: true })
  schemaCache = db.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type = 'index', rowid").pluck().all() as string[]
  db.close()
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${scratchPath}${suffix}`, { force: true })
  return schemaCache
}

const CHUNK = 50
const COLUMNS = 15
const COLS = '(ring_no, seq, captured_at, type, pid, module, function, arity, correlation, ast_node, writer, enriched_at, processing_order, shape, body)'
const insertSql = (rows: number): string => `INSERT INTO events ${COLS} VALUES ${Array.from({ length: rows }, () => `(${'?,'.repeat(COLUMNS - 1)}?)`).join(',')}`
const HELD = new Set(['type', 'pid', 'module', 'function', 'arity', 'correlationId', 'astNodeId', 'writerId', 'enrichedAt', 'processingOrder'])

/** A raw writer on a fresh file at `path` for records of `ringId`. */
export async function openRaw(path: string, ringId: string, options: { scratchPath: string; walAutocheckpointPages?: number }): Promise<{ storeEvents(batch: readonly EventRecord[]): void; close(): void }> {
  const schema = await storeSchema(options.scratchPath)
  const db = new Database(path, { timeout: SQLITE_DEFAULTS.busyTimeoutMs })
  db.pragma('auto_vacuum = INCREMENTAL')
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${SQLITE_DEFAULTS.synchronous}`)
  db.pragma(`cache_size = -${SQLITE_DEFAULTS.cacheSizeKiB}`)
  db.pragma('temp_store = MEMORY')
  db.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages ?? SQLITE_DEFAULTS.walAutocheckpointPages}`)
  for (const sql of schema) db.exec(sql)
  const ringNo = Number(db.prepare('INSERT INTO rings (ring_id) VALUES (?)').run(ringId).lastInsertRowid)
  const ids = new Map<string, number>()
  const internStmt = db.prepare('INSERT INTO strings (s) VALUES (?) RETURNING id').pluck()
  const id = (v: unknown): number | null => {
    if (typeof v !== 'string') return null
    let no = ids.get(v)
    if (no === undefined) {
      no = internStmt.get(v) as number
      ids.set(v, no)
    }
    return no
  }
  // Shapes by their keys joined with NUL (raw trusts its input: no key holds a NUL).
  const shapes = new Map<string, number | null>()
  const shapeId = (e: Record<string, unknown>): number | null => {
    const keys = Object.keys(e)
    const joined = keys.join('\u0000')
    let no = shapes.get(joined)
    if (no === undefined) {
      no = id(JSON.stringify(keys))
      shapes.set(joined, no)
    }
    return no
  }
  const one = db.prepare(insertSql(1))
  const chunk = db.prepare(insertSql(CHUNK))
  const tx = db.transaction((batch: readonly EventRecord[]) => {
    const params: unknown[] = []
    for (const r of batch) {
      const e = r.event
      const rest: Record<string, unknown> = {}
      let restCount = 0
      for (const k in e) {
        if (HELD.has(k)) continue
        rest[k] = e[k]
        restCount++
      }
      const corr = e.correlationId === r.key ? 0 : id(e.correlationId)
      params.push(
        ringNo, r.seq, r.capturedAt, id(e.type), id(e.pid), id(e.module), id(e.function), e.arity ?? null, corr, id(e.astNodeId),
        id(e.writerId), e.enrichedAt ?? null, e.processingOrder ?? null, shapeId(e), restCount === 0 ? null : JSON.stringify(rest),
      )
      if (params.length === CHUNK * COLUMNS) {
        chunk.run(params)
        params.length = 0
      }
    }
    for (let at = 0; at < params.length; at += COLUMNS) one.run(params.slice(at, at + COLUMNS))
  })
  return { storeEvents: (batch) => tx(batch), close: () => void db.close() }
}
