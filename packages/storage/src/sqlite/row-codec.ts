// How an event is laid out in a row of `events` (schema version 3) and rebuilt from it. The fields
// every event carries (type, pid, module, function, arity, astNodeId, correlationId, and the
// writer's writerId, enrichedAt, processingOrder) live in columns only, strings as ids of the
// `strings` dictionary; the body holds the other fields; `shape` names the key order.

/** A string field held in a column as a `strings` id. */
type StringField = 'type' | 'pid' | 'module' | 'function' | 'astNodeId' | 'writerId'

/**
 * One event split for its row, before its strings are interned (that needs the write lock; this
 * does not, so writer threads do it in parallel). `null` is SQL NULL.
 */
export interface SplitEvent {
  readonly type: string | null
  readonly pid: string | null
  readonly module: string | null
  readonly function: string | null
  readonly arity: number | null
  /** The correlation id, or OWN_KEY when it is the event's own key (the writer's fallback). */
  readonly correlationId: string | typeof OWN_KEY | null
  readonly astNodeId: string | null
  readonly writerId: string | null
  readonly enrichedAt: number | null
  readonly processingOrder: number | null
  /** JSON array of the event's keys in order; null for a row whose body is the whole event. */
  readonly shape: string | null
  /** JSON of the fields not held in columns (null: none), or the whole event when `shape` is null. */
  readonly body: string | null
}

/** Marks a correlation id equal to the event's key: stored as `correlation = 0`, not as a string. */
export const OWN_KEY = Symbol('own key')

/** `correlation` column value for "the event's own key". Dictionary ids start at 1. */
export const OWN_KEY_ID = 0

interface Splitting {
  type: string | null
  pid: string | null
  module: string | null
  function: string | null
  arity: number | null
  correlationId: string | typeof OWN_KEY | null
  astNodeId: string | null
  writerId: string | null
  enrichedAt: number | null
  processingOrder: number | null
}

// A string with a lone surrogate cannot be stored as TEXT unchanged (SQLite keeps UTF-8, and the
// driver replaces it with U+FFFD), so such a value is indexed as today and also kept in the body.
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

/**
 * Splits an event into columns and a body. Reading the row back gives what JSON.parse(JSON.stringify
 * (event)) gives, key order included. Events a split cannot rebuild exactly (a top-level toJSON, an
 * own `__proto__` key) are stored whole, with their columns still set for the indexes.
 * Throws what JSON.stringify throws (cycles, bigints).
 */
export function splitEvent(key: string, event: Record<string, unknown>): SplitEvent {
  const s: Splitting = { type: null, pid: null, module: null, function: null, arity: null, correlationId: null, astNodeId: null, writerId: null, enrichedAt: null, processingOrder: null }
  if (typeof event.toJSON === 'function') return whole(key, event, s)
  const keys = Object.keys(event)
  const shape: string[] = []
  const rest: Record<string, unknown> = {}
  let restCount = 0
  for (const k of keys) {
    const v = event[k]
    // JSON.stringify leaves these keys out; so does the row.
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue
    if (k === '__proto__') return whole(key, event, s)
    shape.push(k)
    if (take(s, key, k, v)) continue
    rest[k] = v
    restCount++
  }
  return { ...s, shape: JSON.stringify(shape), body: restCount === 0 ? null : JSON.stringify(rest) }
}

function whole(key: string, event: Record<string, unknown>, s: Splitting): SplitEvent {
  const body = JSON.stringify(event)
  // The indexed fields as the columns of a split row would hold them, so queries find it alike.
  for (const k of ['type', 'pid', 'module', 'function', 'arity', 'correlationId', 'astNodeId'] as const) take(s, key, k, event[k])
  return { ...s, writerId: null, enrichedAt: null, processingOrder: null, shape: null, body }
}

/** Puts a column field's value into `s`; true when the column alone holds it exactly. */
function take(s: Splitting, key: string, k: string, v: unknown): boolean {
  switch (k) {
    case 'type':
    case 'pid':
    case 'module':
    case 'function':
    case 'astNodeId':
    case 'writerId':
      if (typeof v !== 'string') return false
      s[k as StringField] = v
      return wellFormed(v)
    case 'correlationId':
      if (v === key) {
        s.correlationId = OWN_KEY
        return true
      }
      if (typeof v !== 'string') return false
      s.correlationId = v
      return wellFormed(v)
    case 'arity':
    case 'processingOrder':
      if (typeof v !== 'number' || !Number.isInteger(v)) return false
      s[k] = v
      // Beyond 2^53 the driver's integer binding is not exact; the body keeps the number.
      return Number.isSafeInteger(v)
    case 'enrichedAt':
      if (typeof v !== 'number' || !Number.isFinite(v)) return false
      s.enrichedAt = v
      return true
    default:
      return false
  }
}

/** A row as the read statements return it (raw arrays, in this column order). */
export const ROW_COLUMNS =
  'r.ring_id, e.seq, e.captured_at, e.type, e.pid, e.module, e.function, e.arity, e.correlation, c.s, a.s, e.writer, e.enriched_at, e.processing_order, e.shape, e.body'

export type Row = [
  ringId: string,
  seq: number,
  capturedAt: number,
  type: number | null,
  pid: number | null,
  module: number | null,
  fn: number | null,
  arity: number | null,
  correlation: number | null,
  correlationText: string | null,
  astNodeText: string | null,
  writer: number | null,
  enrichedAt: number | null,
  processingOrder: number | null,
  shape: number | null,
  body: string | null,
]

/** Dictionary lookups a reader needs: id to string, and id to a parsed shape. */
export interface Names {
  nameOf(id: number): string
  shapeOf(id: number): readonly string[]
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>

/** Rebuilds the event of a row, key order included. */
export function joinEvent(row: Row, names: Names): Record<string, unknown> {
  const body = row[15]
  if (row[14] === null) return JSON.parse(body as string) as Record<string, unknown>
  const rest = body === null ? EMPTY : (JSON.parse(body) as Record<string, unknown>)
  const event: Record<string, unknown> = {}
  for (const k of names.shapeOf(row[14])) {
    // A column field is in the body too when the column could not hold it exactly (or when it
    // is not of the column's type); every other field is only there.
    const inBody = rest[k]
    if (inBody !== undefined) {
      event[k] = inBody
      continue
    }
    switch (k) {
      case 'type':
        event.type = names.nameOf(row[3] as number)
        break
      case 'pid':
        event.pid = names.nameOf(row[4] as number)
        break
      case 'module':
        event.module = names.nameOf(row[5] as number)
        break
      case 'function':
        event.function = names.nameOf(row[6] as number)
        break
      case 'arity':
        event.arity = row[7]
        break
      case 'correlationId':
        event.correlationId = row[8] === OWN_KEY_ID ? `${row[0]}:${row[1]}` : row[9]
        break
      case 'astNodeId':
        event.astNodeId = row[10]
        break
      case 'writerId':
        event.writerId = names.nameOf(row[11] as number)
        break
      case 'enrichedAt':
        event.enrichedAt = row[12]
        break
      case 'processingOrder':
        event.processingOrder = row[13]
        break
    }
  }
  return event
}
