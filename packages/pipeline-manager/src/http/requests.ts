// The dashboard's view of the application's HTTP requests, read from the store: the latest
// requests captured by @ringside/instrument (its `http_server_response` events: method, URL,
// status, duration, correlation id, time) and, for one correlation id, its call tree.

import type { IncomingMessage } from 'node:http'
import { callTree, type TraceItem } from './call-tree.js'
import { HttpError } from './request.js'
import type { StoreReader } from './store-reader.js'

/** One request in the list. */
export interface RecentRequest {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly status: number | undefined
  readonly durationMs: number | undefined
  readonly correlationId: string | undefined
  /** When its response was captured, ms since the epoch. */
  readonly time: number
}

/** Most requests listed at once (`?limit=`). */
export const MAX_RECENT_REQUESTS = 500
/** Most events read for one request's tree; past it the tree says `truncated`. */
export const MAX_TRACE_EVENTS = 5_000

function params(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://localhost').searchParams
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
const num = (v: unknown) => (typeof v === 'number' ? v : undefined)

/** GET /requests?limit=n (1 .. 500, default 50): the latest requests, newest first. */
export async function recentRequests(reader: StoreReader, req: IncomingMessage): Promise<{ requests: RecentRequest[] }> {
  const raw = params(req).get('limit')
  const limit = raw === null ? 50 : Number(raw)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECENT_REQUESTS) throw new HttpError(400, 'invalid_query', `limit must be an integer from 1 to ${MAX_RECENT_REQUESTS}, got ${raw}`)
  const rows = await read(reader, { type: 'http_server_response', order: 'desc', limit })
  return {
    requests: rows.map(({ capturedAt, event: e }) => ({
      method: str(e.method),
      url: str(e.url),
      status: num(e.status),
      durationMs: num(e.durationMs),
      correlationId: str(e.correlationId),
      time: capturedAt,
    })),
  }
}

/** GET /requests/tree?correlation=id: the call tree of one request, as `ringside trace` builds it. */
export async function requestTree(reader: StoreReader, req: IncomingMessage): Promise<{ correlationId: string; events: number; truncated: boolean; tree: TraceItem[] }> {
  const id = params(req).get('correlation')
  if (id === null || id === '' || id.length > 200) throw new HttpError(400, 'invalid_query', 'correlation=<id> is required (at most 200 characters)')
  const rows = await read(reader, { correlationId: id, order: 'asc', limit: MAX_TRACE_EVENTS + 1 })
  const truncated = rows.length > MAX_TRACE_EVENTS
  const events = rows.slice(0, MAX_TRACE_EVENTS).map((r) => r.event)
  if (events.length === 0) throw new HttpError(404, 'not_found', `no events with correlation id ${id}`)
  return { correlationId: id, events: events.length, truncated, tree: callTree(events) }
}

async function read(reader: StoreReader, filter: Parameters<StoreReader['query']>[0]) {
  try {
    return await reader.query(filter)
  } catch (e) {
    throw new HttpError(503, 'store_unavailable', `the store could not be read: ${e instanceof Error ? e.message : String(e)}`)
  }
}
