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
  shape: string | null
  body: string | null
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
// The regex (no surrogate at all, the common case) is several times cheaper than isWellFormed.
const SURROGATE = /[\ud800-\udfff]/
const wellFormed = (s: string): boolean => !SURROGATE.test(s) || (s as unknown as { isWellFormed(): boolean }).isWellFormed()

// Shapes seen by this thread: key list joined by NUL -> [the keys, their JSON]. The keys are
// compared on a hit, so keys that themselves hold NUL can never be mistaken for another shape.
const SHAPE_LIMIT = 10_000
const shapes = new Map<string, { readonly keys: readonly string[]; readonly json: string }>()

function shapeJson(keys: readonly string[]): string {
  const joined = keys.join('\u0000')
  const known = shapes.get(joined)
  if (known !== undefined && known.keys.length === keys.length && known.keys.every((k, i) => k === keys[i])) return known.json
  const json = JSON.stringify(keys)
  if (known === undefined) {
    if (shapes.size >= SHAPE_LIMIT) shapes.clear()
    shapes.set(joined, { keys, json })
  }
  return json
}

/**
 * Splits an event into columns and a body. Reading the row back gives what JSON.parse(JSON.stringify
 * (event)) gives, key order included. Events a split cannot rebuild exactly (a top-level toJSON, an
 * own `__proto__` key) are stored whole, with their columns still set for the indexes.
 * Throws what JSON.stringify throws (cycles, bigints).
 */
export function splitEvent(key: string, event: Record<string, unknown>): SplitEvent {
  const s: Splitting = { shape: null, body: null, type: null, pid: null, module: null, function: null, arity: null, correlationId: null, astNodeId: null, writerId: null, enrichedAt: null, processingOrder: null }
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
  s.shape = shapeJson(shape)
  s.body = restCount === 0 ? null : JSON.stringify(rest)
  return s
}

function whole(key: string, event: Record<string, unknown>, s: Splitting): SplitEvent {
  s.body = JSON.stringify(event)
  // The indexed fields as the columns of a split row would hold them, so queries find it alike.
  for (const k of ['type', 'pid', 'module', 'function', 'arity', 'correlationId', 'astNodeId'] as const) take(s, key, k, event[k])
  s.writerId = null
  s.enrichedAt = null
  s.processingOrder = null
  s.shape = null
  return s
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
  'e.ring_no, e.seq, e.captured_at, e.type, e.pid, e.module, e.function, e.arity, e.correlation, e.ast_node, e.writer, e.enriched_at, e.processing_order, e.shape, e.body'

/** Indexes in a Row of the columns that hold `strings` ids. */
export const ID_COLUMNS: readonly number[] = [3, 4, 5, 6, 8, 9, 10, 13]

export type Row = [
  ringNo: number,
  seq: number,
  capturedAt: number,
  type: number | null,
  pid: number | null,
  module: number | null,
  fn: number | null,
  arity: number | null,
  correlation: number | null,
  astNode: number | null,
  writer: number | null,
  enrichedAt: number | null,
  processingOrder: number | null,
  shape: number | null,
  body: string | null,
]

/** Rebuilds the event of a row of one shape from the row, its parsed body and its key. */
type BuildFn = (row: Row, rest: Record<string, unknown>, key: string, names: Names) => Record<string, unknown>

/** Where each key of a shape is read from (a Row column index, or BODY), and its builder. */
export interface Shape {
  readonly keys: readonly string[]
  readonly sources: Int8Array
  readonly build: BuildFn
}

const BODY = -1
const CORRELATION = 8
const COLUMN_OF = new Map<string, number>([
  ['type', 3], ['pid', 4], ['module', 5], ['function', 6], ['arity', 7], ['correlationId', CORRELATION],
  ['astNodeId', 9], ['writerId', 10], ['enrichedAt', 11], ['processingOrder', 12],
])
// Columns holding dictionary ids (correlation aside: 0 there means the event's own key).
const NAMED = [false, false, false, true, true, true, true, false, false, true, true, false, false]

/** Shapes with more keys than this are assembled key by key instead of by a generated builder. */
const MAX_GENERATED = 64
let codegen = true

/** The read plan of a shape's key list, made once per shape and connection. */
export function shapeOf(keys: readonly string[]): Shape {
  const sources = Int8Array.from(keys, (k) => COLUMN_OF.get(k) ?? BODY)
  return { keys, sources, build: makeBuild(keys, sources) }
}

/** Dictionary lookups a reader needs: id to string, and id to a shape. */
export interface Names {
  nameOf(id: number): string
  shapeOf(id: number): Shape
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>

/** Rebuilds the event of a row whose key is `key`, key order included. */
export function joinEvent(row: Row, key: string, names: Names): Record<string, unknown> {
  const body = row[14]
  if (row[13] === null) return JSON.parse(body as string) as Record<string, unknown>
  const rest = body === null ? EMPTY : (JSON.parse(body) as Record<string, unknown>)
  return names.shapeOf(row[13]).build(row, rest, key, names)
}

/** The event of a row, one key at a time: for shapes without a generated builder. */
function assemble(keys: readonly string[], sources: Int8Array, row: Row, rest: Record<string, unknown>, key: string, names: Names): Record<string, unknown> {
  const event: Record<string, unknown> = {}
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string
    const src = sources[i] as number
    // A column field is in the body too when the column could not hold it exactly (or when it
    // is not of the column's type); every other field is only there.
    const inBody = rest[k]
    if (src === BODY || inBody !== undefined) {
      event[k] = inBody
      continue
    }
    const v = row[src] as number
    event[k] = src === CORRELATION ? (v === OWN_KEY_ID ? key : names.nameOf(v)) : NAMED[src] === true ? names.nameOf(v) : v
  }
  return event
}

/**
 * A shape's builder: one object literal with the keys in the shape's order, so V8 allocates the
 * event at its final layout from a boilerplate instead of adding its properties one by one (as
 * the ring codec's decoder does, core-ringbuffer/src/codec/decode-shapes.ts). A column field
 * takes the body's value when the body has one, as assemble() does.
 */
function makeBuild(keys: readonly string[], sources: Int8Array): BuildFn {
  const assembled: BuildFn = (row, rest, key, names) => assemble(keys, sources, row, rest, key, names)
  if (!codegen || keys.length > MAX_GENERATED || keys.includes('__proto__')) return assembled
  const members = keys.map((k, i) => {
    // JSON.stringify makes a safe string literal of any key; "__proto__" never gets here.
    const q = JSON.stringify(k)
    const src = sources[i] as number
    if (src === BODY) return `${q}: b[${q}]`
    const column =
      src === CORRELATION ? `r[${src}] === ${OWN_KEY_ID} ? key : names.nameOf(r[${src}])` : NAMED[src] === true ? `names.nameOf(r[${src}])` : `r[${src}]`
    return `${q}: (v = b[${q}]) !== undefined ? v : ${column}`
  })
  try {
    return new Function(`return function build(r, b, key, names) { let v; return { ${members.join(', ')} } }`)() as BuildFn
  } catch {
    codegen = false // code generation from strings is disallowed in this process
    return assembled
  }
}
