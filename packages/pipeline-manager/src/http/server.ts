// The pipeline's HTTP server, on node:http with a small route table: probes (/healthz, /readyz),
// metrics (/metrics for Prometheus, /stats as JSON), event intake (/ingest, behind a bearer token
// when one is configured), live config behind a bearer token (/config, only when a token is
// configured), the application's captured requests and their call trees read from the store
// (/requests, /requests/tree) and the dashboard (/). Every request must name this server in its
// Host header (DNS rebinding). Closing stops accepting connections and gives in-flight requests a
// grace period, then stops the store reader.

import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { PipelineOptions, ResolvedHttpOptions } from '../config.js'
import { PipelineConfigError, PipelineError } from '../errors.js'
import { hostRuleOf, requestHostAllowed, targetOf, type HostRule } from './host.js'
import { eventsOf, ingest } from './ingest.js'
import { PrometheusExporter } from './prometheus.js'
import { bearerMatches, HttpError, readJson, sendError, sendJson, sendText } from './request.js'
import { recentRequests, requestTree } from './requests.js'
import { readinessOf, statsOf, takeSnapshot, type HttpSources } from './snapshot.js'
import { StoreReader } from './store-reader.js'

/** Where the server listens. `url` is the dashboard's address. */
export interface HttpAddress {
  readonly host: string
  readonly port: number
  readonly url: string
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>
type Routes = ReadonlyMap<string, Readonly<Record<string, Handler>>>

let dashboardHtml: string | undefined
const dashboard = () => (dashboardHtml ??= readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8'))

/** A URL host for an address: brackets for IPv6, loopback for the unspecified addresses. */
function urlHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1'
  if (address === '::') return '[::1]'
  return address.includes(':') ? `[${address}]` : address
}

/** `?since=` of a request target as ms since the epoch; undefined when absent or not a number. */
function sinceOf(url: string | undefined): number | undefined {
  const m = /[?&]since=([0-9.]+)(?:&|#|$)/.exec(url ?? '')
  const v = m ? Number(m[1]) : Number.NaN
  return Number.isFinite(v) ? v : undefined
}

export class HttpServer {
  readonly #server: Server
  readonly #sources: HttpSources
  readonly #options: ResolvedHttpOptions
  readonly #logger: Logger
  readonly #exporter: PrometheusExporter
  readonly #routes: Routes
  readonly #hosts: HostRule
  readonly #reader: StoreReader | undefined
  #closing: Promise<void> | undefined

  private constructor(sources: HttpSources, options: ResolvedHttpOptions, logger: Logger) {
    this.#sources = sources
    this.#options = options
    this.#hosts = hostRuleOf(options)
    this.#logger = logger
    this.#exporter = new PrometheusExporter(() => takeSnapshot(sources))
    this.#reader = sources.store ? new StoreReader(sources.store) : undefined
    this.#routes = this.#table()
    // Nothing a request does may become an unhandled rejection: that would crash the application.
    this.#server = createServer((req, res) =>
      this.#handle(req, res).catch((err: unknown) => {
        this.#logger.error({ err }, 'HTTP request failed')
        res.destroy()
      }),
    )
    // A slow or stuck client must not hold a connection (and stop()) forever.
    this.#server.headersTimeout = 10_000
    this.#server.requestTimeout = 30_000
    // @ringside/instrument's HTTP watcher leaves this server's requests out of what it captures.
    ;(this.#server as unknown as Record<symbol, boolean>)[Symbol.for('ringside.internal')] = true
  }

  /** Listens on the configured host and port; rejects with PipelineError `http_listen_failed` (the cause says why). */
  static async start(sources: HttpSources, options: ResolvedHttpOptions, logger: Logger): Promise<HttpServer> {
    const s = new HttpServer(sources, options, logger)
    try {
      await new Promise<void>((resolve, reject) => {
        s.#server.once('error', reject)
        s.#server.listen(options.port, options.host, () => {
          s.#server.off('error', reject)
          resolve()
        })
      })
    } catch (cause) {
      throw new PipelineError('http_listen_failed', `the HTTP server could not listen on ${options.host}:${options.port}: ${(cause as Error).message}`, { cause })
    }
    s.#server.on('error', (err) => logger.error({ err }, 'HTTP server error'))
    logger.info({ ...s.address }, 'HTTP server listening')
    return s
  }

  /** Where it listens; undefined once it has stopped listening. */
  get address(): HttpAddress | undefined {
    const a = this.#server.address() as AddressInfo | null
    return a === null ? undefined : { host: a.address, port: a.port, url: `http://${urlHost(a.address)}:${a.port}/` }
  }

  /**
   * Stops accepting connections, lets requests in flight finish for up to `graceMs`, then cuts what
   * is left. Idle keep-alive connections close at once. Safe to call twice.
   */
  close(graceMs: number): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => this.#server.closeAllConnections(), graceMs)
      this.#server.close(() => {
        clearTimeout(force)
        resolve()
      })
      this.#server.closeIdleConnections()
    }).then(() => this.#reader?.close())
    return this.#closing
  }

  #table(): Routes {
    const routes = new Map<string, Record<string, Handler>>([
      ['/', { GET: (_, res) => sendText(res, 200, 'text/html; charset=utf-8', dashboard()) }],
      ['/healthz', { GET: (_, res) => this.#liveness(res) }],
      ['/readyz', { GET: (_, res) => this.#readiness(res) }],
      ['/metrics', { GET: async (_, res) => sendText(res, 200, this.#exporter.contentType, await this.#exporter.render()) }],
      ['/stats', { GET: (_, res) => sendJson(res, 200, statsOf(takeSnapshot(this.#sources))) }],
      ['/ingest', { POST: (req, res) => this.#ingest(req, res) }],
      // The last ten minutes (samples and markers), newer than ?since=<ms since the epoch>.
      ['/history', { GET: (req, res) => sendJson(res, 200, { time: Date.now(), ...this.#sources.pipeline.history(sinceOf(req.url)) }) }],
      ['/dead-letters', { GET: (_, res) => sendJson(res, 200, { deadLetters: this.#sources.pipeline.recentDeadLetters() }) }],
    ])
    const reader = this.#reader
    if (reader) {
      // The application's requests captured by @ringside/instrument, and one request's call tree.
      routes.set('/requests', { GET: async (req, res) => sendJson(res, 200, await recentRequests(reader, req)) })
      routes.set('/requests/tree', { GET: async (req, res) => sendJson(res, 200, await requestTree(reader, req)) })
    }
    const token = this.#options.configToken
    // Without a configured token the endpoint does not exist (404), rather than exist and refuse.
    if (token !== undefined) routes.set('/config', { GET: (req, res) => this.#config(req, res, token), POST: (req, res) => this.#config(req, res, token) })
    return routes
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, authority } = targetOf(req)
    const route = this.#routes.get(path)
    res.once('finish', () => {
      this.#exporter.requests.inc({ route: route ? path : 'other', code: String(res.statusCode) })
      // Closing: a keep-alive connection whose request just finished must not linger.
      if (this.#closing) setImmediate(() => this.#server.closeIdleConnections())
    })
    try {
      // 421 (Misdirected Request) rather than 403: the request is not refused for who sends it but
      // for the server it names, which is not this one; the same request sent to our name succeeds.
      if (!requestHostAllowed(this.#hosts, req, authority)) {
        throw new HttpError(421, 'misdirected_request', 'this server does not answer to that Host; see the http.allowedHosts option')
      }
      if (!route) throw new HttpError(404, 'not_found', `no endpoint ${path.length > 100 ? `${path.slice(0, 100)}...` : path}`)
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET')
      const handler = Object.hasOwn(route, method) ? route[method] : undefined
      if (!handler) throw new HttpError(405, 'method_not_allowed', `${path} takes ${Object.keys(route).join(', ')}`, { headers: { allow: Object.keys(route).join(', ') } })
      await handler(req, res)
    } catch (caught) {
      if (!(caught instanceof HttpError)) this.#logger.error({ err: caught, path }, 'HTTP handler failed')
      const e = caught instanceof HttpError ? caught : new HttpError(500, 'internal_error', 'the request failed inside the pipeline; see its log')
      req.resume() // discard an unread body, so the reply is not stuck behind it
      if (!res.headersSent) sendError(res, e)
      else res.destroy()
    }
  }

  /** Liveness: the manager is running (also while it stops); 503 once it has stopped or failed for good. */
  #liveness(res: ServerResponse): void {
    const { status, uptimeMs } = this.#sources.pipeline.getState()
    const alive = status === 'running' || status === 'stopping'
    sendJson(res, alive ? 200 : 503, { alive, status, uptimeMs })
  }

  #readiness(res: ServerResponse): void {
    const { ready, body } = readinessOf(takeSnapshot(this.#sources))
    sendJson(res, ready ? 200 : 503, body)
  }

  /** Refuses a request without `Authorization: Bearer <token>`, before its body is read. */
  #authorize(req: IncomingMessage, token: string | undefined): void {
    if (token === undefined || bearerMatches(req.headers.authorization, token)) return
    throw new HttpError(401, 'unauthorized', 'this endpoint needs the configured bearer token (Authorization: Bearer <token>)', {
      headers: { 'www-authenticate': 'Bearer realm="ringside"' },
    })
  }

  async #ingest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#authorize(req, this.#options.ingestToken)
    const events = eventsOf(await readJson(req, this.#options.bodyLimitBytes), this.#options.maxEventsPerRequest)
    const { status, headers, reply } = ingest(this.#sources.pipeline.ring, events)
    if (reply.accepted > 0) this.#exporter.ingested.inc({ outcome: 'accepted' }, reply.accepted)
    for (const [reason, n] of Object.entries(reply.rejectedByReason)) this.#exporter.ingested.inc({ outcome: reason }, n)
    sendJson(res, status, reply, headers)
  }

  /** GET: the effective config. POST: a patch through updateConfig; a refused patch names its option. */
  async #config(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    this.#authorize(req, token)
    if (req.method !== 'POST') return sendJson(res, 200, { config: this.#sources.pipeline.getState().config })
    const patch = await readJson(req, this.#options.bodyLimitBytes)
    // A stage list names modules the writers import: code to run, which a network caller must not
    // choose. Stages change only from within the process (updateConfig).
    if (patch !== null && typeof patch === 'object' && Object.hasOwn(patch, 'stages')) {
      throw new HttpError(422, 'not_live', "option 'stages' cannot be changed over HTTP (it names modules to import); call updateConfig in the process", { details: { option: 'stages' } })
    }
    try {
      sendJson(res, 200, { config: await this.#sources.pipeline.updateConfig(patch as Partial<PipelineOptions>) })
    } catch (e) {
      if (e instanceof PipelineConfigError) throw new HttpError(422, e.code, e.message, { details: { option: e.option } })
      if (e instanceof PipelineError && e.code === 'stopped') throw new HttpError(503, 'stopped', e.message)
      throw e
    }
  }
}
