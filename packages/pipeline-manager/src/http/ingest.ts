// POST /ingest: one event, or `{ "events": [...] }`, from an HTTP client into the ring. Each event is
// normalized (its `type` trimmed) and checked as a writer would check it (validateEvent), so a bad
// event is refused at the door with its reason instead of being quarantined later; then it is
// written. The reply lists each refusal by index, and its status says what happened overall.

import type { RingBuffer } from '@ringside/core-ringbuffer'
import { validateEvent } from '@ringside/async-writer'
import { HttpError } from './request.js'

/** Why one event of a request was not accepted. */
export interface EventError {
  readonly index: number
  /** `invalid_event`, or the ring's refusal: `too_large`, `not_serializable`, `full`, `timeout`, `closed`. */
  readonly error: string
  readonly message: string
}

export interface IngestReply {
  readonly accepted: number
  readonly rejected: number
  /** Keys of the accepted events (ring id and sequence), in request order. */
  readonly keys: string[]
  readonly errors: EventError[]
}

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
}

/** The events of a request body: a batch `{ events: [...] }` (an object without `type`), or one event. */
export function eventsOf(body: unknown): unknown[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_body', 'the body must be a JSON object: one event, or { "events": [ ... ] }')
  }
  const o = body as Record<string, unknown>
  if (!('events' in o) || 'type' in o) return [o]
  if (!Array.isArray(o.events) || o.events.length === 0) throw new HttpError(400, 'invalid_body', "'events' must be a non-empty array of events")
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
 * batch is refused the same way without being offered: the ring keeps the request's order, and a
 * `block` ring holds the server's thread for one timeout at most.
 */
export function ingest(ring: RingBuffer, events: readonly unknown[]): IngestOutcome {
  if (ring.closed) throw new HttpError(503, 'closed', MESSAGES.closed!)
  const keys: string[] = []
  const errors: EventError[] = []
  let pushedBack: string | undefined
  for (let index = 0; index < events.length; index++) {
    if (pushedBack) {
      errors.push({ index, error: pushedBack, message: `not offered: an earlier event of this request was refused (${pushedBack})` })
      continue
    }
    const n = normalizeEvent(events[index])
    if ('error' in n) {
      errors.push({ index, ...n })
      continue
    }
    const r = ring.write(n.event)
    if (r.ok) {
      keys.push(`${ring.id}:${r.seq}`)
      continue
    }
    errors.push({ index, error: r.reason, message: MESSAGES[r.reason] ?? r.reason })
    if (BACKPRESSURE.has(r.reason) || r.reason === 'closed') pushedBack = r.reason
  }
  const reply: IngestReply = { accepted: keys.length, rejected: errors.length, keys, errors }
  return { ...statusOf(reply), reply }
}

/**
 * 200: all accepted. 207: some accepted, some not (the body says which). With none accepted: 503
 * when the ring closed, 429 (Retry-After: 1) when it was full, 422 when every event was refused
 * for itself (invalid, too large, not serializable).
 */
export function statusOf(r: IngestReply): { status: number; headers: Record<string, string> } {
  if (r.rejected === 0) return { status: 200, headers: {} }
  if (r.accepted > 0) return { status: 207, headers: {} }
  if (r.errors.some((e) => e.error === 'closed')) return { status: 503, headers: {} }
  if (r.errors.some((e) => BACKPRESSURE.has(e.error))) return { status: 429, headers: { 'retry-after': '1' } }
  return { status: 422, headers: {} }
}
