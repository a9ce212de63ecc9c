// The routed store: one EventStore over several destination stores. storeEvents splits a batch by
// route (an event may match several) and writes each part to its destination in turn, the query
// route last; it succeeds only when every destination took its part. Reads go to the query route.

import { RoutedStoreError, StoreRecordError, StoreError } from '../errors.js'
import { checkRecord, type EventRecord } from '../event-record.js'
import type { DeadLetter, DeadLetterInput, EventStore, ListDeadLettersOptions, StoreHealth, StoreResult, StoreStats } from '../event-store.js'
import type { QueryFilter } from '../query-filter.js'
import type { ResolvedRoute, ResolvedRoutedOptions } from './options.js'
import type { LeafStoreSpec } from '../create-store.js'

/** What one destination holds of a ring, and what it should hold (see countByRingPerRoute). */
export interface RouteCount {
  readonly name: string
  /** Events of the ring the destination holds; undefined when it cannot count (no countByRing). */
  readonly held: number | undefined
  /**
   * Events of the ring the routing sends there, among those the query route holds; undefined when
   * it cannot be told (the query route cannot count or look events up).
   */
  readonly expected: number | undefined
}

interface OpenRoute {
  readonly route: ResolvedRoute
  readonly store: EventStore
}

/** Lookups in flight at once when the expected counts are computed. */
const PARALLEL = 64

export class RoutedStore implements EventStore {
  readonly #routes: readonly OpenRoute[]
  readonly #query: OpenRoute
  /** `#routes` with the query route moved to the end: the order storeEvents writes in. */
  readonly #writeOrder: readonly OpenRoute[]
  /** Defined when the query route's store can count (the pipeline's exact accounting reads it). */
  readonly countByRing?: (ringId: string) => Promise<{ readonly events: number; readonly deadLetters: number }>
  /** Defined when some destination can tell how its backend is. */
  readonly health?: () => Promise<StoreHealth>

  private constructor(routes: readonly OpenRoute[], queryRoute: string) {
    this.#routes = routes
    this.#query = routes.find((r) => r.route.name === queryRoute)!
    this.#writeOrder = [...routes.filter((r) => r !== this.#query), this.#query]
    const q = this.#query.store
    if (q.countByRing) this.countByRing = (ringId) => this.#call(this.#query, () => q.countByRing!(ringId))
    if (routes.some((r) => r.store.health)) this.health = () => this.#health()
  }

  /**
   * Opens every destination (in route order) with `open`; if one fails, those already open are
   * closed and its error is rethrown with the route's name.
   */
  static async open(options: ResolvedRoutedOptions, open: (spec: LeafStoreSpec) => Promise<EventStore>): Promise<RoutedStore> {
    const opened: OpenRoute[] = []
    for (const route of options.routes) {
      try {
        opened.push({ route, store: await open(route.store) })
      } catch (err) {
        await Promise.all(opened.map((o) => o.store.close().catch(() => undefined)))
        throw new RoutedStoreError(route.name, err)
      }
    }
    return new RoutedStore(opened, options.queryRoute)
  }

  /** The route names, in spec order, and which one answers reads. */
  get routeNames(): { readonly names: readonly string[]; readonly queryRoute: string } {
    return { names: this.#routes.map((r) => r.route.name), queryRoute: this.#query.route.name }
  }

  /** The names of the routes an event matches, in spec order (every event matches a catch-all). */
  routesOf(event: Record<string, unknown>): string[] {
    return this.#routes.filter((r) => r.route.matches(event)).map((r) => r.route.name)
  }

  /**
   * Writes each route's part of the batch to its destination, one destination after the other,
   * the query route last; resolves with the query route's result (it takes every event, so its
   * inserted/duplicates describe the batch once). A destination that fails stops the call with its
   * error (RoutedStoreError naming the route; a record error keeps its class with the index
   * mapped back to this batch). Retrying the whole batch is safe: the destinations that took
   * their part already count it as duplicates.
   */
  async storeEvents(batch: readonly EventRecord[]): Promise<StoreResult> {
    const parts = new Map<OpenRoute, { records: EventRecord[]; at: number[] }>()
    for (const r of this.#writeOrder) parts.set(r, { records: [], at: [] })
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!
      // Matching reads the body: a record without one is refused as every store would refuse it.
      if (record === null || typeof record !== 'object' || record.event === null || typeof record.event !== 'object' || Array.isArray(record.event)) {
        checkRecord(record, i)
      }
      for (const r of this.#writeOrder) {
        if (!r.route.matches(record.event)) continue
        const part = parts.get(r)!
        part.records.push(record)
        part.at.push(i)
      }
    }
    let result: StoreResult = { inserted: 0, duplicates: 0 }
    for (const r of this.#writeOrder) {
      const part = parts.get(r)!
      if (part.records.length === 0) continue
      try {
        result = await r.store.storeEvents(part.records)
      } catch (err) {
        if (err instanceof StoreRecordError) {
          const index = part.at[err.index] ?? err.index
          throw new StoreRecordError(index, err.field, `route '${r.route.name}': ${err.message}`, { cause: err })
        }
        throw new RoutedStoreError(r.route.name, err)
      }
    }
    return result
  }

  getEvent(key: string): Promise<EventRecord | undefined> {
    return this.#call(this.#query, () => this.#query.store.getEvent(key))
  }

  query(filter?: QueryFilter): Promise<EventRecord[]> {
    return this.#call(this.#query, () => this.#query.store.query(filter))
  }

  stats(): Promise<StoreStats> {
    return this.#call(this.#query, () => this.#query.store.stats())
  }

  /**
   * Retention applies to every destination, in turn; resolves with what the query route removed
   * (the events that left what reads see). The first destination that fails stops the call.
   */
  async deleteOlderThan(time: number): Promise<number> {
    let removed = 0
    for (const r of this.#writeOrder) {
      const n = await this.#call(r, () => r.store.deleteOlderThan(time))
      if (r === this.#query) removed = n
    }
    return removed
  }

  /** Dead letters are kept by the query route only: they are the pipeline's, not a destination's. */
  storeDeadLetters(items: readonly DeadLetterInput[]): Promise<StoreResult> {
    return this.#call(this.#query, () => this.#query.store.storeDeadLetters(items))
  }

  listDeadLetters(options?: ListDeadLettersOptions): Promise<DeadLetter[]> {
    return this.#call(this.#query, () => this.#query.store.listDeadLetters(options))
  }

  /**
   * Per destination, how many events of `ringId` it holds (its countByRing) and how many the
   * routing sends there. `expected` is taken from the query route, which holds every stored event
   * and is written last: a catch-all expects what the query route counts; a filtered route expects
   * the events among keys `${ringId}:0` .. `${ringId}:${seqEnd - 1}` that the query route holds
   * and the route matches (one getEvent per key, so the cost grows with the ring's writes, not with
   * the store's size). Without `seqEnd`, filtered routes' `expected` is undefined.
   */
  async countByRingPerRoute(ringId: string, seqEnd?: number): Promise<RouteCount[]> {
    const inQuery = this.countByRing ? (await this.countByRing(ringId)).events : undefined
    const filtered = this.#routes.filter((r) => r.route.when !== undefined)
    const expected = new Map<OpenRoute, number>(filtered.map((r) => [r, 0]))
    let scanned = seqEnd !== undefined && filtered.length > 0
    if (scanned) {
      try {
        for (let s = 0; s < seqEnd!; s += PARALLEL) {
          const keys: string[] = []
          for (let q = s; q < Math.min(seqEnd!, s + PARALLEL); q++) keys.push(`${ringId}:${q}`)
          const found = await Promise.all(keys.map((k) => this.#query.store.getEvent(k)))
          for (const rec of found) {
            if (rec === undefined) continue
            for (const r of filtered) if (r.route.matches(rec.event)) expected.set(r, expected.get(r)! + 1)
          }
        }
      } catch {
        scanned = false // a query route that cannot look events up (JetStream): not told
      }
    }
    const counts: RouteCount[] = []
    for (const r of this.#routes) {
      const held = r.store.countByRing ? (await this.#call(r, () => r.store.countByRing!(ringId))).events : undefined
      const exp = r.route.when === undefined ? inQuery : scanned ? expected.get(r) : undefined
      counts.push({ name: r.route.name, held, expected: exp })
    }
    return counts
  }

  /** Closes every destination, even when one fails to close; the first failure is rethrown. */
  async close(): Promise<void> {
    const results = await Promise.allSettled(this.#routes.map((r) => r.store.close()))
    const i = results.findIndex((x) => x.status === 'rejected')
    if (i !== -1) throw new RoutedStoreError(this.#routes[i]!.route.name, (results[i] as PromiseRejectedResult).reason)
  }

  /** The worst answer of the destinations that can tell, naming its route. */
  async #health(): Promise<StoreHealth> {
    const rank = { healthy: 0, degraded: 1, unhealthy: 2 } as const
    let worst: StoreHealth = { status: 'healthy', reason: 'every destination answers' }
    let worstRank = -1
    for (const r of this.#routes) {
      if (!r.store.health) continue
      const h = await r.store.health().catch((err: unknown): StoreHealth => ({ status: 'unhealthy', reason: String(err) }))
      const k = rank[h.status] + (h.permanent === true ? 0.5 : 0)
      if (k > worstRank && h.status !== 'healthy') {
        worstRank = k
        worst = { ...h, reason: `route '${r.route.name}': ${h.reason}` }
      }
    }
    return worst
  }

  /** Runs a call on one destination, naming the route in its error. */
  async #call<T>(r: OpenRoute, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      // A bad filter or record is the caller's, not the destination's: it passes through unchanged.
      if (err instanceof StoreError && (err.code === 'invalid_filter' || err.code === 'invalid_record' || err.code === 'store_closed')) throw err
      throw new RoutedStoreError(r.route.name, err)
    }
  }
}
