// Bounded, JSON-shaped summaries of arguments and results: a captured value never grows an event
// past its byte budget, never throws (a getter that throws is summarised as such), and keys that
// name secrets are redacted before anything leaves the application's thread.

import { ClientRequest, IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'

/** Limits of one summary. */
export interface SummaryLimits {
  /** Deepest nesting kept; deeper objects become `'[Object]'` / `'[Array(n)]'`. Defaults to 2. */
  readonly maxDepth: number
  /** Longest string kept, in characters; longer ones are cut and end with `…`. Defaults to 120. */
  readonly maxStringLength: number
  /** Most array items or object keys kept per level; the rest is counted in a `'…'` entry. Defaults to 10. */
  readonly maxItems: number
  /** Approximate bytes of one summary (all arguments together); past it values become `'[…]'`. Defaults to 256. */
  readonly maxBytes: number
  /** Keys whose values are replaced by `'[redacted]'`: a key matches when it contains one of these, ignoring case. */
  readonly redact: readonly string[]
}

export const SUMMARY_DEFAULTS: SummaryLimits = Object.freeze({
  maxDepth: 2,
  maxStringLength: 120,
  maxItems: 10,
  maxBytes: 256,
  redact: Object.freeze(['password', 'token', 'authorization', 'cookie', 'secret']),
})

/** Compiled limits: redaction patterns lower-cased once, not per key. */
export interface Summarizer {
  readonly limits: SummaryLimits
  /** Summary of an argument list (an `arguments` object or an array). */
  args(list: ArrayLike<unknown>): unknown[]
  /** Summary of one value (a result). */
  value(v: unknown): unknown
}

const TRUNCATED = '[…]'

/**
 * Node's HTTP and socket objects, summarised by what a reader wants of them: a request's method and
 * URL, a response's status. Walking their own keys (streams' state, sockets, raw headers) costs
 * far more and says less; they are the arguments of every request handler.
 */
function httpSummary(o: object): Record<string, unknown> | string | undefined {
  if (o instanceof IncomingMessage) {
    return o.method !== undefined ? { $type: 'IncomingMessage', method: o.method, url: o.url } : { $type: 'IncomingMessage', statusCode: o.statusCode }
  }
  if (o instanceof ServerResponse) return { $type: 'ServerResponse', statusCode: o.statusCode }
  if (o instanceof ClientRequest) return { $type: 'ClientRequest', method: o.method, host: o.host, path: o.path }
  if (o instanceof Socket) return '[Socket]'
  return undefined
}

/** Builds a summarizer for the given limits. */
export function summarizer(limits: SummaryLimits): Summarizer {
  const redact = limits.redact.map((k) => k.toLowerCase())
  const { maxDepth, maxStringLength, maxItems, maxBytes } = limits
  // Bytes left in the current summary; a plain counter shared by the recursion of one call.
  let budget = 0

  const isSecret = (key: string): boolean => {
    if (redact.length === 0) return false
    const k = key.toLowerCase()
    for (const r of redact) if (k.includes(r)) return true
    return false
  }

  const str = (s: string): string => {
    const cut = s.length > maxStringLength ? `${s.slice(0, maxStringLength)}…` : s
    budget -= cut.length + 2
    return cut
  }

  const walk = (v: unknown, depth: number, seen: unknown[]): unknown => {
    if (budget <= 0) return TRUNCATED
    switch (typeof v) {
      case 'number':
        budget -= 8
        return Number.isFinite(v) ? v : String(v)
      case 'string':
        return str(v)
      case 'boolean':
        budget -= 5
        return v
      case 'undefined':
        budget -= 4
        return '[undefined]'
      case 'bigint':
        return str(`${v}n`)
      case 'symbol':
        return str(v.toString())
      case 'function':
        return str(`[Function ${(v as { name?: string }).name || 'anonymous'}]`)
    }
    if (v === null) {
      budget -= 4
      return null
    }
    const o = v as object
    if (seen.includes(o)) return '[Circular]'
    if (o instanceof Date) return str(Number.isNaN(o.getTime()) ? 'Invalid Date' : o.toISOString())
    if (o instanceof Error) return { name: str(o.name), message: str(o.message) }
    if (ArrayBuffer.isView(o)) return str(`[${o.constructor.name}(${(o as { length?: number }).length ?? o.byteLength})]`)
    if (o instanceof Promise) return '[Promise]'
    const http = httpSummary(o)
    if (http !== undefined) {
      if (typeof http === 'string') return http
      // Their strings are cut and counted like any other.
      for (const k in http) if (typeof http[k] === 'string' && k !== '$type') http[k] = str(http[k] as string)
      budget -= 24
      return http
    }
    if (o instanceof Map) return depth >= maxDepth ? `[Map(${o.size})]` : { $type: 'Map', size: o.size, entries: items([...o.entries()].slice(0, maxItems), o.size, depth, seen, o) }
    if (o instanceof Set) return depth >= maxDepth ? `[Set(${o.size})]` : { $type: 'Set', size: o.size, values: items([...o].slice(0, maxItems), o.size, depth, seen, o) }
    if (Array.isArray(o)) return depth >= maxDepth ? `[Array(${o.length})]` : items(o, o.length, depth, seen, o)
    return object(o, depth, seen)
  }

  const items = (list: ArrayLike<unknown>, total: number, depth: number, seen: unknown[], self: object): unknown[] => {
    const out: unknown[] = []
    seen.push(self)
    const n = Math.min(list.length, maxItems)
    for (let i = 0; i < n; i++) out.push(walk(list[i], depth + 1, seen))
    seen.pop()
    if (total > n) out.push(`… ${total - n} more`)
    return out
  }

  const object = (o: object, depth: number, seen: unknown[]): unknown => {
    const ctor = (o as { constructor?: { name?: string } }).constructor
    const name = ctor && ctor !== Object && typeof ctor.name === 'string' ? ctor.name : undefined
    if (depth >= maxDepth) return name ? `[${name}]` : '[Object]'
    const out: Record<string, unknown> = {}
    if (name) out.$type = name
    seen.push(o)
    let n = 0
    let total = 0
    for (const key in o) {
      // Underscore keys of class instances are their internals (an IncomingMessage's `_events`, ...).
      if (!Object.prototype.hasOwnProperty.call(o, key) || (name !== undefined && key.charCodeAt(0) === 95)) continue
      total++
      if (n >= maxItems) continue
      n++
      budget -= key.length + 3
      if (isSecret(key)) {
        out[key] = '[redacted]'
        continue
      }
      let val: unknown
      try {
        val = (o as Record<string, unknown>)[key]
      } catch {
        out[key] = '[getter threw]'
        continue
      }
      out[key] = walk(val, depth + 1, seen)
    }
    seen.pop()
    if (total > n) out['…'] = `${total - n} more`
    return out
  }

  return {
    limits,
    args(list) {
      budget = maxBytes
      const n = list.length
      const out = new Array<unknown>(n)
      for (let i = 0; i < n; i++) {
        const a = list[i]
        // Small primitives are the common case: skip the recursion.
        if (typeof a === 'number' && Number.isFinite(a)) {
          budget -= 8
          out[i] = a
        } else out[i] = walk(a, 0, [])
      }
      return out
    },
    value(v) {
      budget = maxBytes
      return walk(v, 0, [])
    },
  }
}
