// Request and response plumbing of the HTTP server on node:http: reading a JSON body within a byte
// limit, typed refusals (HttpError carries the status and a stable `error` code for the client),
// JSON and text replies, and a constant-time bearer token check.

import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** A refusal with its HTTP status, a stable machine-readable code, and optional fields for the body. */
export class HttpError extends Error {
  readonly status: number
  readonly error: string
  readonly headers: Readonly<Record<string, string>>
  readonly details: Readonly<Record<string, unknown>>
  constructor(status: number, error: string, message: string, extra: { headers?: Record<string, string>; details?: Record<string, unknown> } = {}) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.error = error
    this.headers = extra.headers ?? {}
    this.details = extra.details ?? {}
  }
}

/** Past the limit we keep reading (and discarding) this much more, so the client sees the 413 rather than a reset connection. */
const DRAIN_FACTOR = 8

const isJsonType = (type: string | undefined): boolean => {
  const media = (type ?? '').split(';')[0]!.trim().toLowerCase()
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'))
}

/**
 * Reads the body as JSON. 415 for a content type other than JSON, 413 over `limit` bytes (declared
 * or counted), 400 for bytes that are not UTF-8 or text that is not JSON. Resolves to the parsed value.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  if (!isJsonType(req.headers['content-type'])) {
    req.resume()
    throw new HttpError(415, 'unsupported_media_type', `the body must be JSON (content-type: application/json), got ${req.headers['content-type'] ?? 'none'}`)
  }
  const tooLarge = () => new HttpError(413, 'body_too_large', `the body is over the limit of ${limit} bytes`, { headers: { connection: 'close' } })
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit * DRAIN_FACTOR) {
    req.resume()
    throw tooLarge()
  }
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const settle = (f: () => void) => {
      if (settled) return
      settled = true
      f()
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
      // Far past the limit: stop reading; the reply closes the connection.
      else if (size > limit * DRAIN_FACTOR) {
        settle(() => {
          req.pause()
          reject(tooLarge())
        })
      }
    })
    req.on('end', () => settle(() => (size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks)))))
    req.on('error', (cause) => settle(() => reject(new HttpError(400, 'body_unreadable', `could not read the body: ${cause.message}`))))
    req.on('close', () => settle(() => reject(new HttpError(400, 'body_unreadable', 'the client closed the connection before the body ended'))))
  })
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw new HttpError(400, 'malformed_json', 'the body is not valid UTF-8')
  }
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw new HttpError(400, 'malformed_json', `the body is not valid JSON: ${(e as Error).message}`)
  }
}

/** Sends a JSON reply. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** Sends a text reply (the Prometheus exposition, the dashboard page). */
export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** Sends an HttpError as `{ error, message, ...details }`. */
export function sendError(res: ServerResponse, e: HttpError): void {
  sendJson(res, e.status, { error: e.error, message: e.message, ...e.details }, e.headers)
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Whether the Authorization header carries `Bearer <token>`; compares digests in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token))
}
