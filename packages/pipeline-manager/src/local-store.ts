// The store as the manager's own thread sees it, beside the writers' connections: the probe that
// asks the store how its backend is (every `health.storeProbeMs`, one probe at a time), and the
// count at stop of what the store holds of the ring. SQLite is never opened here for the probe (a
// stat of its file answers) and only read-only for the count: never a file created, never a lock
// waited out in the application's thread.

import type { Logger } from 'pino'
import { RoutedStore, createStore, type EventStore, type RouteCount, type StoreFileWatch, type StoreHealth, type StoreSpec } from '@ringside/storage'
import type { RingBuffer } from '@ringside/core-ringbuffer'
import type { HealthStatus } from './health.js'
import { countHeld } from './pending-held.js'
import { countStoredOf, readOnlySpec, type StoreCount } from './store-checks.js'

/**
 * Most events of a ring whose keys the stop report looks up in a routed store's query route to
 * compute a filtered destination's `expected` (one getEvent each; 50,000 took about 3 s on a
 * loaded 2-core machine, see BENCHMARKS.md). Beyond it, `expected` of a filtered route is not told.
 */
export const DESTINATION_LOOKUPS_MAX = 250_000

export interface LocalStoreOptions {
  readonly spec: StoreSpec
  /** The store held in this thread and served to the writers (the memory store), if any. */
  readonly hosted: EventStore | undefined
  /** The SQLite file the writers opened, watched by device and inode. */
  readonly file: StoreFileWatch | undefined
  readonly logger: Logger
  /** The probe interval in force, ms (0: never ask). */
  readonly intervalMs: () => number
  /** Told once when the store says its condition is permanent (its file deleted or replaced). */
  readonly onLost: (reason: string) => void
}

export class LocalStore {
  readonly #o: LocalStoreOptions
  /** The store opened in this thread to answer the probe (and count at stop); null: it cannot tell. */
  #probeStore: EventStore | null | undefined
  #timer: NodeJS.Timeout | undefined
  #probing = false
  /** Set by end(): no probe is scheduled after it, and a store opened by a probe in flight is closed. */
  #ended = false
  #health: { status: HealthStatus; reason: string; at: number; permanent?: boolean } | undefined

  constructor(o: LocalStoreOptions) {
    this.#o = o
  }

  /** The last answer of the probe, with its time; undefined when the store cannot tell or probing is off. */
  get health(): { status: HealthStatus; reason: string; at: number; permanent?: boolean } | undefined {
    return this.#health
  }

  /**
   * Asks the store how its backend is (EventStore.health) after `delayMs`, then every interval. A
   * store that cannot tell is closed and never asked again; one that cannot be opened is an
   * unhealthy answer, and opening is retried.
   */
  schedule(delayMs: number): void {
    const every = this.#o.intervalMs()
    if (every === 0 || this.#probeStore === null || this.#ended) {
      if (every === 0) this.#health = undefined
      return
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#probing = true
      void this.#probeOnce().finally(() => {
        this.#probing = false
        this.schedule(this.#o.intervalMs())
      })
    }, delayMs)
    this.#timer.unref()
  }

  /** A new interval takes effect now (a probe in flight reschedules itself with it). */
  intervalChanged(): void {
    if (this.#probing) return
    if (this.#timer) clearTimeout(this.#timer)
    this.schedule(0)
  }

  /** No more probes. */
  end(): void {
    this.#ended = true
    if (this.#timer) clearTimeout(this.#timer)
  }

  async #probeOnce(): Promise<void> {
    const o = this.#o
    // SQLite is asked by one stat of its path, compared with the file the writers opened: never a
    // connection in the application's thread, where better-sqlite3's open is synchronous and may
    // wait out a lock a writer holds.
    if (o.file) return this.#note(o.file.health())
    if (this.#probeStore === undefined && (o.spec as { kind?: unknown }).kind === 'sqlite') {
      this.#probeStore = null
      return
    }
    if (this.#probeStore === undefined) {
      let opened: EventStore
      try {
        // A routed store's SQLite destinations read-only: this thread never writes the files.
        opened = o.hosted ?? (await createStore(readOnlySpec(o.spec)))
      } catch (err) {
        this.#health = { status: 'unhealthy', reason: `the store cannot be opened: ${err instanceof Error ? err.message : String(err)}`, at: Date.now() }
        return
      }
      if (this.#ended || !opened.health) {
        if (opened !== o.hosted) await opened.close().catch(() => undefined)
        if (!this.#ended) this.#probeStore = null
        return
      }
      this.#probeStore = opened
    }
    const store = this.#probeStore
    if (store === null || !store.health) return
    const answer = await store.health().catch((err: unknown) => ({ status: 'unhealthy' as const, reason: `the store's health probe failed: ${String(err)}` }))
    this.#note(answer)
  }

  #note(answer: StoreHealth): void {
    const was = this.#health
    this.#health = { ...answer, at: Date.now() }
    if (was !== undefined && was.status !== answer.status) this.#o.logger.warn({ store: answer }, 'store health changed')
    // A store that will not come back by itself (its file deleted or replaced) is an error, once.
    if (answer.permanent === true && answer.status === 'unhealthy' && was?.permanent !== true) {
      this.#o.logger.error({ store: answer }, 'store lost')
      this.#o.onLost(answer.reason)
    }
  }

  /**
   * What the store itself holds of this ring (events, dead letters), when it can say (countByRing):
   * the hosted memory store, SQLite opened read-only (never creating a file, and only if the file
   * is still the one the writers opened), or the store opened once more in this thread. A count
   * that fails is reported as such (`{ error }`), never replaced by the writers' figures.
   */
  async count(ringId: string): Promise<StoreCount | undefined> {
    const probe = this.#probeStore?.countByRing ? this.#probeStore : undefined
    const counted = await countStoredOf(ringId, { spec: this.#o.spec, hosted: this.#o.hosted, probe, file: this.#o.file })
    if (counted !== undefined && 'error' in counted) this.#o.logger.error({ reason: counted.error }, 'could not count stored events in the store')
    return counted
  }

  /**
   * Of the events the ring still holds once every writer has exited, how many the store already
   * has (a batch stored and not committed); undefined when the store cannot be asked.
   */
  async pendingHeld(ring: RingBuffer, deadLetters: number): Promise<number | undefined> {
    const seqs = ring.exportPending().map((p) => p.seq)
    if (seqs.length === 0) return 0
    let opened: EventStore | undefined
    try {
      // SQLite read-only: the count at stop never creates nor writes a file.
      const store = this.#o.hosted ?? this.#probeStore ?? (opened = await createStore(readOnlySpec(this.#o.spec)))
      return await countHeld(store, ring.id, seqs, deadLetters)
    } catch (err) {
      this.#o.logger.warn({ err }, "could not look up the ring's leftover events in the store; the report uses the writers' counts")
      return undefined
    } finally {
      await opened?.close().catch(() => undefined)
    }
  }

  /**
   * For a routed store, what each destination holds of this ring and what the routing sends there
   * (RoutedStore.countByRingPerRoute over keys below `seqEnd`); undefined for any other store. A
   * count that fails is reported as such.
   */
  async countPerRoute(ringId: string, seqEnd: number): Promise<readonly RouteCount[] | { error: string } | undefined> {
    if ((this.#o.spec as { kind?: unknown }).kind !== 'routed') return undefined
    let opened: EventStore | undefined
    try {
      const store = this.#probeStore instanceof RoutedStore ? this.#probeStore : (opened = await createStore(readOnlySpec(this.#o.spec)))
      // Past the cap a filtered route's `expected` is not computed (undefined): the look-ups run in
      // this thread at stop, and their cost grows with the ring's writes.
      return await (store as RoutedStore).countByRingPerRoute(ringId, seqEnd <= DESTINATION_LOOKUPS_MAX ? seqEnd : undefined)
    } catch (err) {
      this.#o.logger.error({ err }, "could not count the routed store's destinations")
      return { error: `the destinations could not be counted: ${err instanceof Error ? err.message : String(err)}` }
    } finally {
      await opened?.close().catch(() => undefined)
    }
  }

  /** Closes the store opened for the probe (never the hosted one). */
  async close(): Promise<void> {
    const probe = this.#probeStore
    this.#probeStore = null
    if (probe && probe !== this.#o.hosted) await probe.close().catch(() => undefined)
  }
}
