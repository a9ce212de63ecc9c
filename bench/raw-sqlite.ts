// The raw better-sqlite3 insert loop the SQLite benchmarks compare against: the adapter's own schema
// (read back from a file the adapter created, so it follows the store's schema as it changes), the
// same pragmas, one prepared plain INSERT per row inside one transaction per batch.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SQLITE_DEFAULTS, SqliteStore, type EventRecord } from '@ringside/storage'

const schemas = new Map<string, string[]>()

/** The adapter's schema statements, read from a fresh file made in `dir`. */
export async function adapterSchema(dir: string): Promise<string[]> {
  const cached = schemas.get(dir)
  if (cached !== undefined) return cached
  const path = join(dir, `schema-${process.pid}.db`)
  await SqliteStore.open({ path }).close()
  const db = new Database(path, { readonly: true })
  const sql = db.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type = 'index', rowid").pluck().all() as string[]
  db.close()
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
  schemas.set(dir, sql)
  return sql
}

/**
 * Raw better-sqlite3 on a fresh file: the adapter's schema and pragmas, a plain INSERT per row in
 * one transaction per batch. It trusts its input: no checks, no duplicate counting, no event
 * counter; it still JSON.stringifies each body.
 */
export async function openRaw(path: string, ringId: string, o: { schemaDir: string; walAutocheckpointPages?: number }): Promise<{ storeEvents(batch: readonly EventRecord[]): void; close(): void }> {
  const db = new Database(path, { timeout: SQLITE_DEFAULTS.busyTimeoutMs })
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${SQLITE_DEFAULTS.synchronous}`)
  db.pragma(`cache_size = -${SQLITE_DEFAULTS.cacheSizeKiB}`)
  db.pragma(`wal_autocheckpoint = ${o.walAutocheckpointPages ?? SQLITE_DEFAULTS.walAutocheckpointPages}`)
  for (const sql of await adapterSchema(o.schemaDir)) db.exec(sql)
  const ringNo = Number(db.prepare('INSERT INTO rings (ring_id) VALUES (?)').run(ringId).lastInsertRowid)
  const insert = db.prepare(
    `INSERT INTO events (ring_no, seq, captured_at, type, pid, module, function, arity, correlation_id, ast_node_id, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const tx = db.transaction((batch: readonly EventRecord[]) => {
    for (const r of batch) {
      const e = r.event as Record<string, string | number | undefined>
      insert.run(ringNo, r.seq, r.capturedAt, e.type ?? null, e.pid ?? null, e.module ?? null, e.function ?? null, e.arity ?? null, e.correlationId ?? null, e.astNodeId ?? null, JSON.stringify(e))
    }
  })
  return { storeEvents: (batch) => tx(batch), close: () => void db.close() }
}
