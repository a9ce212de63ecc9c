// Store specs and createStore. A store lives inside a writer thread, so it is named by a
// serializable spec, never passed as a live object: a built-in `kind`, or a user's module as a
// `target` (the way pino names transports). Spec errors name the field at fault.

import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { StoreError, StoreOpenError, StoreSpecError, describeValue } from './errors.js'
import { isEventStore, type EventStore } from './event-store.js'
import { MemoryStore } from './memory-store.js'
import { resolveSqliteOptions, type ResolvedSqliteOptions, type SqliteStoreOptions } from './sqlite/options.js'
import { SqliteStore } from './sqlite/sqlite-store.js'
import { resolveJetStreamOptions, type JetStreamStoreOptions, type ResolvedJetStreamOptions } from './jetstream/options.js'
import { resolvePostgresOptions, type PostgresStoreOptions, type ResolvedPostgresOptions } from './postgres/options.js'
import { resolveRoutedOptions, type ResolvedRoutedOptions, type RoutedStoreSpec } from './routed/options.js'
import { RoutedStore } from './routed/routed-store.js'

/** The in-memory store; its data lives in the thread that creates it. */
export interface MemoryStoreSpec {
  readonly kind: 'memory'
}

/** The SQLite store; see SqliteStoreOptions for every option and its default. */
export interface SqliteStoreSpec extends SqliteStoreOptions {
  readonly kind: 'sqlite'
}

/**
 * A user's adapter module. `target` is a package name (resolved from the process's working
 * directory), a path (absolute, or relative to the working directory) or a file URL. Its
 * `createStore` export, or else its default export, is called with `options`.
 */
export interface TargetStoreSpec {
  readonly target: string
  /** Handed to the module's factory as is; must be structured-cloneable to cross threads. */
  readonly options?: unknown
}

/** PostgreSQL: the same schema and query contract as SQLite, shared by a fleet; see src/postgres/README.md. */
export interface PostgresStoreSpec extends PostgresStoreOptions {
  readonly kind: 'postgres'
}

/** NATS JetStream: events published to a stream (writes only); see src/jetstream/README.md. */
export interface JetStreamStoreSpec extends JetStreamStoreOptions {
  readonly kind: 'jetstream'
}

/** A spec of one store (anything but a routed one): what a route of a routed store names. */
export type LeafStoreSpec = MemoryStoreSpec | SqliteStoreSpec | PostgresStoreSpec | JetStreamStoreSpec | TargetStoreSpec

/** How a store is named wherever it has to cross a thread boundary. */
export type StoreSpec = LeafStoreSpec | RoutedStoreSpec

/** What a `target` module exports as `createStore` or `default`. */
export type StoreFactory = (options: unknown) => EventStore | Promise<EventStore>

/** A spec after validation. */
export type ResolvedStoreSpec =
  | { readonly kind: 'memory' }
  | { readonly kind: 'sqlite'; readonly options: ResolvedSqliteOptions }
  | { readonly kind: 'postgres'; readonly options: ResolvedPostgresOptions }
  | { readonly kind: 'jetstream'; readonly options: ResolvedJetStreamOptions }
  | { readonly kind: 'target'; readonly target: string; readonly options: unknown }
  | { readonly kind: 'routed'; readonly options: ResolvedRoutedOptions }

const KINDS = ['memory', 'sqlite', 'postgres', 'jetstream', 'routed'] as const

/** Validates a spec without opening anything; throws StoreSpecError naming the first bad field. */
export function resolveStoreSpec(spec: unknown): ResolvedStoreSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new StoreSpecError('invalid_spec', 'spec', `a store spec must be an object, got ${describeValue(spec)}`)
  }
  const s = spec as Record<string, unknown>
  if (s.target !== undefined) {
    if (s.kind !== undefined) throw new StoreSpecError('invalid_spec', 'kind', "a store spec has either 'kind' or 'target', not both")
    for (const key of Object.keys(s)) {
      if (key !== 'target' && key !== 'options') throw new StoreSpecError('invalid_spec', key, `unknown field '${key}' in a target spec`)
    }
    if (typeof s.target !== 'string' || s.target.length === 0) {
      throw new StoreSpecError('invalid_spec', 'target', `'target' must be a non-empty string, got ${describeValue(s.target)}`)
    }
    return { kind: 'target', target: s.target, options: s.options }
  }
  switch (s.kind) {
    case 'memory':
      for (const key of Object.keys(s)) {
        if (key !== 'kind') throw new StoreSpecError('invalid_spec', key, `unknown field '${key}' in a memory spec`)
      }
      return { kind: 'memory' }
    case 'sqlite':
      return { kind: 'sqlite', options: resolveSqliteOptions(s) }
    case 'postgres':
      return { kind: 'postgres', options: resolvePostgresOptions(s) }
    case 'jetstream':
      return { kind: 'jetstream', options: resolveJetStreamOptions(s) }
    case 'routed':
      return { kind: 'routed', options: resolveRoutedOptions(s, resolveStoreSpec) }
    case undefined:
      throw new StoreSpecError('invalid_spec', 'kind', `a store spec needs 'kind' (${KINDS.join(', ')}) or 'target'`)
    default:
      throw new StoreSpecError('invalid_spec', 'kind', `'kind' must be one of ${KINDS.join(', ')}, got ${describeValue(s.kind)}`)
  }
}

function specifierOf(target: string): string {
  if (target.startsWith('file:')) return target
  if (isAbsolute(target)) return pathToFileURL(target).href
  if (target.startsWith('./') || target.startsWith('../')) return pathToFileURL(resolve(target)).href
  // A package name: the app's dependencies are found from its working directory, not from here.
  try {
    return pathToFileURL(createRequire(join(process.cwd(), 'noop.js')).resolve(target)).href
  } catch {
    return target // an ESM-only package require cannot resolve; let import() try from here
  }
}

async function loadFactory(target: string): Promise<StoreFactory> {
  let mod: Record<string, unknown>
  try {
    mod = (await import(specifierOf(target))) as Record<string, unknown>
  } catch (cause) {
    throw new StoreSpecError('target_unloadable', 'target', `cannot load store target ${describeValue(target)}: ${String(cause)}`, { cause })
  }
  const factory = typeof mod.createStore === 'function' ? mod.createStore : mod.default
  if (typeof factory !== 'function') {
    throw new StoreSpecError('not_a_store', 'target', `store target ${describeValue(target)} exports no 'createStore' or default function`)
  }
  return factory as StoreFactory
}

/**
 * Creates a store from a spec, inside whichever thread calls it. Throws StoreSpecError for a bad
 * spec or target and StoreOpenError when the store cannot be opened.
 */
export async function createStore(spec: StoreSpec): Promise<EventStore> {
  const resolved = resolveStoreSpec(spec)
  switch (resolved.kind) {
    case 'memory':
      return new MemoryStore()
    case 'sqlite':
      return SqliteStore.open(resolved.options)
    case 'postgres': {
      // Loaded on use: the pg driver is only needed by pipelines that write to PostgreSQL.
      const { PostgresStore } = await import('./postgres/postgres-store.js')
      return PostgresStore.open(resolved.options)
    }
    case 'jetstream': {
      // Loaded on use: the NATS client is only needed by pipelines that publish to JetStream.
      const { JetStreamStore } = await import('./jetstream/jetstream-store.js')
      return JetStreamStore.open(resolved.options)
    }
    case 'routed':
      return RoutedStore.open(resolved.options, createStore)
    case 'target': {
      const factory = await loadFactory(resolved.target)
      let store: unknown
      try {
        store = await factory(resolved.options)
      } catch (cause) {
        if (cause instanceof StoreError) throw cause
        // A user's module may carry its own copy of the error classes: keep its `transient` flag.
        const transient = (cause as { transient?: unknown } | null)?.transient === true
        throw new StoreOpenError('open_failed', resolved.target, `store target ${describeValue(resolved.target)} failed to create a store: ${String(cause)}`, { cause, transient })
      }
      if (!isEventStore(store)) {
        throw new StoreSpecError('not_a_store', 'target', `store target ${describeValue(resolved.target)} returned ${describeValue(store)}, which lacks the EventStore methods`)
      }
      return store
    }
  }
}
