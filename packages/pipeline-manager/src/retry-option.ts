// The `retry` option: the store retry policy of every writer (see @ringside/async-writer's
// RetryPolicy), resolved one field at a time with its option path. `null` turns it off again in
// updateConfig: unlimited retries while the ring absorbs, the default.

import type { RetryPolicy } from '@ringside/async-writer'
import { bad, integer, onlyKnownKeys, record } from './option-checks.js'

/** What a user gives as `retry`: every field optional. */
export type RetryOption = Partial<Pick<RetryPolicy, 'maxAttempts' | 'baseMs' | 'maxMs' | 'multiplier'>> & Pick<RetryPolicy, 'shouldRetry'>

/** Keys of the `retry` option. */
export const RETRY_KEYS: ReadonlySet<string> = new Set(['maxAttempts', 'baseMs', 'maxMs', 'multiplier', 'shouldRetry'])

/**
 * Resolves `retry`; missing `baseMs` / `maxMs` come from the config's `retryBaseMs` / `retryMaxMs`,
 * a missing `multiplier` is 2 (today's doubling), a missing `maxAttempts` is unlimited.
 */
export function resolveRetry(v: unknown, base: { readonly retryBaseMs: number; readonly retryMaxMs: number }): RetryPolicy | undefined {
  if (v === null) return undefined
  const r = record('retry', v)
  onlyKnownKeys(r, RETRY_KEYS, 'retry.')
  const has = (k: string) => Object.hasOwn(r, k) && r[k] !== undefined
  const baseMs = has('baseMs') ? integer('retry.baseMs', r.baseMs, 0, 600_000) : base.retryBaseMs
  const maxMs = has('maxMs') ? integer('retry.maxMs', r.maxMs, 0, 600_000) : Math.max(base.retryMaxMs, baseMs)
  if (maxMs < baseMs) bad('retry.maxMs', `at least retry.baseMs (${baseMs})`, maxMs)
  let multiplier = 2
  if (has('multiplier')) {
    if (typeof r.multiplier !== 'number' || !(r.multiplier >= 1 && r.multiplier <= 100)) bad('retry.multiplier', 'a number from 1 to 100', r.multiplier)
    multiplier = r.multiplier as number
  }
  const out: { -readonly [K in keyof RetryPolicy]: RetryPolicy[K] } = { baseMs, maxMs, multiplier }
  if (has('maxAttempts')) out.maxAttempts = integer('retry.maxAttempts', r.maxAttempts, 1, 1_000_000)
  if (has('shouldRetry')) {
    const f = record('retry.shouldRetry', r.shouldRetry)
    const keys = Object.keys(f)
    if (keys.length !== 1 || (keys[0] !== 'codes' && keys[0] !== 'exceptCodes')) bad('retry.shouldRetry', '{ codes: [...] } or { exceptCodes: [...] }', f)
    const key = keys[0] as 'codes' | 'exceptCodes'
    const list = f[key]
    if (!Array.isArray(list) || !list.every((c) => typeof c === 'string' && c !== '')) bad(`retry.shouldRetry.${key}`, 'an array of non-empty error codes', list)
    const codes = Object.freeze([...(list as string[])])
    out.shouldRetry = Object.freeze(key === 'codes' ? { codes } : { exceptCodes: codes })
  }
  return Object.freeze(out)
}
