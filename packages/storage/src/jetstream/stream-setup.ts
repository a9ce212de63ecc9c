// Opening side of the JetStream store: creates or updates the stream when asked, otherwise checks
// that an existing stream listens on the store's subjects, so a misconfigured stream fails at
// open and not on the first publish.

import { StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream'
import { StoreOpenError } from '../errors.js'
import type { ResolvedJetStreamOptions } from './options.js'

const NS_PER_MS = 1_000_000

// JetStream answers 404 with api error code 10059 when a stream does not exist.
const isStreamNotFound = (e: unknown): boolean =>
  e instanceof Error && (/stream not found/i.test(e.message) || (e as { code?: unknown }).code === '404')

/**
 * The stream limits of a `retention` option (JetStream's own names; `max_age` in ns). Only the
 * limits given: a stream's other limits are left as they are. The stream's discard policy
 * (`old`, JetStream's default) makes the server drop the oldest messages past them.
 */
export function streamLimitsOf(o: ResolvedJetStreamOptions): Pick<Partial<StreamConfig>, 'max_age' | 'max_msgs' | 'max_bytes'> {
  const r = o.retention
  if (r === undefined) return {}
  return {
    ...(r.maxAgeMs === undefined ? {} : { max_age: r.maxAgeMs * NS_PER_MS }),
    ...(r.maxEvents === undefined ? {} : { max_msgs: r.maxEvents }),
    ...(r.maxBytes === undefined ? {} : { max_bytes: r.maxBytes }),
  }
}

/** The stream settings the store asks for when `createStream` is set. */
export function streamConfigOf(o: ResolvedJetStreamOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: o.stream,
    subjects: [o.subjectFilter, o.deadLetterSubject],
    num_replicas: o.replicas,
    duplicate_window: o.duplicateWindowMs * NS_PER_MS,
    storage: o.storage === 'memory' ? StorageType.Memory : StorageType.File,
    ...streamLimitsOf(o),
  }
}

/** Creates or updates the stream (createStream), or checks that it exists and covers the subjects. */
export async function ensureStream(jsm: JetStreamManager, o: ResolvedJetStreamOptions): Promise<void> {
  const where = o.servers.join(',')
  let existing: StreamConfig | undefined
  try {
    existing = (await jsm.streams.info(o.stream)).config
  } catch (e) {
    if (!isStreamNotFound(e)) throw e
  }
  if (o.createStream) {
    const wanted = streamConfigOf(o)
    if (existing === undefined) {
      await jsm.streams.add(wanted)
      return
    }
    // Keep subjects the stream already had (other producers may use them); storage cannot change.
    const subjects = [...new Set([...(existing.subjects ?? []), o.subjectFilter, o.deadLetterSubject])]
    // Already as asked: no update. Every writer of every process opens the store, and an update of
    // a replicated stream needs its whole group, so a writer restarted while a node is down would
    // fail to open for nothing.
    const limits = streamLimitsOf(o)
    const same =
      subjects.length === (existing.subjects ?? []).length &&
      existing.num_replicas === wanted.num_replicas &&
      existing.duplicate_window === wanted.duplicate_window &&
      Object.entries(limits).every(([k, v]) => existing[k as keyof typeof limits] === v)
    if (same) return
    await jsm.streams.update(o.stream, {
      subjects,
      num_replicas: wanted.num_replicas ?? 1,
      duplicate_window: wanted.duplicate_window ?? 0,
      ...limits,
    })
    return
  }
  if (existing === undefined) {
    throw new StoreOpenError('open_failed', where, `jetstream stream '${o.stream}' does not exist; create it or set createStream: true`)
  }
  // Exact subjects only: a wildcard filter would need NATS's matcher, and the server refuses a
  // publish on an uncovered subject anyway (no responders), which surfaces as a transient error.
  const subjects = existing.subjects ?? []
  for (const s of [o.subjectFilter, o.deadLetterSubject]) {
    if (!subjects.includes(s) && !subjects.some((p) => p.includes('*') || p.includes('>'))) {
      throw new StoreOpenError('open_failed', where, `jetstream stream '${o.stream}' does not listen on subject '${s}' (it has ${subjects.join(', ')})`)
    }
  }
}
