// The small checks every option resolver shares. Each throws PipelineConfigError (`invalid_option`)
// naming the option's path, what it must be and what came instead. Only own properties count as
// options: a name every object inherits (constructor, toString, __proto__) is never one.

import { PipelineConfigError } from './errors.js'

/** A short, safe description of a value for an error message (never the content of an object; long strings cut). */
export const describeValue = (v: unknown): string =>
  typeof v === 'string' ? (v.length > 64 ? `${JSON.stringify(v.slice(0, 64))}... (${v.length} characters)` : JSON.stringify(v)) : typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? 'a function' : v === null || typeof v !== 'object' ? String(v) : Array.isArray(v) ? 'an array' : 'an object'

/** Throws PipelineConfigError `invalid_option` for `option`. */
export const bad = (option: string, want: string, got: unknown): never => {
  throw new PipelineConfigError('invalid_option', option, `option '${option}' must be ${want}, got ${describeValue(got)}`)
}

export function integer(option: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(option, `an integer from ${min} to ${max}`, v)
  return v as number
}

export function fraction(option: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) bad(option, 'a number in (0, 1]', v)
  return v as number
}

export function oneOf<T extends string>(option: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) bad(option, `one of ${allowed.join(', ')}`, v)
  return v as T
}

export function boolean(option: string, v: unknown): boolean {
  if (typeof v !== 'boolean') bad(option, 'a boolean', v)
  return v as boolean
}

/** `v` as a plain record of options, or `invalid_option` for `option`. */
export function record(option: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(option, 'an object', v)
  return v as Record<string, unknown>
}

/** Whether `o` has its own `key` with a value other than undefined; inherited properties are not options. */
export const given = (o: Record<string, unknown>, key: string): boolean => Object.hasOwn(o, key) && o[key] !== undefined

/**
 * Refuses the first own key of `o` that `known` does not list, as an unknown option named by its
 * path (`prefix` is the group, e.g. `breaker.`). Checked against a Set, never with `in`, which
 * would find inherited names.
 */
export function onlyKnownKeys(o: Record<string, unknown>, known: ReadonlySet<string>, prefix = ''): void {
  for (const key of Object.keys(o)) {
    if (!known.has(key)) throw new PipelineConfigError('invalid_option', `${prefix}${key}`, `unknown option '${prefix}${key}'`)
  }
}

/**
 * A bearer token: a non-empty string without whitespace. The error never echoes the value, a secret
 * even when malformed.
 */
export function secret(option: string, v: unknown): string {
  if (typeof v !== 'string' || v === '' || /\s/.test(v)) {
    const got = typeof v === 'string' ? 'a string that is not' : describeValue(v)
    throw new PipelineConfigError('invalid_option', option, `option '${option}' must be a non-empty string without whitespace, got ${got}`)
  }
  return v
}
