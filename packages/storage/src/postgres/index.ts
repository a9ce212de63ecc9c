// The PostgreSQL adapter's public surface: the store, its options and their resolve step, and the
// schema version it writes. Re-exports only.

export { PostgresStore } from './postgres-store.js'
export { POSTGRES_DEFAULTS, resolvePostgresOptions, type PostgresStoreOptions, type ResolvedPostgresOptions } from './options.js'
export { SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION } from './schema.js'
export { classifyPgError } from './pg-errors.js'
