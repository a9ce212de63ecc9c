// The record a writer hands a store, the indexed fields a store takes out of its body, and the
// checks every adapter runs on a batch before writing it (so adapters refuse the same records).

import { StoreRecordError, describeValue } from './errors.js'

/** One enriched event as a writer hands it to a store and a query returns it. */
export interface EventRecord {
  /** `${ringId}:${seq}`: the idempotency key. */
  readonly key: string
  readonly ringId: string
  /** Sequence number in the ring: an integer from 0 to 2^53 - 1. */
  readonly seq: number
  /** Capture time in ms since the epoch (fractional); time-range filters and `order` use it. */
  readonly capturedAt: number
  /** The enriched body: every field the app wrote plus `writerId`, `enrichedAt`, `processingOrder`, `correlationId`. */
  readonly event: Record<string, unknown>
}

/**
 * The fields of an event body a store indexes. Each is taken only when it has the right type
 * (`arity` must be an integer); otherwise it is absent (`null`), as ElixirScope's storage treats them.
 */
export interface IndexedFields {
  readonly type: string | null
  readonly pid: string | null
  readonly module: string | null
  readonly function: string | null
  readonly arity: number | null
  readonly correlationId: string | null
  readonly astNodeId: string | null
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** Takes the indexed fields out of an event body. */
export function indexedFields(event: Record<string, unknown>): IndexedFields {
  const arity = event.arity
  return {
    type: str(event.type),
    pid: str(event.pid),
    module: str(event.module),
    function: str(event.function),
    arity: typeof arity === 'number' && Number.isInteger(arity) ? arity : null,
    correlationId: str(event.correlationId),
    astNodeId: str(event.astNodeId),
  }
}

/**
 * Checks one record of a batch and returns its body as JSON. Throws StoreRecordError naming the
 * record's index and field; the key must be exactly `${ringId}:${seq}` so that a key alone
 * (`getEvent`) and the pair (the stores' unique index) can never disagree.
 */
export function checkRecord(record: unknown, index: number): string {
  const event = checkRecordFields(record, index)
  return serializeEvent(() => JSON.stringify(event), index)
}

/**
 * Runs `serialize` (which stringifies record `index`'s event, whole or in parts), turning what
 * JSON.stringify throws (cycles, bigints) into the StoreRecordError checkRecord throws.
 */
export function serializeEvent<T>(serialize: () => T, index: number): T {
  try {
    return serialize()
  } catch (cause) {
    throw new StoreRecordError(index, 'event', `record ${index}: 'event' cannot be serialized as JSON: ${String(cause)}`, { cause })
  }
}

/** Every check of checkRecord but serializing the event; returns the event. */
export function checkRecordFields(record: unknown, index: number): Record<string, unknown> {
  if (record === null || typeof record !== 'object') {
    throw new StoreRecordError(index, 'record', `record ${index} must be an object, got ${describeValue(record)}`)
  }
  const r = record as Record<string, unknown>
  const { ringId, seq, key, capturedAt, event } = r
  if (typeof ringId !== 'string' || ringId.length === 0) {
    throw new StoreRecordError(index, 'ringId', `record ${index}: 'ringId' must be a non-empty string, got ${describeValue(ringId)}`)
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new StoreRecordError(index, 'seq', `record ${index}: 'seq' must be an integer from 0 to 2^53-1, got ${describeValue(seq)}`)
  }
  if (typeof key !== 'string' || key !== `${ringId}:${seq}`) {
    throw new StoreRecordError(index, 'key', `record ${index}: 'key' must be '${ringId}:${seq}', got ${describeValue(key)}`)
  }
  if (typeof capturedAt !== 'number' || !Number.isFinite(capturedAt)) {
    throw new StoreRecordError(index, 'capturedAt', `record ${index}: 'capturedAt' must be a finite number, got ${describeValue(capturedAt)}`)
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new StoreRecordError(index, 'event', `record ${index}: 'event' must be an object, got ${describeValue(event)}`)
  }
  return event as Record<string, unknown>
}

/** Checks a whole batch before anything is written and returns each record's body as JSON. */
export function checkBatch(batch: unknown): string[] {
  if (!Array.isArray(batch)) {
    throw new StoreRecordError(-1, 'batch', `a batch must be an array of records, got ${describeValue(batch)}`)
  }
  const bodies = new Array<string>(batch.length)
  for (let i = 0; i < batch.length; i++) bodies[i] = checkRecord(batch[i], i)
  return bodies
}

/**
 * JSON for a dead letter's body, which may be the very event that could not be serialized:
 * bigints become strings and cycles become '[Circular]' so the evidence is kept, not lost.
 */
export function lenientJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch {
    const seen = new WeakSet<object>()
    return JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`
      if (v !== null && typeof v === 'object') {
        if (seen.has(v)) return '[Circular]'
        seen.add(v)
      }
      return v
    })
  }
}

/** Splits an event key into its ring id and sequence number; undefined when it is not a key. */
export function parseKey(key: string): { ringId: string; seq: number } | undefined {
  const at = key.lastIndexOf(':')
  if (at <= 0) return undefined
  const tail = key.slice(at + 1)
  if (!/^(0|[1-9]\d*)$/.test(tail)) return undefined
  const seq = Number(tail)
  if (!Number.isSafeInteger(seq)) return undefined
  return { ringId: key.slice(0, at), seq }
}
