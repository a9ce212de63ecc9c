// The naive SQLite event store the benchmark compares against, and its one-fix-at-a-time
// variants: each flag restores one of the store's earlier choices so its share of the decay shows.
// Not a product: one table keyed by a TEXT 'hex:seq' primary key, the indexed fields as TEXT
// columns, six indexes (captured_at; pid; type; module, function, arity; correlation_id;
// ast_node_id), the whole event as JSON text, one transaction per batch, the driver's default
// cache (16000 KiB in better-sqlite3 12's build) and checkpoint (1000 pages).
import Database from 'better-sqlite3'
import type { EventRecord } from '@ringside/storage'

/** Which of the adapter's fixes a naive variant takes. All false is the naive design. */
export interface NaiveFixes {
  /** Interned ring ids and a (ring_no, seq) INTEGER unique key instead of a TEXT 'hex:seq' primary key. */
  readonly intKey?: boolean
  /** Composite (field, captured_at) partial indexes instead of one index per field. */
  readonly indexes?: boolean
  /** cache_size of 64 MiB instead of better-sqlite3 12's build default of 16000 KiB. */
  readonly cache?: boolean
  /** wal_autocheckpoint of 50000 pages instead of 1000. */
  readonly checkpoint?: boolean
  /** Diagnosis only: pass the body through SQLite's json() (as the first naive design did). */
  readonly sqliteJson?: boolean
  /** Diagnosis only: one index per field, mfa as three (as the first naive design did). */
  readonly perFieldIndexes?: boolean
  /** Diagnosis only, not a fix: leave out the correlation_id index. */
  readonly noCorrelationIndex?: boolean
  /** Diagnosis only, not a fix: synchronous=OFF, so checkpoints never fsync. */
  readonly syncOff?: boolean
}

const FIELDS = ['type', 'pid', 'module', 'function', 'arity', 'correlation_id', 'ast_node_id'] as const
// With events_captured_at, the six indexes of the naive design: [name, columns].
const FIVE: readonly [string, string][] = [['pid', 'pid'], ['type', 'type'], ['mfa', 'module, function, arity'], ['correlation_id', 'correlation_id'], ['ast_node_id', 'ast_node_id']]

function schema(f: NaiveFixes): string {
  const keyCols = f.intKey === true ? 'ring_no INTEGER NOT NULL, seq INTEGER NOT NULL,' : 'key TEXT PRIMARY KEY, ring_id TEXT NOT NULL, seq INTEGER NOT NULL,'
  let sql = f.intKey === true ? 'CREATE TABLE rings (ring_no INTEGER PRIMARY KEY, ring_id TEXT NOT NULL UNIQUE);' : ''
  sql += `CREATE TABLE events (${keyCols} captured_at REAL NOT NULL, type TEXT, pid TEXT, module TEXT, function TEXT,
      arity INTEGER, correlation_id TEXT, ast_node_id TEXT, body TEXT NOT NULL);`
  if (f.intKey === true) sql += 'CREATE UNIQUE INDEX events_key ON events (ring_no, seq);'
  sql += 'CREATE INDEX events_captured_at ON events (captured_at);'
  if (f.indexes === true) {
    sql += `CREATE INDEX events_pid ON events (pid, captured_at) WHERE pid IS NOT NULL;
      CREATE INDEX events_type ON events (type, captured_at) WHERE type IS NOT NULL;
      CREATE INDEX events_mfa ON events (module, function, arity, captured_at) WHERE module IS NOT NULL;
      CREATE INDEX events_ast_node ON events (ast_node_id, captured_at) WHERE ast_node_id IS NOT NULL;`
    if (f.noCorrelationIndex !== true) sql += 'CREATE INDEX events_correlation ON events (correlation_id) WHERE correlation_id IS NOT NULL;'
  } else if (f.perFieldIndexes === true) {
    for (const c of FIELDS) if (c !== 'correlation_id' || f.noCorrelationIndex !== true) sql += `CREATE INDEX events_${c} ON events (${c});`
  } else {
    for (const [name, cols] of FIVE) if (name !== 'correlation_id' || f.noCorrelationIndex !== true) sql += `CREATE INDEX events_${name} ON events (${cols});`
  }
  return sql
}

/** Opens a naive (or partly fixed) store at `path` and returns its batch writer. */
export function openNaive(path: string, fixes: NaiveFixes = {}): { storeEvents(batch: readonly EventRecord[]): number; close(): void } {
  const db = new Database(path, { timeout: 30_000 })
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${fixes.syncOff === true ? 'OFF' : 'NORMAL'}`)
  if (fixes.cache === true) db.pragma('cache_size = -65536')
  if (fixes.checkpoint === true) db.pragma('wal_autocheckpoint = 50000')
  db.exec(schema(fixes))
  const body = fixes.sqliteJson === true ? 'json(?)' : '?'
  const cols = 'captured_at, type, pid, module, function, arity, correlation_id, ast_node_id, body'
  const insert = fixes.intKey === true
    ? db.prepare(`INSERT OR IGNORE INTO events (ring_no, seq, ${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${body})`)
    : db.prepare(`INSERT OR IGNORE INTO events (key, ring_id, seq, ${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${body})`)
  const rings = new Map<string, number>()
  const ringNo = (id: string): number => {
    let no = rings.get(id)
    if (no === undefined) {
      no = Number(db.prepare('INSERT INTO rings (ring_id) VALUES (?)').run(id).lastInsertRowid)
      rings.set(id, no)
    }
    return no
  }
  const s = (v: unknown): string | null => (typeof v === 'string' ? v : null)
  const tx = db.transaction((batch: readonly EventRecord[]): number => {
    let n = 0
    for (const r of batch) {
      const e = r.event
      const arity = typeof e.arity === 'number' && Number.isInteger(e.arity) ? e.arity : null
      const rest = [r.capturedAt, s(e.type), s(e.pid), s(e.module), s(e.function), arity, s(e.correlationId), s(e.astNodeId), JSON.stringify(e)]
      n += (fixes.intKey === true ? insert.run(ringNo(r.ringId), r.seq, ...rest) : insert.run(r.key, r.ringId, r.seq, ...rest)).changes
    }
    return n
  })
  return { storeEvents: (batch) => tx(batch), close: () => db.close() }
}
