// The JetStream store: each event is published to a stream with its key as the message id, so
// the stream's duplicate window drops a re-published event; a batch resolves only after every
// publish in it is acknowledged. Queries are not offered: consumers read the stream.

import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { jetstream, jetstreamManager, type ClusterInfo, type JetStreamClient, type PeerInfo, type JetStreamManager, type PubAck } from '@nats-io/jetstream'
import { StoreError, StoreFilterError, StoreOpenError, describeValue } from '../errors.js'
import { checkBatch, type EventRecord } from '../event-record.js'
import { checkDeadLetters, deadLetterOf, type CheckedDeadLetter } from '../dead-letter.js'
import type { DeadLetter, DeadLetterInput, EventStore, ListDeadLettersOptions, StoreHealth, StoreResult, StoreStats } from '../event-store.js'
import { JetStreamUnsupportedError, jetStreamFailure } from './jetstream-errors.js'
import { resolveJetStreamOptions, type JetStreamStoreOptions, type ResolvedJetStreamOptions } from './options.js'
import { ensureStream } from './stream-setup.js'
import { parseSubject, subjectFor, type SubjectTemplate } from './subject.js'

// A follower not heard from, or behind the leader, for this long counts as down (raft heartbeats
// come every second or so, and a live follower catches up within a moment).
const PEER_SILENT_S = 3

/** `stats()` of the JetStream store: the contract's fields plus the stream's own counters. */
export interface JetStreamStats extends StoreStats {
  /** Sequence of the first and last message in the stream (0 when it is empty). */
  readonly firstSeq: number
  readonly lastSeq: number
  /** Messages in the whole stream (events, dead letters and any other subject it holds). */
  readonly streamMessages: number
}

/** The EventStore contract over a NATS JetStream stream (writes and dead letters only). */
export class JetStreamStore implements EventStore {
  /** The options in force. */
  readonly options: ResolvedJetStreamOptions
  readonly #nc: NatsConnection
  readonly #js: JetStreamClient
  readonly #jsm: JetStreamManager
  /** The subject's tokens; undefined when it is a literal (every event on `options.subject`). */
  readonly #template: SubjectTemplate | undefined
  #closed = false
  /** When each follower was first seen not current, for health(); cleared once it is current. */
  readonly #behindSince = new Map<string, number>()

  private constructor(options: ResolvedJetStreamOptions, nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager) {
    this.options = options
    this.#nc = nc
    this.#js = js
    this.#jsm = jsm
    const t = parseSubject(options.subject)!
    this.#template = t.some((x) => typeof x !== 'string') ? t : undefined
  }

  /**
   * Connects, then creates/updates the stream (`createStream`) or checks it. A server that cannot
   * be reached fails with a transient StoreOpenError `open_failed`; a missing stream with a
   * permanent one; a bad option with StoreSpecError.
   */
  static async open(options: JetStreamStoreOptions): Promise<JetStreamStore> {
    const o = resolveJetStreamOptions(options as unknown as Record<string, unknown>)
    const where = o.servers.join(',')
    let nc: NatsConnection
    try {
      // Reconnect forever: a store outlives a server restart, and each call has its own limit
      // (ackTimeoutMs) so a long outage shows up as transient errors, not a hang. noAsyncTraces:
      // otherwise the client builds two errors with stack traces for every publish, in case it
      // times out; that was a third of the client's CPU per event.
      nc = await connect({ servers: [...o.servers], timeout: o.connectTimeoutMs, name: o.name, maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true })
    } catch (cause) {
      throw new StoreOpenError('open_failed', where, `cannot connect to nats servers ${where}: ${String(cause)}`, { cause, transient: true })
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: o.connectTimeoutMs })
      await ensureStream(jsm, o)
      return new JetStreamStore(o, nc, jetstream(nc, { timeout: o.ackTimeoutMs }), jsm)
    } catch (cause) {
      await nc.close().catch(() => undefined)
      if (cause instanceof StoreError) throw cause
      throw new StoreOpenError('open_failed', where, `cannot set up jetstream stream '${o.stream}': ${String(cause)}`, { cause, transient: true })
    }
  }

  #open(): void {
    if (this.#closed) throw new StoreError('store_closed', 'the jetstream store is closed')
  }

  // Publishes every message at once and waits for all acks: the client pipelines them on one
  // connection, so a batch costs about one round trip, not one per event. allSettled, not all:
  // the call must not return (and a writer must not retry) while acks of this batch are pending.
  // The message id is the event key across every subject of the stream, so a re-publish is
  // dropped whichever partition it goes to.
  async #publishAll(items: readonly { subject: string; id: string; body: string }[], what: string): Promise<StoreResult> {
    const settled = await Promise.allSettled(
      items.map((m) => this.#js.publish(m.subject, m.body, { msgID: m.id, timeout: this.options.ackTimeoutMs })),
    )
    let inserted = 0
    let duplicates = 0
    for (const s of settled) {
      if (s.status === 'rejected') {
        const failed = settled.filter((x) => x.status === 'rejected').length
        throw jetStreamFailure(`${what} (${failed} of ${items.length} publishes not acknowledged)`, s.reason)
      }
      if ((s.value as PubAck).duplicate) duplicates++
      else inserted++
    }
    return { inserted, duplicates }
  }

  async storeEvents(batch: readonly EventRecord[]): Promise<StoreResult> {
    this.#open()
    checkBatch(batch)
    // The body is the whole record, so a consumer needs nothing but the message.
    const t = this.#template
    const items = batch.map((r) => ({ subject: t ? subjectFor(t, r.event) : this.options.subject, id: r.key, body: JSON.stringify(r) }))
    if (items.length === 0) return { inserted: 0, duplicates: 0 }
    return this.#publishAll(items, 'publish of events')
  }

  async storeDeadLetters(items: readonly DeadLetterInput[]): Promise<StoreResult> {
    this.#open()
    const checked = checkDeadLetters(items)
    if (checked.length === 0) return { inserted: 0, duplicates: 0 }
    // The checked form keeps the leniently serialized body, so a dead letter of an event that is
    // not valid JSON still round-trips.
    const msgs = checked.map((d) => ({ subject: this.options.deadLetterSubject, id: `dead:${d.key}`, body: JSON.stringify(d) }))
    return this.#publishAll(msgs, 'publish of dead letters')
  }

  /** Dead letters oldest first, read with an ordered consumer filtered on `deadLetterSubject`. */
  async listDeadLetters(options: ListDeadLettersOptions = {}): Promise<DeadLetter[]> {
    this.#open()
    const limit = options.limit
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)) {
      throw new StoreFilterError('limit', `'limit' must be an integer from 0, got ${describeValue(limit)}`)
    }
    try {
      const held = (await this.#subjectCounts())[this.options.deadLetterSubject] ?? 0
      const want = Math.min(held, limit ?? held)
      const out: DeadLetter[] = []
      if (want === 0) return out
      // One subject as a string (filter_subject): a list needs server 2.10, Debian ships 2.9.
      const consumer = await this.#js.consumers.get(this.options.stream, { filter_subjects: this.options.deadLetterSubject })
      // The count came from the stream just now, so the fetch ends on it, not on its expiry.
      const msgs = await consumer.fetch({ max_messages: want, expires: this.options.connectTimeoutMs })
      for await (const m of msgs) {
        out.push(deadLetterOf(m.json<CheckedDeadLetter>(), m.info.timestampNanos / 1e6))
        if (out.length >= want) break
      }
      await consumer.delete().catch(() => undefined)
      return out
    } catch (cause) {
      throw jetStreamFailure('read of dead letters', cause)
    }
  }

  async #subjectCounts(): Promise<Record<string, number>> {
    const info = await this.#jsm.streams.info(this.options.stream, { subjects_filter: this.options.subjectFilter })
    const dead = await this.#jsm.streams.info(this.options.stream, { subjects_filter: this.options.deadLetterSubject })
    return { ...(info.state.subjects ?? {}), ...(dead.state.subjects ?? {}) }
  }

  /**
   * Counts from the stream. `oldestCapturedAt`/`newestCapturedAt` are never given: a stream is
   * ordered by arrival, and finding the extreme capture times would mean reading every message.
   */
  async stats(): Promise<JetStreamStats> {
    this.#open()
    try {
      // A partitioned subject: the filter lists every partition with its count; events are their sum.
      const info = await this.#jsm.streams.info(this.options.stream, { subjects_filter: this.options.subjectFilter })
      const dead = await this.#jsm.streams.info(this.options.stream, { subjects_filter: this.options.deadLetterSubject })
      return {
        totalEvents: Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0),
        sizeBytes: info.state.bytes,
        deadLetters: dead.state.subjects?.[this.options.deadLetterSubject] ?? 0,
        firstSeq: info.state.first_seq,
        lastSeq: info.state.last_seq,
        streamMessages: info.state.messages,
      }
    } catch (cause) {
      throw jetStreamFailure('stream info', cause)
    }
  }

  /**
   * Asks the stream for its info: `unhealthy` when it cannot be reached or has no leader (publishes
   * would not be acknowledged), `degraded` when a replica is offline or not current (writes go on,
   * with less redundancy), `healthy` otherwise.
   */
  async health(): Promise<StoreHealth> {
    const stream = this.options.stream
    if (this.#closed || this.#nc.isClosed()) return { status: 'unhealthy', reason: 'the jetstream connection is closed' }
    let cluster: ClusterInfo | undefined
    let replicas: number
    try {
      const info = await this.#jsm.streams.info(stream)
      cluster = info.cluster
      replicas = info.config.num_replicas
    } catch (cause) {
      const detail = cause instanceof Error ? cause.message : String(cause)
      return { status: 'unhealthy', reason: `jetstream stream '${stream}' does not answer (via ${this.#nc.getServer()}): ${detail}` }
    }
    if (replicas <= 1 || cluster === undefined) return { status: 'healthy', reason: `jetstream stream '${stream}' answers (${replicas} replica)` }
    if (!cluster.leader) return { status: 'unhealthy', reason: `jetstream stream '${stream}' has no leader (${replicas} replicas)` }
    const followers = cluster.replicas ?? []
    // A follower that stopped answering stays listed, `current` until the leader has something to
    // send it; `active` (ns since last seen) tells an idle stream's dead peer. Under load a live
    // follower is briefly not current now and then: only one behind since PEER_SILENT_S counts.
    const now = Date.now()
    const silentS = (p: PeerInfo): number => p.active / 1e9
    for (const p of followers) {
      if (p.current) this.#behindSince.delete(p.name)
      else if (!this.#behindSince.has(p.name)) this.#behindSince.set(p.name, now)
    }
    const behindS = (p: PeerInfo): number => (now - (this.#behindSince.get(p.name) ?? now)) / 1000
    const lagging = followers.filter((p) => p.offline || silentS(p) > PEER_SILENT_S || behindS(p) >= PEER_SILENT_S)
    const unlisted = Math.max(0, replicas - 1 - followers.length)
    const current = replicas - lagging.length - unlisted
    if (current < replicas) {
      const what = lagging.map((p) =>
        p.offline
          ? `${p.name} offline`
          : silentS(p) > PEER_SILENT_S
            ? `${p.name} not seen for ${silentS(p).toFixed(0)} s`
            : `${p.name} behind by ${p.lag ?? 0} operations for ${behindS(p).toFixed(0)} s`,
      )
      if (unlisted > 0) what.push(`${unlisted} not listed`)
      return { status: 'degraded', reason: `jetstream stream '${stream}': ${current} of ${replicas} replicas current, leader ${cluster.leader} (${what.join(', ')})` }
    }
    return { status: 'healthy', reason: `jetstream stream '${stream}': ${replicas} of ${replicas} replicas current, leader ${cluster.leader}` }
  }

  async getEvent(_key: string): Promise<EventRecord | undefined> {
    this.#open()
    throw new JetStreamUnsupportedError('getEvent')
  }

  async query(_filter?: unknown): Promise<EventRecord[]> {
    this.#open()
    throw new JetStreamUnsupportedError('query')
  }

  async deleteOlderThan(_time: number): Promise<number> {
    this.#open()
    throw new JetStreamUnsupportedError('deleteOlderThan')
  }

  /** Drains pending publishes and closes the connection; the stream and its messages stay. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#nc.drain().catch(() => this.#nc.close())
  }
}
