// Watches Node's HTTP server and client, and undici (fetch), through the diagnostics channels they
// publish on: a request's start and end, its status and duration. An incoming request opens a
// correlation scope (its `traceparent`'s trace id, else a new id) that every event of its handler
// shares, across awaits and timers.

import dc from 'node:diagnostics_channel'
import { currentCorrelationId as currentCorr, enterFrame, newCorrelationId, traceIdFromTraceparent } from './context.js'
import { runtime } from './runtime.js'

/** Marks a server whose requests are not the application's (Ringside's own HTTP server). */
const INTERNAL = Symbol.for('ringside.internal')

interface Started {
  readonly t0: number
  readonly corr: string | undefined
}

type Unsubscribe = () => void

function on(name: string, fn: (message: unknown) => void): Unsubscribe {
  const wrapped = (m: unknown) => {
    try {
      fn(m)
    } catch {
      // A watcher must never break the request it watches.
    }
  }
  dc.subscribe(name, wrapped)
  return () => dc.unsubscribe(name, wrapped)
}

interface IncomingLike {
  method?: string
  url?: string
  headers: Record<string, string | string[] | undefined>
}
interface ClientRequestLike {
  method?: string
  host?: string
  path?: string
  protocol?: string
}
interface UndiciRequestLike {
  method?: string
  origin?: string
  path?: string
}

/** Subscribes to the HTTP server and client channels; returns a function that unsubscribes. */
export function watchHttp(): Unsubscribe {
  const rt = runtime()
  const server = new WeakMap<object, Started>()
  const client = new WeakMap<object, Started>()
  const offs = [
    on('http.server.request.start', (m) => {
      const { request, server: srv } = m as { request: IncomingLike; server?: Record<symbol, unknown> }
      // Ringside's own HTTP server (the pipeline's dashboard and probes) is not the application.
      if (srv?.[INTERNAL] === true) return
      const traceparent = request.headers.traceparent
      const corr = traceIdFromTraceparent(traceparent) ?? newCorrelationId()
      // Node publishes this just before emitting 'request', in the same synchronous run: the
      // handler and everything it schedules inherit the frame.
      enterFrame({ id: 0, corr })
      // One clock read per event: its time is also the event's capture time.
      const t0 = performance.now()
      server.set(request, { t0, corr })
      const event: Record<string, unknown> = { type: 'http_server_request', correlationId: corr, method: request.method, url: request.url }
      if (typeof traceparent === 'string') event.traceparent = traceparent
      rt.emit(event, undefined, t0)
    }),
    on('http.server.response.finish', (m) => {
      const { request, response, server: srv } = m as { request: IncomingLike; response: { statusCode: number }; server?: Record<symbol, unknown> }
      if (srv?.[INTERNAL] === true) return
      const s = server.get(request)
      const t1 = performance.now()
      rt.emit({ type: 'http_server_response', correlationId: s?.corr, method: request.method, url: request.url, status: response.statusCode, durationMs: s ? t1 - s.t0 : undefined }, undefined, t1)
    }),
    on('http.client.request.start', (m) => {
      const { request } = m as { request: ClientRequestLike }
      const corr = currentCorr()
      client.set(request, { t0: performance.now(), corr })
      rt.emit({ type: 'http_client_request', via: 'http', method: request.method, host: request.host, path: request.path })
    }),
    on('http.client.response.finish', (m) => {
      const { request, response } = m as { request: ClientRequestLike; response: { statusCode?: number } }
      const s = client.get(request)
      rt.emit({ type: 'http_client_response', via: 'http', correlationId: s?.corr, method: request.method, host: request.host, path: request.path, status: response.statusCode, durationMs: s ? performance.now() - s.t0 : undefined })
    }),
    on('undici:request:create', (m) => {
      const { request } = m as { request: UndiciRequestLike }
      client.set(request, { t0: performance.now(), corr: currentCorr() })
      rt.emit({ type: 'http_client_request', via: 'fetch', method: request.method, host: request.origin, path: request.path })
    }),
    on('undici:request:headers', (m) => {
      const { request, response } = m as { request: UndiciRequestLike; response: { statusCode?: number } }
      const s = client.get(request)
      rt.emit({ type: 'http_client_response', via: 'fetch', correlationId: s?.corr, method: request.method, host: request.origin, path: request.path, status: response.statusCode, durationMs: s ? performance.now() - s.t0 : undefined })
    }),
    on('undici:request:error', (m) => {
      const { request, error } = m as { request: UndiciRequestLike; error: unknown }
      const s = client.get(request)
      rt.emit({ type: 'http_client_error', via: 'fetch', correlationId: s?.corr, method: request.method, host: request.origin, path: request.path, error: rt.describeError(error), durationMs: s ? performance.now() - s.t0 : undefined })
    }),
  ]
  return () => {
    for (const off of offs) off()
  }
}
