// The Host check that keeps DNS rebinding out. A page on attacker.example whose name is made to
// resolve to 127.0.0.1 reaches this server from the victim's browser, but its requests still say
// `Host: attacker.example`; refusing names that are not ours is what stops it. Also the parsing of
// the request target into the path the routes see, without new URL() (which throws on `//`).

import { isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { ResolvedHttpOptions } from '../config.js'
import { canonicalHost } from './options.js'

/** The names a server answers to, besides IP literals and `localhost`. */
export interface HostRule {
  /** Exact names (lower case, no port). */
  readonly names: ReadonlySet<string>
  /** Domains (from `.example.com` entries): the domain itself and every name under it. */
  readonly domains: readonly string[]
}

/** The rule for a server's options: its bound host and its `allowedHosts`. */
export function hostRuleOf(options: ResolvedHttpOptions): HostRule {
  const names = new Set<string>([canonicalHost(options.host)])
  const domains: string[] = []
  for (const entry of options.allowedHosts) {
    if (entry.startsWith('.')) domains.push(entry.slice(1))
    else names.add(entry)
  }
  return { names, domains }
}

/**
 * The host name of a Host header or URL authority (`name`, `name:port`, `[v6]:port`), canonical;
 * undefined when it is malformed (empty, a bad port, brackets that do not hold an IPv6 address).
 */
export function hostOfAuthority(authority: string): string | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{0,5}))?$/.exec(authority)
  if (!m) return undefined
  const name = canonicalHost(m[1]!)
  if (m[1]!.startsWith('[') && isIP(name) !== 6) return undefined
  if (name === '' || (isIP(name) === 0 && !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name))) return undefined
  return name
}

/**
 * Whether a request for `host` may be served: an IP literal (a browser sends one only when the
 * page's own address is that IP, so it cannot be rebound), `localhost`, the bound host, or a name
 * of `allowedHosts`. The port is not compared: a rebinding page already uses the right port, and
 * port forwards (ssh -L) legitimately change it.
 */
export function hostAllowed(rule: HostRule, host: string): boolean {
  if (isIP(host) !== 0 || host === 'localhost' || rule.names.has(host)) return true
  return rule.domains.some((d) => host === d || host.endsWith(`.${d}`))
}

/**
 * The path the routes see and the authority to check. Origin form (`/path?query`) is the usual
 * one; absolute form (`http://host/path`, sent to proxies) carries its own authority, which must
 * pass too. Anything else (`*`, garbage) has no route.
 */
export function targetOf(req: IncomingMessage): { path: string; authority: string | undefined } {
  const url = req.url ?? '/'
  if (url.startsWith('/')) return { path: url.split(/[?#]/, 1)[0]!, authority: undefined }
  if (/^https?:\/\//i.test(url)) {
    const rest = url.slice(url.indexOf('//') + 2)
    const end = rest.search(/[/?#]/)
    const authority = end < 0 ? rest : rest.slice(0, end)
    const path = end < 0 || rest[end] !== '/' ? '/' : rest.slice(end).split(/[?#]/, 1)[0]!
    return { path, authority }
  }
  return { path: url, authority: undefined }
}

/** Whether a request's Host header (and absolute target's authority, if any) names this server. */
export function requestHostAllowed(rule: HostRule, req: IncomingMessage, authority: string | undefined): boolean {
  const names = (a: string) => {
    const h = hostOfAuthority(a)
    return h !== undefined && hostAllowed(rule, h)
  }
  // No Host at all is possible only in HTTP/1.0 (Node refuses an HTTP/1.1 request without one)
  // and never comes from a browser, so it is no rebinding; old health checkers send such requests.
  const header = req.headers.host
  return (header === undefined || names(header)) && (authority === undefined || names(authority))
}
