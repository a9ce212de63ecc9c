// Resolves the `http` option's values (config.ts has already refused unknown keys): defaults, one
// check per field, and the rule that an address beyond loopback is served only with an ingest
// token or an explicit `allowUnauthenticated`. Tokens become non-enumerable properties, so JSON,
// logs and spreads of the config never carry them.

import { isIP } from 'node:net'
import type { ResolvedHttpOptions } from '../config.js'
import { PipelineConfigError } from '../errors.js'
import { bad, boolean, given, integer, secret } from '../option-checks.js'

/** Defaults of the `http` option's fields. */
export const HTTP_DEFAULTS = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  bodyLimitBytes: 1 << 20,
  maxEventsPerRequest: 1000,
  allowedHosts: Object.freeze([]) as readonly string[],
  allowUnauthenticated: false,
})

/** A host name or address as compared: lower case, without IPv6 brackets or one trailing dot. */
export function canonicalHost(name: string): string {
  const n = name.toLowerCase()
  if (n.startsWith('[') && n.endsWith(']')) return n.slice(1, -1)
  return n.endsWith('.') ? n.slice(0, -1) : n
}

/**
 * Whether binding `host` serves loopback only: `localhost`, 127.0.0.0/8, `::1` (and 127.x mapped
 * into IPv6). Any other name counts as beyond loopback, even one that resolves to it, since what a
 * name resolves to can change.
 */
export function isLoopbackHost(host: string): boolean {
  const h = canonicalHost(host)
  if (h === 'localhost' || h === '::1') return true
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h
  return isIP(v4) === 4 && v4.startsWith('127.')
}

const NAME = /^\.?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/

function allowedHostsOf(v: unknown): readonly string[] {
  if (!Array.isArray(v) || v.length > 1000) bad('http.allowedHosts', 'an array of up to 1000 host names', v)
  return Object.freeze(
    (v as unknown[]).map((entry, i) => {
      const option = `http.allowedHosts[${i}]`
      if (typeof entry !== 'string') return bad(option, 'a host name, `.domain` or an IP address (no port)', entry)
      const h = canonicalHost(entry)
      if (isIP(h) === 0 && !NAME.test(h)) bad(option, 'a host name, `.domain` or an IP address (no port)', entry)
      return h
    }),
  )
}

/** The `http` option's values with defaults applied; throws PipelineConfigError naming the field. */
export function resolveHttpOptions(h: Record<string, unknown>): ResolvedHttpOptions {
  const port = given(h, 'port') ? integer('http.port', h.port, 0, 65_535) : HTTP_DEFAULTS.port
  if (given(h, 'host') && (typeof h.host !== 'string' || h.host === '')) bad('http.host', 'a non-empty host name or address', h.host)
  const host = given(h, 'host') ? (h.host as string) : HTTP_DEFAULTS.host
  const bodyLimitBytes = given(h, 'bodyLimitBytes') ? integer('http.bodyLimitBytes', h.bodyLimitBytes, 1024, 256 << 20) : HTTP_DEFAULTS.bodyLimitBytes
  const maxEventsPerRequest = given(h, 'maxEventsPerRequest') ? integer('http.maxEventsPerRequest', h.maxEventsPerRequest, 1, 100_000) : HTTP_DEFAULTS.maxEventsPerRequest
  const allowedHosts = given(h, 'allowedHosts') ? allowedHostsOf(h.allowedHosts) : HTTP_DEFAULTS.allowedHosts
  const allowUnauthenticated = given(h, 'allowUnauthenticated') ? boolean('http.allowUnauthenticated', h.allowUnauthenticated) : false
  const configToken = given(h, 'configToken') ? secret('http.configToken', h.configToken) : undefined
  const ingestToken = given(h, 'ingestToken') ? secret('http.ingestToken', h.ingestToken) : undefined
  // /config exists only with its token, so beyond loopback the one endpoint that could be open is /ingest.
  if (!isLoopbackHost(host) && ingestToken === undefined && !allowUnauthenticated) {
    throw new PipelineConfigError(
      'invalid_option',
      'http.ingestToken',
      `option 'http.ingestToken' is required when http.host (${JSON.stringify(host)}) is not a loopback address: anyone who can reach it could write events. ` +
        `Set a token (and configToken if /config should exist), or set http.allowUnauthenticated: true to serve without one`,
    )
  }
  const out = { port, host, bodyLimitBytes, maxEventsPerRequest, allowedHosts, allowUnauthenticated }
  if (configToken !== undefined) Object.defineProperty(out, 'configToken', { value: configToken, enumerable: false })
  if (ingestToken !== undefined) Object.defineProperty(out, 'ingestToken', { value: ingestToken, enumerable: false })
  return Object.freeze(out)
}
