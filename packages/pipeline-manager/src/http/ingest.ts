// POST /ingest: one event, or `{ "events": [...] }`, from an HTTP client into the ring. Each event is
// normalized (its `type` trimmed) and checked as a writer would check it (validateEvent), so a bad
// event is refused at the door with its reason instead of being quarantined later; then it is
// written. The work and the reply are bounded by the request's event count (maxEventsPerRequest):
// refusals are counted by reason and only the first MAX_LISTED_ERRORS are listed by index.

import { PriorityRing, type RingBuffer } from '@ringside/core-ringbuffer'
import { validateEvent } from '@ringside/async-writer'
import { HttpError } from './request.js'

/** Why one event of a request was not accepted. */
export interface EventError {
  readonly index: number
  /** `invalid_event`, or the ring's refusal: `too_large`, `not_serializable`, `full`, `timeout`, `closed`, `sampled`. */
  readonly error: string
  readonly message: string
}

export interface IngestReply {
  readonly accepted: number
  readonly rejected: number
  /** Refused events by reason (`invalid_event`, `full`, ...); they add up to `rejected`. */
  readonly rejectedByReason: Readonly<Record<string, number>>
  /** Keys of the accepted events (ring id and sequence), in request order. */
  readonly keys: string[]
  /** The first MAX_LISTED_ERRORS refusals, in request order; `rejectedByReason` counts them all. */
  readonly errors: EventError[]
}

/** How many refusals a reply lists one by one; the rest are only counted, so a reply stays small. */
export const MAX_LISTED_ERRORS = 100

export interface IngestOutcome {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly reply: IngestReply
}

/** Refusals the client can retry later, as opposed to refusals of the event itself. */
const BACKPRESSURE = new Set(['full', 'timeout'])

const MESSAGES: Readonly<Record<string, string>> = {
  too_large: "the event's encoded size is over the ring's maxEventBytes",
  not_serializable: 'the event cannot be encoded (nested deeper than 64 levels)',
  full: 'the ring is full; retry later',
  timeout: 'the ring stayed full for its blockTimeoutMs; retry later',
  closed: 'the pipeline is stopping and takes no more events',
  invalid_event: 'the event is not a JSON object',
  sampled: "left out by the ring's sampling policy (the pipeline is under pressure); do not retry it",
}

/**
 * The events of a request body: a batch `{ events: [...] }` (an object without `type`), or one
 * event. More than `maxEvents` is 413 `too_many_events`, before any event is looked at.
 */
export function eventsOf(body: unknown, maxEvents: number): unknown[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_body', 'the body must be a JSON object: one event, or { "events": [ ... ] }')
  }
  const o = body as Record<string, unknown>
  if (!('events' in o) || 'type' in o) return [o]
  if (!Array.isArray(o.events) || o.events.length === 0) throw new HttpError(400, 'invalid_body', "'events' must be a non-empty array of events")
  // 413 rather than 422: the events are not wrong, there are too many at once, as with a body over
  // bodyLimitBytes; a client that splits its batch on 413 handles both.
  if (o.events.length > maxEvents) {
    throw new HttpError(413, 'too_many_events', `the request holds ${o.events.length} events; at most ${maxEvents} per request (http.maxEventsPerRequest)`, {
      details: { limit: maxEvents, events: o.events.length },
    })
  }
  return o.events
}

/** An event ready for the ring, or why it is refused. Normalization: `type` loses surrounding whitespace. */
export function normalizeEvent(e: unknown): { event: Record<string, unknown> } | { error: 'invalid_event'; message: string } {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) {
    return { error: 'invalid_event', message: `an event must be a JSON object, got ${e === null ? 'null' : Array.isArray(e) ? 'an array' : typeof e}` }
  }
  const event = e as Record<string, unknown>
  if (typeof event.type === 'string') event.type = event.type.trim()
  const why = validateEvent(event)
  return why === undefined ? { event } : { error: 'invalid_event', message: why }
}

/**
 * Writes the events in order. After a backpressure refusal (`full`, `timeout`) the rest of the
 * batch is refused the same way without being offered, so the ring keeps the request's order.
 * A `block` ring is never waited on: the events offered are at most the free slots counted before
 * the first write, and the rest are refused as `full` (429), since a wait would hold the
 * application's event loop.
 */
export function ingest(ring: RingBuffer | PriorityRing, events: readonly unknown[]): IngestOutcome {
  // A priority ring takes ingested events at its default priority, normal: their keys are that sub-ring's.
  const keyed = ring instanceof PriorityRing ? ring.rings.normal : ring
  if (ring.closed) throw new HttpError(503, 'closed', MESSAGES.closed!)
  const keys: string[] = []
  const errors: EventError[] = []
  const byReason: Record<string, number> = {}
  const refuse = (index: number, error: string, message: string) => {
    byReason[error] = (byReason[error] ?? 0) + 1
    if (errors.length < MAX_LISTED_ERRORS) errors.push({ index, error, message })
  }
  let room = keyed.options.overflowStrategy === 'block' ? keyed.stats().available : Infinity
  let pushedBack: string | undefined
  for (let index = 0; index < events.length; index++) {
    if (pushedBack) {
      refuse(index, pushedBack, `not offered: an earlier event of this request was refused (${pushedBack})`)
      continue
    }
    const n = normalizeEvent(events[index])
    if ('error' in n) {
      refuse(index, n.error, n.message)
      continue
    }
    if (room <= 0) {
      refuse(index, 'full', MESSAGES.full!)
      pushedBack = 'full'
      continue
    }
    const r = ring.write(n.event)
    if (r.ok) {
      room--
      keys.push(`${keyed.id}:${r.seq}`)
      continue
    }
    refuse(index, r.reason, MESSAGES[r.reason] ?? r.reason)
    if (BACKPRESSURE.has(r.reason) || r.reason === 'closed') pushedBack = r.reason
  }
  const rejected = events.length - keys.length
  const reply: IngestReply = { accepted: keys.length, rejected, rejectedByReason: byReason, keys, errors }
  return { ...statusOf(reply), reply }
}

/**
 * 200: all accepted. 207: some accepted, some not (the body says which), or every refusal was
 * `sampled`. With none accepted: 503
 * when the ring closed, 429 (Retry-After: 1) when it was full, 422 when every event was refused
 * for itself (invalid, too large, not serializable).
 */
export function statusOf(r: IngestReply): { status: number; headers: Record<string, string> } {
  if (r.rejected === 0) return { status: 200, headers: {} }
  const reasons = Object.keys(r.rejectedByReason)
  // Sampled-out events were dropped on purpose: not the event's fault (422), and a retry (429) would defeat the sampling.
  if (r.accepted > 0 || reasons.every((e) => e === 'sampled')) return { status: 207, headers: {} }
  if (reasons.includes('closed')) return { status: 503, headers: {} }
  if (reasons.some((e) => BACKPRESSURE.has(e))) return { status: 429, headers: { 'retry-after': '1' } }
  return { status: 422, headers: {} }
}
