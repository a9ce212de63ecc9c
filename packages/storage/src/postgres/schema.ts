// The PostgreSQL schema and its migrations. `schema_version` in the store's schema holds how many
// migrations it has had; opening runs the missing ones in one transaction under an advisory lock,
// so several writer threads opening one new schema at once migrate it exactly once. Never edit a
// shipped migration: add one.

import type pg from 'pg'
import { StoreOpenError } from '../errors.js'

/**
 * Each entry moves a schema from version i to i + 1; `$S` stands for the quoted schema name.
 *
 * Why this shape: the key is `(ring_id, seq)` itself (PostgreSQL's btree dedup and TOAST make
 * interning ring ids, as SQLite does, not worth a second round trip). `ring_id` sorts with the C
 * collation so ORDER BY ties break by code unit, as the contract's `<` on strings does.
 * `captured_at` and `arity` are double precision so a JS number goes in and comes out exactly.
 * Secondary indexes pair a field with `captured_at` and are partial, as in SQLite.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: events and query indexes.
  `
  CREATE TABLE $S.events (
    ring_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    captured_at double precision NOT NULL,
    type text,
    pid text,
    module text,
    function text,
    arity double precision,
    correlation_id text,
    ast_node_id text,
    body jsonb NOT NULL,
    PRIMARY KEY (ring_id, seq)
  );
  CREATE INDEX events_captured_at ON $S.events (captured_at, ring_id, seq);
  CREATE INDEX events_pid ON $S.events (pid, captured_at) WHERE pid IS NOT NULL;
  CREATE INDEX events_type ON $S.events (type, captured_at) WHERE type IS NOT NULL;
  CREATE INDEX events_mfa ON $S.events (module, function, arity, captured_at) WHERE module IS NOT NULL;
  CREATE INDEX events_correlation ON $S.events (correlation_id) WHERE correlation_id IS NOT NULL;
  CREATE INDEX events_ast_node ON $S.events (ast_node_id, captured_at) WHERE ast_node_id IS NOT NULL;
  `,
  // 2: dead letters. The body is text, not jsonb: it is evidence and must be kept even when jsonb
  // would refuse it (a \\u0000 in a string). `no` orders letters stored in the same millisecond.
  `
  CREATE TABLE $S.dead_letters (
    key text PRIMARY KEY,
    no bigserial NOT NULL,
    ring_id text NOT NULL,
    seq bigint NOT NULL,
    captured_at double precision NOT NULL,
    body text NOT NULL,
    error text NOT NULL,
    attempts bigint NOT NULL,
    reason text,
    stored_at double precision NOT NULL
  );
  CREATE INDEX dead_letters_stored_at ON $S.dead_letters (stored_at, no);
  CREATE INDEX dead_letters_ring ON $S.dead_letters (ring_id);
  `,
  // 3: what retention removed, per ring, counted by the statement that removes it, so a running
  // pipeline's accounting tells events removed on purpose from events lost.
  `
  CREATE TABLE $S.pruned (
    ring_id text PRIMARY KEY,
    events bigint NOT NULL DEFAULT 0,
    dead_letters bigint NOT NULL DEFAULT 0
  );
  `,
]

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length

// First key of the two-int advisory lock: an arbitrary constant that marks the lock as Ringside's.
const LOCK_CLASS = 0x52696e67 // 'Ring'

/** The SQL of migration `index` for `schema` (exported so tests can build an old schema). */
export function migrationSql(index: number, schema: string): string {
  const sql = MIGRATIONS[index]
  if (sql === undefined) throw new RangeError(`no migration ${index}`)
  return sql.replaceAll('$S', `"${schema}"`)
}

/** Brings `schema` up to SCHEMA_VERSION over one client; returns the version it found. */
export async function migrate(client: pg.ClientBase, schema: string, where: string): Promise<number> {
  await client.query('BEGIN')
  try {
    // Held to COMMIT; the second key separates schemas so stores in other schemas do not wait.
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, schema])
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".schema_version (version integer NOT NULL)`)
    const rows = (await client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_version`)).rows
    const found = rows[0]?.version ?? 0
    if (found > SCHEMA_VERSION) {
      throw new StoreOpenError(
        'schema_too_new',
        where,
        `postgres schema "${schema}" at ${where} has schema version ${found}; this @ringside/storage knows up to ${SCHEMA_VERSION}`,
      )
    }
    for (let v = found; v < SCHEMA_VERSION; v++) await client.query(migrationSql(v, schema))
    if (rows.length === 0) await client.query(`INSERT INTO "${schema}".schema_version (version) VALUES ($1)`, [SCHEMA_VERSION])
    else if (found !== SCHEMA_VERSION) await client.query(`UPDATE "${schema}".schema_version SET version = $1`, [SCHEMA_VERSION])
    await client.query('COMMIT')
    return found
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  }
}
