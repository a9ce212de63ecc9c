// JetStream store options: an all-optional type (bar servers, stream and subject), frozen
// defaults, and one resolve step that checks a field at a time and throws StoreSpecError naming
// it, the same shape as the SQLite options.

import { StoreSpecError, describeValue } from '../errors.js'
import { resolveRetention, type ResolvedRetention, type RetentionPolicy } from '../retention.js'
import { fallbackSubjectOf, filterMatches, parseSubject, subjectFilterOf } from './subject.js'

/** Where the stream keeps its messages (JetStream's `storage`). */
export type JetStreamStorage = 'file' | 'memory'

/** Options of the JetStream store, as given in a `{ kind: 'jetstream', ... }` spec. */
export interface JetStreamStoreOptions {
  /** NATS server URLs (`nats://host:port` or `host:port`); one string or a non-empty list. */
  readonly servers: string | readonly string[]
  /** Name of the JetStream stream the events go to (no spaces, `.`, `*`, `>`, `/` or `\`). */
  readonly stream: string
  /**
   * Subject every event is published on: a literal (`events`), or a template whose whole tokens
   * may be `{field}` placeholders filled from the event's top-level field (`events.{tenant}`); a
   * value becomes a token with characters outside `A-Z a-z 0-9 _ -` replaced by `_`, and a
   * missing or empty one goes to `_`. No wildcards.
   */
  readonly subject: string
  /**
   * Literal subject of dead letters, in the same stream; it must not be one the event subject
   * takes. Defaults to `${subject}.dead`, with each placeholder written `_` (`events._.dead`).
   */
  readonly deadLetterSubject?: string
  /**
   * Create the stream, or update it to the settings below, when the store opens. When false the
   * stream must already exist and listen on `subject` and `deadLetterSubject`. Defaults to false.
   */
  readonly createStream?: boolean
  /** Copies of each message in a cluster (`num_replicas`); 1 to 5. Only with `createStream`. Defaults to 1. */
  readonly replicas?: number
  /**
   * How long the stream remembers a message id to drop a re-publish of it, in ms
   * (`duplicate_window`); an integer from 1000 to 7 days. Only with `createStream`. Defaults to
   * 120000 (JetStream's own default of two minutes).
   */
  readonly duplicateWindowMs?: number
  /** `'file'` or `'memory'`. Only with `createStream`. Defaults to `'file'`. */
  readonly storage?: JetStreamStorage
  /** How long one publish waits for its ack, in ms; an integer from 1 to 2^31-1. Defaults to 5000. */
  readonly ackTimeoutMs?: number
  /** How long opening waits for a server and for stream calls, in ms; an integer from 1 to 2^31-1. Defaults to 5000. */
  readonly connectTimeoutMs?: number
  /** Connection name shown by the server's monitoring. Defaults to `'ringside'`. */
  readonly name?: string
  /**
   * Limits set on the stream itself when it is created or updated: `maxAgeMs` becomes `max_age`,
   * `maxEvents` `max_msgs`, `maxBytes` `max_bytes`; the server discards the oldest messages past
   * them. Dead letters share the stream, so they count toward `maxEvents` and `maxBytes`, and
   * `maxDeadLetters` is refused. Only with `createStream`. Defaults to none (the stream's own limits stay).
   */
  readonly retention?: RetentionPolicy
}

/** Options after defaults and validation. */
export interface ResolvedJetStreamOptions {
  readonly servers: readonly string[]
  readonly stream: string
  readonly subject: string
  /** What the stream listens on for events: `subject` with each placeholder as `*`. */
  readonly subjectFilter: string
  readonly deadLetterSubject: string
  readonly createStream: boolean
  readonly replicas: number
  readonly duplicateWindowMs: number
  readonly storage: JetStreamStorage
  readonly ackTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly name: string
  readonly retention?: ResolvedRetention
}

/** Defaults of every optional JetStream option (`deadLetterSubject` is derived from `subject`). */
export const JETSTREAM_DEFAULTS = Object.freeze({
  createStream: false,
  replicas: 1,
  duplicateWindowMs: 120_000,
  storage: 'file' as JetStreamStorage,
  ackTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  name: 'ringside',
})

const KNOWN = new Set(['kind', 'servers', 'stream', 'subject', 'deadLetterSubject', 'retention', ...Object.keys(JETSTREAM_DEFAULTS)])
const INT31 = 2 ** 31 - 1
const WEEK_MS = 7 * 86_400_000

const bad = (field: string, message: string): StoreSpecError =>
  new StoreSpecError('invalid_spec', field, `jetstream option '${field}' ${message}`)

function integerIn(o: Record<string, unknown>, name: 'replicas' | 'duplicateWindowMs' | 'ackTimeoutMs' | 'connectTimeoutMs', min: number, max: number): number {
  const v = o[name]
  if (v === undefined) return JETSTREAM_DEFAULTS[name]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(name, `must be an integer from ${min} to ${max}, got ${describeValue(v)}`)
  }
  return v
}

// A literal subject: dot-separated non-empty tokens without wildcards or whitespace. Wildcards
// are refused because a message is published on exactly this subject.
function literalSubject(o: Record<string, unknown>, name: 'deadLetterSubject'): string {
  const v = o[name]
  if (typeof v !== 'string' || v.length === 0 || /\s/.test(v) || v.split('.').some((t) => t === '' || t === '*' || t === '>')) {
    throw bad(name, `must be a literal NATS subject (dot-separated tokens, no wildcards), got ${describeValue(v)}`)
  }
  return v
}

function serverList(v: unknown): string[] {
  const list = typeof v === 'string' ? [v] : v
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw bad('servers', `must be a non-empty string or a non-empty list of them, got ${describeValue(v)}`)
  }
  return [...(list as string[])]
}

/** Applies defaults and validates a jetstream spec; throws StoreSpecError naming the first bad field. */
export function resolveJetStreamOptions(spec: Record<string, unknown>): ResolvedJetStreamOptions {
  if (spec === null || typeof spec !== 'object') throw bad('spec', `must be an object, got ${describeValue(spec)}`)
  for (const key of Object.keys(spec)) {
    // subjectFilter is derived; options already resolved (createStore hands them to open) carry it.
    if (!KNOWN.has(key) && key !== 'subjectFilter') throw new StoreSpecError('invalid_spec', key, `unknown jetstream option '${key}'`)
  }
  const servers = serverList(spec.servers)
  const stream = spec.stream
  if (typeof stream !== 'string' || stream.length === 0 || /[\s.*>/\\]/.test(stream)) {
    throw bad('stream', `must be a stream name without spaces, '.', '*', '>', '/' or '\\', got ${describeValue(stream)}`)
  }
  const subject = spec.subject
  const template = typeof subject === 'string' ? parseSubject(subject) : undefined
  if (template === undefined) {
    throw bad('subject', `must be a NATS subject (dot-separated tokens, no wildcards), each token literal or a whole {field} placeholder, got ${describeValue(subject)}`)
  }
  const subjectFilter = subjectFilterOf(template)
  if (spec.subjectFilter !== undefined && spec.subjectFilter !== subjectFilter) {
    throw bad('subjectFilter', `is derived from 'subject' ('${subjectFilter}') and cannot be set, got ${describeValue(spec.subjectFilter)}`)
  }
  const deadLetterSubject =
    spec.deadLetterSubject === undefined ? `${fallbackSubjectOf(template)}.dead` : literalSubject(spec, 'deadLetterSubject')
  if (filterMatches(subjectFilter, deadLetterSubject)) throw bad('deadLetterSubject', `must not be a subject events go to ('${subjectFilter}'), got ${describeValue(deadLetterSubject)}`)
  const createStream = spec.createStream ?? JETSTREAM_DEFAULTS.createStream
  if (typeof createStream !== 'boolean') throw bad('createStream', `must be a boolean, got ${describeValue(createStream)}`)
  const storage = spec.storage ?? JETSTREAM_DEFAULTS.storage
  if (storage !== 'file' && storage !== 'memory') throw bad('storage', `must be 'file' or 'memory', got ${describeValue(storage)}`)
  const name = spec.name ?? JETSTREAM_DEFAULTS.name
  if (typeof name !== 'string') throw bad('name', `must be a string, got ${describeValue(name)}`)
  const retention = resolveRetention(spec.retention, 'jetstream', ['maxAgeMs', 'maxEvents', 'maxBytes'])
  if (retention !== undefined && !createStream) {
    throw bad('retention', 'is set on the stream when the store creates or updates it: it needs createStream: true')
  }
  return Object.freeze({
    servers: Object.freeze(servers),
    stream,
    subject: subject as string,
    subjectFilter,
    deadLetterSubject,
    createStream,
    replicas: integerIn(spec, 'replicas', 1, 5),
    duplicateWindowMs: integerIn(spec, 'duplicateWindowMs', 1_000, WEEK_MS),
    storage,
    ackTimeoutMs: integerIn(spec, 'ackTimeoutMs', 1, INT31),
    connectTimeoutMs: integerIn(spec, 'connectTimeoutMs', 1, INT31),
    name,
    ...(retention === undefined ? {} : { retention }),
  })
}
