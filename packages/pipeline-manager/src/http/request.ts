// Request and response plumbing of the HTTP server on node:http: reading a JSON body within a byte
// limit, typed refusals (HttpError carries the status and a stable `error` code for the client),
// JSON and text replies, and a constant-time bearer token check.

import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Every `error` code an HTTP refusal carries (the `error` field of its JSON body). */
export type HttpErrorCode =
  | 'not_found'
  | 'method_not_allowed'
  | 'misdirected_request'
  | 'unauthorized'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'too_many_events'
  | 'too_deep'
  | 'malformed_json'
  | 'invalid_body'
  | 'body_unreadable'
  | 'closed'
  | 'stopped'
  | 'invalid_option'
  | 'not_live'
  | 'invalid_query'
  | 'store_unavailable'
  | 'internal_error'

/** A refusal with its HTTP status, a stable machine-readable `code`, and optional fields for the body. */
export class HttpError extends Error {
  readonly status: number
  readonly code: HttpErrorCode
  readonly headers: Readonly<Record<string, string>>
  readonly details: Readonly<Record<string, unknown>>
  constructor(status: number, code: HttpErrorCode, message: string, extra: { headers?: Record<string, string>; details?: Record<string, unknown> } = {}) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.code = code
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
 * Deepest nesting of arrays and objects a body may have. An event deeper than 64 levels is refused
 * by the ring anyway; parsing half a million nested brackets first would hold the event loop for
 * a tenth of a second per MiB.
 */
export const MAX_BODY_DEPTH = 100

const OPEN_ARRAY = 0x5b
const OPEN_OBJECT = 0x7b
const CLOSE_ARRAY = 0x5d
const CLOSE_OBJECT = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Whether the JSON text in `bytes` nests arrays and objects deeper than `max`; one pass, strings skipped. */
export function nestedDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b === QUOTE) {
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) if (bytes[i] === BACKSLASH) i++
    } else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (++depth > max) return true
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
      depth--
    }
  }
  return false
}

/**
 * Reads the body as JSON. 415 for a content type other than JSON, 413 over `limit` bytes (declared
 * or counted), 400 for bytes that are not UTF-8, text that is not JSON or nests deeper than
 * MAX_BODY_DEPTH. Resolves to the parsed value.
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
  if (nestedDeeperThan(body, MAX_BODY_DEPTH)) throw new HttpError(400, 'too_deep', `the body nests arrays and objects deeper than ${MAX_BODY_DEPTH} levels`)
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
  sendJson(res, e.status, { error: e.code, message: e.message, ...e.details }, e.headers)
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Whether the Authorization header carries `Bearer <token>`; compares SHA-256 digests in constant time, so neither content nor length leaks. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token))
}
