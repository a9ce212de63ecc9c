// The checks every adapter runs on dead letters before keeping them. A dead letter is evidence:
// its event may be the very one that failed to serialize, so its body is written leniently.

import { StoreRecordError, describeValue } from './errors.js'
import type { DeadLetter, DeadLetterInput } from './event-store.js'
import { lenientJson } from './event-record.js'

/** A dead letter after its checks, ready for an adapter to keep. */
export interface CheckedDeadLetter {
  readonly key: string
  readonly ringId: string
  readonly seq: number
  readonly capturedAt: number
  readonly body: string
  readonly error: string
  readonly attempts: number
  readonly reason: string | undefined
}

/** Checks one dead letter; throws StoreRecordError naming its index and field. */
export function checkDeadLetter(item: unknown, index: number): CheckedDeadLetter {
  if (item === null || typeof item !== 'object') {
    throw new StoreRecordError(index, 'item', `dead letter ${index} must be an object, got ${describeValue(item)}`)
  }
  const d = item as Partial<Record<keyof DeadLetterInput, unknown>>
  const r = d.record as Record<string, unknown> | null | undefined
  if (r === null || typeof r !== 'object') {
    throw new StoreRecordError(index, 'record', `dead letter ${index}: 'record' must be an object, got ${describeValue(r)}`)
  }
  const { key, ringId, seq, capturedAt } = r
  if (typeof key !== 'string' || key.length === 0) {
    throw new StoreRecordError(index, 'record.key', `dead letter ${index}: 'record.key' must be a non-empty string, got ${describeValue(key)}`)
  }
  if (typeof ringId !== 'string') {
    throw new StoreRecordError(index, 'record.ringId', `dead letter ${index}: 'record.ringId' must be a string, got ${describeValue(ringId)}`)
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) {
    throw new StoreRecordError(index, 'record.seq', `dead letter ${index}: 'record.seq' must be an integer, got ${describeValue(seq)}`)
  }
  if (typeof capturedAt !== 'number' || !Number.isFinite(capturedAt)) {
    throw new StoreRecordError(index, 'record.capturedAt', `dead letter ${index}: 'record.capturedAt' must be a finite number, got ${describeValue(capturedAt)}`)
  }
  if (typeof d.error !== 'string') {
    throw new StoreRecordError(index, 'error', `dead letter ${index}: 'error' must be a string, got ${describeValue(d.error)}`)
  }
  if (typeof d.attempts !== 'number' || !Number.isSafeInteger(d.attempts) || d.attempts < 0) {
    throw new StoreRecordError(index, 'attempts', `dead letter ${index}: 'attempts' must be an integer from 0, got ${describeValue(d.attempts)}`)
  }
  if (d.reason !== undefined && typeof d.reason !== 'string') {
    throw new StoreRecordError(index, 'reason', `dead letter ${index}: 'reason' must be a string, got ${describeValue(d.reason)}`)
  }
  return {
    key,
    ringId,
    seq,
    capturedAt,
    body: lenientJson(r.event ?? null),
    error: d.error,
    attempts: d.attempts,
    reason: d.reason,
  }
}

/** Checks a whole list of dead letters before anything is kept. */
export function checkDeadLetters(items: unknown): CheckedDeadLetter[] {
  if (!Array.isArray(items)) {
    throw new StoreRecordError(-1, 'items', `dead letters must be an array, got ${describeValue(items)}`)
  }
  return items.map((item: unknown, i) => checkDeadLetter(item, i))
}

/** Rebuilds the public shape of a stored dead letter. */
export function deadLetterOf(row: CheckedDeadLetter, storedAt: number): DeadLetter {
  const parsed: unknown = JSON.parse(row.body)
  const event = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed }
  const record = { key: row.key, ringId: row.ringId, seq: row.seq, capturedAt: row.capturedAt, event }
  return row.reason === undefined
    ? { record, error: row.error, attempts: row.attempts, storedAt }
    : { record, error: row.error, attempts: row.attempts, reason: row.reason, storedAt }
}
