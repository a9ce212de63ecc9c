// The SQLite schema and its migrations. `PRAGMA user_version` holds the number of migrations a
// file has had and `PRAGMA application_id` marks the file as Ringside's; opening runs the missing
// migrations in one IMMEDIATE transaction, so several threads opening one new file at once migrate
// it exactly once. Never edit a shipped migration: add one.

import type Database from 'better-sqlite3'
import { StoreOpenError } from '../errors.js'

/**
 * Each entry moves a file from version i to i + 1.
 *
 * Why this shape (bench/STORE-RESULTS.md has the figures): ring ids are interned into `rings` so
 * the unique key is two small integers, `(ring_no, seq)`, 3.5 times smaller than 'hex:seq' text,
 * and a ring's inserts append at the end of its key range. Rows are a rowid table, so the bodies
 * append too. Secondary indexes pair a field with `captured_at`, which serves "by X in a time
 * range, ordered by time" from one range and keeps each field value's inserts on one hot page;
 * the optional fields' indexes are partial, so events without the field cost them nothing. What a
 * commit costs is the number of distinct pages it touches: keys in random order (random UUIDs in
 * an indexed field) touch one page per row, and that, not this schema, sets the rate then.
 * Version 3 interns every repeated string into `strings` and keeps the common fields in columns
 * only, which made a stored event about a third of its size (row-codec.ts, README "Schema").
 * `events` stays a rowid table with a REAL `captured_at`, and `counters` 'events' stays exact,
 * because retention deletes by rowid in captured_at order and adjusts the counter.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: events, interned ring ids, query indexes.
  `
  CREATE TABLE rings (
    ring_no INTEGER PRIMARY KEY,
    ring_id TEXT NOT NULL UNIQUE
  );
  CREATE TABLE events (
    ring_no INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    captured_at REAL NOT NULL,
    type TEXT,
    pid TEXT,
    module TEXT,
    function TEXT,
    arity INTEGER,
    correlation_id TEXT,
    ast_node_id TEXT,
    body TEXT NOT NULL
  );
  CREATE UNIQUE INDEX events_key ON events (ring_no, seq);
  CREATE INDEX events_captured_at ON events (captured_at);
  CREATE INDEX events_pid ON events (pid, captured_at) WHERE pid IS NOT NULL;
  CREATE INDEX events_type ON events (type, captured_at) WHERE type IS NOT NULL;
  CREATE INDEX events_mfa ON events (module, function, arity, captured_at) WHERE module IS NOT NULL;
  CREATE INDEX events_correlation ON events (correlation_id) WHERE correlation_id IS NOT NULL;
  CREATE INDEX events_ast_node ON events (ast_node_id, captured_at) WHERE ast_node_id IS NOT NULL;
  `,
  // 2: dead letters, and an exact event count kept per transaction so stats() need not scan.
  `
  CREATE TABLE dead_letters (
    key TEXT PRIMARY KEY,
    ring_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    captured_at REAL NOT NULL,
    body TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT,
    stored_at REAL NOT NULL
  );
  CREATE INDEX dead_letters_stored_at ON dead_letters (stored_at);
  CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO counters (name, value) SELECT 'events', count(*) FROM events;
  `,
  // 3: strings interned into one dictionary, so every indexed field is a small integer; the fields
  // held in columns are no longer repeated in the body, and `shape` (a dictionary id of the JSON
  // key list) restores the key order on read. `correlation = 0` means "the event's own key" (the
  // writer's fallback), so that common case stores no string and no index entry. Rows migrated
  // from version 2 keep their whole event as body (`shape` NULL); their rowids are kept. `pruned`
  // counts, per ring, what retention removed, in the deleting transaction, so a running pipeline's
  // accounting tells events removed on purpose from events lost.
  `
  CREATE TABLE strings (
    id INTEGER PRIMARY KEY,
    s TEXT NOT NULL UNIQUE
  );
  INSERT OR IGNORE INTO strings (s)
    SELECT type FROM events WHERE type IS NOT NULL
    UNION SELECT pid FROM events WHERE pid IS NOT NULL
    UNION SELECT module FROM events WHERE module IS NOT NULL
    UNION SELECT function FROM events WHERE function IS NOT NULL
    UNION SELECT correlation_id FROM events WHERE correlation_id IS NOT NULL
    UNION SELECT ast_node_id FROM events WHERE ast_node_id IS NOT NULL;
  CREATE TABLE events_v3 (
    ring_no INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    captured_at REAL NOT NULL,
    type INTEGER,
    pid INTEGER,
    module INTEGER,
    function INTEGER,
    arity INTEGER,
    correlation INTEGER,
    ast_node INTEGER,
    writer INTEGER,
    enriched_at REAL,
    processing_order INTEGER,
    shape INTEGER,
    body TEXT
  );
  INSERT INTO events_v3 (rowid, ring_no, seq, captured_at, type, pid, module, function, arity, correlation, ast_node, body)
    SELECT rowid, ring_no, seq, captured_at,
      (SELECT id FROM strings WHERE s = type), (SELECT id FROM strings WHERE s = pid),
      (SELECT id FROM strings WHERE s = module), (SELECT id FROM strings WHERE s = function), arity,
      (SELECT id FROM strings WHERE s = correlation_id), (SELECT id FROM strings WHERE s = ast_node_id), body
    FROM events ORDER BY rowid;
  DROP TABLE events;
  ALTER TABLE events_v3 RENAME TO events;
  CREATE UNIQUE INDEX events_key ON events (ring_no, seq);
  CREATE INDEX events_captured_at ON events (captured_at);
  CREATE INDEX events_pid ON events (pid, captured_at) WHERE pid IS NOT NULL;
  CREATE INDEX events_type ON events (type, captured_at) WHERE type IS NOT NULL;
  CREATE INDEX events_mfa ON events (module, function, arity, captured_at) WHERE module IS NOT NULL;
  CREATE INDEX events_correlation ON events (correlation) WHERE correlation > 0;
  CREATE INDEX events_ast_node ON events (ast_node, captured_at) WHERE ast_node IS NOT NULL;
  CREATE TABLE pruned (
    ring_id TEXT PRIMARY KEY,
    events INTEGER NOT NULL DEFAULT 0,
    dead_letters INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  `,
]

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * `PRAGMA application_id` of every Ringside store: 0x52534445, "RSDE" in the file header's bytes
 * 68-71. It says "this file is a Ringside store", so a database of anything else is refused
 * instead of getting Ringside's tables created beside its own. (SQLite's magic.txt lists the ids
 * other formats use; this one is not among them.)
 */
export const APPLICATION_ID = 0x52534445

/** The tables a file at schema `version` has (the ones the first `version` migrations create). */
export function tablesOfVersion(version: number): string[] {
  const names = new Set<string>()
  for (const sql of MIGRATIONS.slice(0, version)) {
    for (const m of sql.matchAll(/(CREATE|DROP|ALTER) TABLE (\w+)(?: RENAME TO (\w+))?/g)) {
      const [, verb, name, renamed] = m as unknown as [string, string, string, string | undefined]
      if (verb === 'CREATE') names.add(name)
      else names.delete(name)
      if (renamed !== undefined) names.add(renamed)
    }
  }
  return [...names].sort()
}

/**
 * Brings the file at `path` up to SCHEMA_VERSION and marks it with APPLICATION_ID; returns the
 * version it found. `check` runs first inside the same write transaction, so the decision whether
 * the file is Ringside's is taken on what this transaction will write to. Setting the mark on every
 * open is also the probe that the file can be written (SQLITE_READONLY otherwise).
 */
export function migrate(db: Database.Database, path: string, check: () => void): number {
  const run = db.transaction((): number => {
    check()
    const found = db.pragma('user_version', { simple: true }) as number
    if (found > SCHEMA_VERSION) {
      throw new StoreOpenError(
        'schema_too_new',
        path,
        `database ${path} has schema version ${found}; this @ringside/storage knows up to ${SCHEMA_VERSION}`,
      )
    }
    for (let v = found; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string)
    if (found !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`)
    db.pragma(`application_id = ${APPLICATION_ID}`)
    return found
  })
  // IMMEDIATE takes the write lock before reading user_version, so two openers cannot both migrate.
  return run.immediate()
}
