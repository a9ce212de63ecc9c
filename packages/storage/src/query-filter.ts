// The query filter: an all-optional type and one resolve step that checks a field at a time and
// throws StoreFilterError naming it (piscina's option shape). Adapters only ever see the resolved
// filter, so every adapter accepts and refuses exactly the same filters.

import { StoreFilterError, describeValue } from './errors.js'

/** What `query` can filter by. Every given field must match (AND). */
export interface QueryFilter {
  /** Events whose `pid` equals this. */
  readonly pid?: string
  /** Events whose `type` equals this. */
  readonly type?: string
  /** Events captured at or after this time (ms since the epoch, inclusive). */
  readonly since?: number
  /** Events captured at or before this time (ms since the epoch, inclusive). */
  readonly until?: number
  readonly correlationId?: string
  readonly astNodeId?: string
  readonly module?: string
  readonly function?: string
  /** An integer from 0. */
  readonly arity?: number
  /** Most events to return; an integer from 0. Defaults to no limit. */
  readonly limit?: number
  /** By capture time: `asc` (oldest first) or `desc`. Defaults to `asc`. */
  readonly order?: 'asc' | 'desc'
}

/** A filter after defaults and validation. Absent fields are `undefined`. */
export interface ResolvedQueryFilter {
  readonly pid: string | undefined
  readonly type: string | undefined
  readonly since: number | undefined
  readonly until: number | undefined
  readonly correlationId: string | undefined
  readonly astNodeId: string | undefined
  readonly module: string | undefined
  readonly function: string | undefined
  readonly arity: number | undefined
  readonly limit: number | undefined
  readonly order: 'asc' | 'desc'
}

const STRING_FIELDS = ['pid', 'type', 'correlationId', 'astNodeId', 'module', 'function'] as const
const KNOWN = new Set<string>([...STRING_FIELDS, 'since', 'until', 'arity', 'limit', 'order'])

function stringField(o: Record<string, unknown>, name: string): string | undefined {
  const v = o[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new StoreFilterError(name, `filter '${name}' must be a string, got ${describeValue(v)}`)
  return v
}

function timeField(o: Record<string, unknown>, name: string): number | undefined {
  const v = o[name]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new StoreFilterError(name, `filter '${name}' must be a finite number (ms since the epoch), got ${describeValue(v)}`)
  }
  return v
}

function countField(o: Record<string, unknown>, name: string): number | undefined {
  const v = o[name]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new StoreFilterError(name, `filter '${name}' must be an integer from 0, got ${describeValue(v)}`)
  }
  return v
}

/** Validates a filter; throws StoreFilterError naming the first bad field (unknown fields included). */
export function resolveQueryFilter(filter: unknown): ResolvedQueryFilter {
  if (filter === undefined) filter = {}
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new StoreFilterError('filter', `filter must be an object, got ${describeValue(filter)}`)
  }
  const o = filter as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new StoreFilterError(key, `unknown filter field '${key}'`)
  }
  const order = o.order ?? 'asc'
  if (order !== 'asc' && order !== 'desc') {
    throw new StoreFilterError('order', `filter 'order' must be 'asc' or 'desc', got ${describeValue(order)}`)
  }
  return {
    pid: stringField(o, 'pid'),
    type: stringField(o, 'type'),
    since: timeField(o, 'since'),
    until: timeField(o, 'until'),
    correlationId: stringField(o, 'correlationId'),
    astNodeId: stringField(o, 'astNodeId'),
    module: stringField(o, 'module'),
    function: stringField(o, 'function'),
    arity: countField(o, 'arity'),
    limit: countField(o, 'limit'),
    order,
  }
}

/** Validates `listDeadLetters` options; the limit is the only one. */
export function resolveListLimit(options: unknown): number | undefined {
  if (options === undefined) return undefined
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new StoreFilterError('options', `options must be an object, got ${describeValue(options)}`)
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (key !== 'limit') throw new StoreFilterError(key, `unknown option '${key}'`)
  }
  return countField(o, 'limit')
}

/** Checks the `time` argument of `deleteOlderThan`. */
export function checkTime(time: unknown): number {
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new StoreFilterError('time', `'time' must be a finite number (ms since the epoch), got ${describeValue(time)}`)
  }
  return time
}
