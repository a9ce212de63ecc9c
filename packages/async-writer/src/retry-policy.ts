// The store retry policy: how long a writer waits between attempts of a failing batch, and when it
// stops trying and sends the batch to the dead letters (`retries_exhausted`). Pure functions of the
// policy, the attempt count and the error, so the schedule and the decision are table-tested.

/**
 * Which transient store errors are worth retrying, by the error's `code` (plain data, so it crosses
 * into writer threads and is checked at config time; see the README's "Retry policy").
 * `codes`: only these are retried; `exceptCodes`: all but these.
 */
export type RetryFilter = { readonly codes: readonly string[] } | { readonly exceptCodes: readonly string[] }

/** How a writer retries a batch the store failed transiently. */
export interface RetryPolicy {
  /** Store attempts of one batch (the first included) before it goes to the dead letters. Absent: unlimited. */
  readonly maxAttempts?: number
  /** Cap of the first delay, ms. */
  readonly baseMs: number
  /** Largest cap of a delay, ms. */
  readonly maxMs: number
  /** Growth of the cap per attempt (2 doubles it; 1 keeps it flat). */
  readonly multiplier: number
  /** Which errors are retried; absent: every transient error. */
  readonly shouldRetry?: RetryFilter
}

/** The policy in force when none is set: unlimited attempts, doubling from `retryBaseMs` up to `retryMaxMs`. */
export function effectiveRetry(config: { readonly retry?: RetryPolicy | undefined; readonly retryBaseMs: number; readonly retryMaxMs: number }): RetryPolicy {
  return config.retry ?? { baseMs: config.retryBaseMs, maxMs: config.retryMaxMs, multiplier: 2 }
}

/** The cap of the delay before attempt `attempt + 1`, after `attempt` failures (1-based): min(maxMs, baseMs × multiplier^(attempt-1)). */
export function backoffCapMs(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs' | 'multiplier'>): number {
  // The exponent is bounded so a long outage cannot overflow to Infinity × 0 = NaN with baseMs 0.
  const grown = policy.baseMs * policy.multiplier ** Math.min(Math.max(attempt - 1, 0), 64)
  return Math.min(policy.maxMs, grown)
}

/** Full jitter (as before the policy existed): a uniform delay in [0, cap). `random` is injectable for tests. */
export function backoffDelayMs(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs' | 'multiplier'>, random: () => number = Math.random): number {
  return random() * backoffCapMs(attempt, policy)
}

/** The verdict on one failed attempt: retry, or give the batch up (why, for the dead letter's error). */
export type RetryDecision = { readonly retry: true } | { readonly retry: false; readonly why: string }

const codeOf = (err: unknown): string | undefined => {
  const c = (err as { code?: unknown } | null)?.code
  return typeof c === 'string' ? c : undefined
}

/**
 * After `attempts` store attempts of a batch, the last failing with the transient error `err`:
 * the filter first (a refused code gives up at once), then the attempt budget.
 */
export function retryDecision(err: unknown, attempts: number, policy: RetryPolicy): RetryDecision {
  const f = policy.shouldRetry
  if (f !== undefined) {
    const code = codeOf(err)
    const allowed = 'codes' in f ? code !== undefined && f.codes.includes(code) : code === undefined || !f.exceptCodes.includes(code)
    if (!allowed) return { retry: false, why: `not retried: shouldRetry refuses code ${code ?? '(none)'}` }
  }
  if (policy.maxAttempts !== undefined && attempts >= policy.maxAttempts) return { retry: false, why: `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} (retry.maxAttempts ${policy.maxAttempts})` }
  return { retry: true }
}

/** Why a retry policy is malformed, naming the path under `at`; undefined when it is fine. */
export function checkRetryPolicy(v: unknown, at = 'retry'): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return `${at} must be an object`
  const p = v as Record<string, unknown>
  for (const k of Object.keys(p)) if (!['maxAttempts', 'baseMs', 'maxMs', 'multiplier', 'shouldRetry'].includes(k)) return `unknown key ${at}.${k}`
  const num = (k: string, min: number, integer: boolean) => {
    const x = p[k]
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || (integer && !Number.isInteger(x))) return `${at}.${k} must be ${integer ? 'an integer' : 'a number'} >= ${min}`
    return undefined
  }
  const problem =
    (p.maxAttempts === undefined ? undefined : num('maxAttempts', 1, true)) ?? num('baseMs', 0, false) ?? num('maxMs', 0, false) ?? num('multiplier', 1, false)
  if (problem !== undefined) return problem
  if ((p.maxMs as number) < (p.baseMs as number)) return `${at}.maxMs must be at least ${at}.baseMs`
  const f = p.shouldRetry
  if (f === undefined) return undefined
  if (f === null || typeof f !== 'object') return `${at}.shouldRetry must be { codes } or { exceptCodes }`
  const keys = Object.keys(f)
  const key = keys[0]
  if (keys.length !== 1 || (key !== 'codes' && key !== 'exceptCodes')) return `${at}.shouldRetry must have exactly one key: codes or exceptCodes`
  const list = (f as Record<string, unknown>)[key]
  if (!Array.isArray(list) || !list.every((c) => typeof c === 'string' && c !== '')) return `${at}.shouldRetry.${key} must be an array of non-empty error codes`
  return undefined
}
