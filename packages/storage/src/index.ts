// Public surface of @ringside/storage: the EventStore contract, createStore and its specs, the
// memory and SQLite adapters, the remote pair for sharing a store across threads, typed errors.
// The fault-injection store and throwaway test servers are in '@ringside/storage/testing'.
export type { EventRecord, IndexedFields } from './event-record.js'
export { indexedFields } from './event-record.js'
export {
  DEAD_LETTER_REASONS,
  STORE_METHODS,
  isEventStore,
  type DeadLetter,
  type DeadLetterReason,
  type DeadLetterInput,
  type EventStore,
  type RingCount,
  type CheckpointResult,
  type ListDeadLettersOptions,
  type StoreResult,
  type StoreHealth,
  type StoreStats,
} from './event-store.js'
export { resolveQueryFilter, type QueryFilter, type ResolvedQueryFilter } from './query-filter.js'
export {
  createStore,
  resolveStoreSpec,
  type MemoryStoreSpec,
  type ResolvedStoreSpec,
  type SqliteStoreSpec,
  type StoreFactory,
  type StoreSpec,
  type JetStreamStoreSpec,
  type LeafStoreSpec,
  type PostgresStoreSpec,
  type TargetStoreSpec,
} from './create-store.js'
export { MemoryStore } from './memory-store.js'
export {
  RETENTION_BUDGET_DEFAULTS,
  resolveRetention,
  type ResolvedRetention,
  type RetentionBudget,
  type RetentionPolicy,
  type RetentionResult,
} from './retention.js'
export { SqliteStore } from './sqlite/sqlite-store.js'
export { SQLITE_DEFAULTS, type ResolvedSqliteOptions, type SqliteStoreOptions, type SqliteSynchronous } from './sqlite/options.js'
export { APPLICATION_ID, SCHEMA_VERSION } from './sqlite/schema.js'
export { sqliteFileInUse } from './sqlite/in-use.js'
export { StoreFileWatch, fileIdentity, type FileIdentity } from './sqlite/file-watch.js'
export { serveStore, type ServedPort } from './serve-store.js'
export { REMOTE_STORE_DEFAULTS, RemoteStore, connectStore, type RemoteStoreOptions } from './remote-store.js'
export { RoutedStore, type RouteCount } from './routed/routed-store.js'
export type { ResolvedRoute, ResolvedRoutedOptions, RouteSpec, RouteWhen, RouteWhenField, RouteWhenTypes, RoutedStoreSpec } from './routed/options.js'
export {
  RemoteStoreTimeoutError,
  RoutedStoreError,
  StoreError,
  StoreFilterError,
  StoreOpenError,
  StoreRecordError,
  StoreSpecError,
  type StoreErrorCode,
} from './errors.js'
// JetStream: options and errors here; the store itself (and the NATS client) loads on use, through
// createStore({ kind: 'jetstream', ... }) or '@ringside/storage/jetstream'.
export { JETSTREAM_DEFAULTS, resolveJetStreamOptions, type JetStreamStorage, type JetStreamStoreOptions, type ResolvedJetStreamOptions } from './jetstream/options.js'
export { JetStreamUnsupportedError } from './jetstream/jetstream-errors.js'
// PostgreSQL: options here; the store (and the pg driver) loads on use, through
// createStore({ kind: 'postgres', url }) or '@ringside/storage/postgres'.
export { POSTGRES_DEFAULTS, resolvePostgresOptions, type PostgresStoreOptions, type ResolvedPostgresOptions } from './postgres/options.js'
