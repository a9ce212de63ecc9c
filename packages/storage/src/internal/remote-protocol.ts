// The wire protocol between serveStore and RemoteStore: a small discriminated union posted over a
// MessagePort, and the codec that carries a typed error across it so the client re-throws the
// same class with the same `code`, `transient` and field.

import {
  RemoteStoreTimeoutError,
  StoreError,
  StoreFilterError,
  StoreOpenError,
  StoreRecordError,
  StoreSpecError,
  type StoreErrorCode,
} from '../errors.js'
import { STORE_METHODS } from '../event-store.js'

/** The store methods that cross the port (`close` does not: the owner closes the store). */
export type RemoteMethod = Exclude<(typeof STORE_METHODS)[number], 'close'>
export const REMOTE_METHODS: ReadonlySet<string> = new Set(STORE_METHODS.filter((m) => m !== 'close'))

/** Client to server. */
export type Request =
  | { readonly t: 'call'; readonly id: number; readonly method: RemoteMethod; readonly args: readonly unknown[] }
  | { readonly t: 'detach' }

/** Server to client. */
export type Reply =
  | { readonly t: 'reply'; readonly id: number; readonly value: unknown }
  | { readonly t: 'fail'; readonly id: number; readonly error: WireError }

/** An error as plain data. */
export interface WireError {
  readonly name: string
  readonly code: StoreErrorCode
  readonly message: string
  readonly transient: boolean
  readonly field?: string
  readonly index?: number
  readonly path?: string
  readonly method?: string
  readonly timeoutMs?: number
}

/** Flattens any thrown value; a non-StoreError becomes `remote_error`, permanent. */
export function encodeError(err: unknown): WireError {
  if (!(err instanceof StoreError)) {
    return { name: 'StoreError', code: 'remote_error', message: `remote store threw: ${err instanceof Error ? err.message : String(err)}`, transient: false }
  }
  const extra = err as unknown as Record<string, unknown>
  const pick = <T>(name: string, type: 'string' | 'number'): T | undefined => (typeof extra[name] === type ? (extra[name] as T) : undefined)
  const wire: Record<string, unknown> = { name: err.name, code: err.code, message: err.message, transient: err.transient }
  for (const [k, type] of [['field', 'string'], ['index', 'number'], ['path', 'string'], ['method', 'string'], ['timeoutMs', 'number']] as const) {
    const v = pick(k, type)
    if (v !== undefined) wire[k] = v
  }
  return wire as unknown as WireError
}

/** Rebuilds the typed error on the client side. */
export function decodeError(w: WireError): StoreError {
  switch (w.name) {
    case 'StoreSpecError':
      return new StoreSpecError(w.code as 'invalid_spec', w.field ?? '', w.message)
    case 'StoreFilterError':
      return new StoreFilterError(w.field ?? '', w.message)
    case 'StoreRecordError':
      return new StoreRecordError(w.index ?? -1, w.field ?? '', w.message)
    case 'StoreOpenError':
      return new StoreOpenError(w.code as 'open_failed', w.path ?? '', w.message, { transient: w.transient })
    case 'RemoteStoreTimeoutError':
      return new RemoteStoreTimeoutError(w.method ?? '', w.timeoutMs ?? 0)
    default:
      return new StoreError(w.code, w.message, { transient: w.transient })
  }
}
