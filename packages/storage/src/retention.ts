// Retention: the `retention` option of a store spec (how old, how many, how many bytes a store may
// keep), its resolve step, and the shapes of `applyRetention`, which removes what is past a limit
// one small chunk at a time so the writers sharing the store never wait long for it.

import { StoreSpecError, describeValue } from './errors.js'

/** Limits a store keeps itself within while a pipeline runs; every field is optional (absent: no limit). */
export interface RetentionPolicy {
  /** Events captured longer ago than this are removed, in ms; an integer from 1 to 2^53-1. */
  readonly maxAgeMs?: number
  /** Most events kept; the oldest (by capture time) beyond it are removed. An integer from 0 to 2^53-1. */
  readonly maxEvents?: number
  /**
   * Most bytes the events may fill: SQLite counts the database pages in use, PostgreSQL the
   * events table with its indexes and TOAST, JetStream the stream's bytes. The oldest events
   * beyond it are removed. An integer from 1 to 2^53-1.
   */
  readonly maxBytes?: number
  /** Most dead letters kept; the oldest (by when they were stored) beyond it are removed. An integer from 0 to 2^53-1. */
  readonly maxDeadLetters?: number
}

/** A policy after validation: the same fields, frozen; `undefined` when no limit is set. */
export type ResolvedRetention = Readonly<RetentionPolicy>

/** How much one `applyRetention` call may do. */
export interface RetentionBudget {
  /** Most rows removed in one transaction (events and dead letters each). Defaults to 1000. */
  readonly maxRows?: number
  /** Most free pages a SQLite store hands back to the file system in one step. Defaults to 256 (1 MiB of 4 KiB pages). */
  readonly maxVacuumPages?: number
}

/** What one `applyRetention` call removed. */
export interface RetentionResult {
  /** Events removed. */
  readonly events: number
  /** Dead letters removed. */
  readonly deadLetters: number
  /** Free pages handed back to the file system (SQLite with `auto_vacuum = INCREMENTAL`; otherwise 0). */
  readonly vacuumedPages: number
  /** True when a limit is still exceeded (or free pages remain): call again soon. */
  readonly more: boolean
}

/** Defaults of RetentionBudget. */
export const RETENTION_BUDGET_DEFAULTS: Required<RetentionBudget> = Object.freeze({ maxRows: 1000, maxVacuumPages: 256 })

const LIMITS = {
  maxAgeMs: 1,
  maxEvents: 0,
  maxBytes: 1,
  maxDeadLetters: 0,
} as const

/**
 * Validates the `retention` field of a spec (`kind` names the store in messages); returns
 * undefined when it is absent. Throws StoreSpecError whose `field` is the option path, e.g.
 * `retention.maxEvents`.
 */
export function resolveRetention(value: unknown, kind: string, allowed: readonly (keyof RetentionPolicy)[] = Object.keys(LIMITS) as (keyof RetentionPolicy)[]): ResolvedRetention | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StoreSpecError('invalid_spec', 'retention', `${kind} option 'retention' must be an object, got ${describeValue(value)}`)
  }
  const o = value as Record<string, unknown>
  const out: Record<string, number> = {}
  for (const key of Object.keys(o)) {
    if (!(key in LIMITS)) throw new StoreSpecError('invalid_spec', `retention.${key}`, `unknown ${kind} option 'retention.${key}'`)
    if (!allowed.includes(key as keyof RetentionPolicy)) {
      throw new StoreSpecError('invalid_spec', `retention.${key}`, `${kind} option 'retention.${key}' is not supported by this store`)
    }
    const v = o[key]
    if (v === undefined) continue
    const min = LIMITS[key as keyof typeof LIMITS]
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new StoreSpecError('invalid_spec', `retention.${key}`, `${kind} option 'retention.${key}' must be an integer from ${min} to 2^53-1, got ${describeValue(v)}`)
    }
    out[key] = v
  }
  return Object.freeze(out)
}

/** The budget with defaults applied; a bad field is a RangeError naming it. */
export function resolveRetentionBudget(budget: RetentionBudget | undefined): Required<RetentionBudget> {
  const b = { ...RETENTION_BUDGET_DEFAULTS, ...budget }
  for (const key of ['maxRows', 'maxVacuumPages'] as const) {
    const v = b[key]
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`retention budget '${key}' must be an integer from 1, got ${describeValue(v)}`)
  }
  return b
}

/** True when the policy sets any limit. */
export function hasLimits(policy: ResolvedRetention | undefined): policy is ResolvedRetention {
  return policy !== undefined && Object.values(policy).some((v) => v !== undefined)
}
