// The store as the manager's thread sees it. At start, a SQLite file is opened once, as a writer
// would open it, so a file that is not a Ringside store or cannot be written is refused with its
// typed error before any writer starts. At stop, what the store holds of the ring is counted,
// without ever creating a database, and a count that fails says so.

import { createStore, StoreFileWatch, StoreOpenError, type EventStore, type RoutedStoreSpec, type SqliteStoreSpec, type StoreSpec } from '@ringside/storage'
import { PipelineConfigError } from './errors.js'

/** What the store holds of a ring, or why it could not be counted. */
export type StoreCount = { readonly events: number; readonly deadLetters: number } | { readonly error: string }

// Long enough for a writer's commit, short enough not to stall the application's thread on a lock
// another process holds; the writers then wait that lock out themselves.
const START_BUSY_TIMEOUT_MS = 1_000

/**
 * Opens a SQLite store once and closes it (creating, migrating and marking a new file as a writer
 * would); rethrows its StoreOpenError (`not_a_ringside_store`, `not_a_database`, `store_read_only`,
 * `schema_too_new`, `open_failed`) but not `busy`. Returns the watch of the file the writers will
 * open; undefined for other stores and `:memory:`.
 */
export async function checkStoreAtStart(spec: StoreSpec): Promise<StoreFileWatch | undefined> {
  if ((spec as { kind?: unknown }).kind === 'routed') {
    await checkRoutesAtStart(spec as RoutedStoreSpec)
    return undefined
  }
  if ((spec as { kind?: unknown }).kind !== 'sqlite') return undefined
  const sqlite = spec as SqliteStoreSpec
  try {
    const store = await createStore({ ...sqlite, busyTimeoutMs: Math.min(sqlite.busyTimeoutMs ?? START_BUSY_TIMEOUT_MS, START_BUSY_TIMEOUT_MS) })
    await store.close()
  } catch (err) {
    if (!(err instanceof StoreOpenError && err.code === 'busy')) throw err
  }
  return StoreFileWatch.capture(sqlite.path)
}

/**
 * A routed store's destinations, checked as each would be on its own. A memory destination is
 * refused: the pipeline hosts only a top-level memory store, so each writer would get its own.
 */
async function checkRoutesAtStart(spec: RoutedStoreSpec): Promise<void> {
  for (const [i, route] of (spec.routes ?? []).entries()) {
    if ((route?.store as { kind?: unknown } | undefined)?.kind === 'memory') {
      throw new PipelineConfigError('invalid_option', `store.routes[${i}].store.kind`, `option 'store': routes[${i}].store: a memory store cannot be a destination of a pipeline's routed store (each writer thread would hold its own); use a SQLite file`)
    }
    await checkStoreAtStart(route.store)
  }
}

/**
 * The spec with SQLite opened read-only: the store itself, a routed store's destinations, and a
 * destination's wrapper's `inner` store (as the fault-injection store names it).
 */
export function readOnlySpec(spec: StoreSpec, inRoute = false): StoreSpec {
  const kind = (spec as { kind?: unknown }).kind
  if (kind === 'sqlite') return { ...(spec as SqliteStoreSpec), readOnly: true }
  const options = (spec as { target?: unknown; options?: { inner?: unknown } }).options
  if (inRoute && (spec as { target?: unknown }).target !== undefined && options !== null && typeof options === 'object' && options.inner !== undefined) {
    return { ...spec, options: { ...options, inner: readOnlySpec(options.inner as StoreSpec) } } as StoreSpec
  }
  if (kind === 'routed') {
    const r = spec as RoutedStoreSpec
    return { ...r, routes: r.routes.map((x) => ({ ...x, store: readOnlySpec(x.store, true) as typeof x.store })) }
  }
  return spec
}

/**
 * Counts a ring's events and dead letters in the store: the hosted (memory) store; SQLite opened
 * read-only, and only while its file is the one the writers opened (`file`); the probe's store;
 * or the store opened once more. Undefined when the store cannot count (no countByRing).
 */
export async function countStoredOf(
  ringId: string,
  o: { spec: StoreSpec; hosted: EventStore | undefined; probe: EventStore | undefined; file: StoreFileWatch | undefined },
): Promise<StoreCount | undefined> {
  try {
    if (o.hosted) return o.hosted.countByRing ? await o.hosted.countByRing(ringId) : undefined
    if ((o.spec as { kind?: unknown }).kind === 'sqlite') {
      const problem = o.file?.problem()
      if (problem !== undefined) return { error: `${problem}; what the writers stored there cannot be counted` }
      const store = await createStore({ ...(o.spec as SqliteStoreSpec), readOnly: true })
      try {
        return await (store.countByRing as NonNullable<EventStore['countByRing']>).call(store, ringId)
      } finally {
        await store.close()
      }
    }
    if (o.probe?.countByRing) return await o.probe.countByRing(ringId)
    const store = await createStore(readOnlySpec(o.spec))
    try {
      return await store.countByRing?.(ringId)
    } finally {
      await store.close()
    }
  } catch (err) {
    return { error: `the store could not count this ring's events: ${err instanceof Error ? err.message : String(err)}` }
  }
}
