// The typed errors the JetStream store throws: a method the adapter does not offer, and the
// mapping of a NATS client failure (no server, timeout, disconnect, no ack) to a StoreError.

import { StoreError } from '../errors.js'

/**
 * A contract method this adapter does not offer (queries, `getEvent`, `deleteOlderThan`): a
 * stream is read by consumers, not queried by field. Permanent; code `not_supported`.
 */
export class JetStreamUnsupportedError extends StoreError {
  readonly method: string
  constructor(method: string) {
    super(
      'not_supported',
      `the jetstream store does not support '${method}': read the stream with a JetStream consumer instead (see src/jetstream/README.md)`,
    )
    this.name = 'JetStreamUnsupportedError'
    this.method = method
  }
}

/**
 * Wraps a client failure during `what`. Every such failure is transient: a lost connection
 * reconnects, a missing ack is retried, and the message ids make a retried batch idempotent
 * within the stream's duplicate window.
 */
export function jetStreamFailure(what: string, cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new StoreError('io_error', `jetstream ${what} failed: ${detail}`, { cause, transient: true })
}
