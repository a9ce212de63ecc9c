// The SQLite store's layout before schema 3 (versions 1-2 of packages/storage/src/sqlite/schema.ts,
// frozen as shipped), as a contender: interned ring ids, the indexed fields as TEXT columns with
// composite partial indexes, the whole event as JSON text, one INSERT per row, the store's pragmas.
// It shows what schema 3 (strings dictionary, split body, multi-row inserts) changed.
import Database from 'better-sqlite3'
import { SQLITE_DEFAULTS, type EventRecord } from '@ringside/storage'

const SCHEMA = `
  CREATE TABLE rings (ring_no INTEGER PRIMARY KEY, ring_id TEXT NOT NULL UNIQUE);
  CREATE TABLE events (ring_no INTEGER NOT NULL, seq INTEGER NOT NULL, captured_at REAL NOT NULL, type TEXT, pid TEXT,
    module TEXT, function TEXT, arity INTEGER, correlation_id TEXT, ast_node_id TEXT, body TEXT NOT NULL);
  CREATE UNIQUE INDEX events_key ON events (ring_no, seq);
  CREATE INDEX events_captured_at ON events (captured_at);
  CREATE INDEX events_pid ON events (pid, captured_at) WHERE pid IS NOT NULL;
  CREATE INDEX events_type ON events (type, captured_at) WHERE type IS NOT NULL;
  CREATE INDEX events_mfa ON events (module, function, arity, captured_at) WHERE module IS NOT NULL;
  CREATE INDEX events_correlation ON events (correlation_id) WHERE correlation_id IS NOT NULL;
  CREATE INDEX events_ast_node ON events (ast_node_id, captured_at) WHERE ast_node_id IS NOT NULL;
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO counters VALUES ('events', 0);`

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** A writer in the schema-2 layout on a fresh file at `path`. */
export function openV2(path: string, walAutocheckpointPages: number = SQLITE_DEFAULTS.walAutocheckpointPages): { storeEvents(batch: readonly EventRecord[]): number; db: Database.Database; close(): void } {
  const db = new Database(path, { timeout: SQLITE_DEFAULTS.busyTimeoutMs })
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${SQLITE_DEFAULTS.synchronous}`)
  db.pragma(`cache_size = -${SQLITE_DEFAULTS.cacheSizeKiB}`)
  db.pragma(`wal_autocheckpoint = ${walAutocheckpointPages}`)
  db.exec(SCHEMA)
  const insert = db.prepare(
    `INSERT OR IGNORE INTO events (ring_no, seq, captured_at, type, pid, module, function, arity, correlation_id, ast_node_id, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const rings = new Map<string, number>()
  const ringNo = (id: string): number => {
    let no = rings.get(id)
    if (no === undefined) {
      no = Number(db.prepare('INSERT INTO rings (ring_id) VALUES (?)').run(id).lastInsertRowid)
      rings.set(id, no)
    }
    return no
  }
  const count = db.prepare("UPDATE counters SET value = value + ? WHERE name = 'events'")
  const tx = db.transaction((batch: readonly EventRecord[]): number => {
    let n = 0
    for (const r of batch) {
      const e = r.event
      const arity = typeof e.arity === 'number' && Number.isInteger(e.arity) ? e.arity : null
      n += insert.run(ringNo(r.ringId), r.seq, r.capturedAt, str(e.type), str(e.pid), str(e.module), str(e.function), arity, str(e.correlationId), str(e.astNodeId), JSON.stringify(e)).changes
    }
    count.run(n)
    return n
  })
  return { storeEvents: (batch) => tx.immediate(batch), db, close: () => db.close() }
}
