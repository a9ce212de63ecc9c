// Typed errors of the ring. Callers branch on `code` or `instanceof`, never on message text.
// Option errors carry the option path; runtime errors say which limit was hit.

/** Stable codes of every error the ring throws. */
export type RingErrorCode =
  | 'invalid_size'
  | 'size_must_be_power_of_2'
  | 'invalid_overflow_strategy'
  | 'invalid_option'
  | 'invalid_handle'
  | 'invalid_consumer'
  | 'claim_not_owned'
  | 'lock_timeout'
  | 'malformed_record'

/** Base class of the ring's errors. */
export class RingError extends Error {
  readonly code: RingErrorCode
  constructor(code: RingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RingError'
    this.code = code
  }
}

/** A `RingBuffer.create` option is wrong; `option` names it. */
export class RingOptionError extends RingError {
  readonly option: string
  constructor(code: RingErrorCode, option: string, message: string) {
    super(code, message)
    this.name = 'RingOptionError'
    this.option = option
  }
}

/**
 * Bytes that do not decode as an event: a corrupted slot or journal frame. `claim()` never throws
 * it; it marks the record instead (`RingRecord.decodeError`). `decodeEvent` throws it.
 */
export class RingDecodeError extends RingError {
  /** A copy of the bytes that failed to decode. */
  readonly bytes: Uint8Array
  constructor(message: string, bytes: Uint8Array, options?: { cause?: unknown }) {
    super('malformed_record', message, options)
    this.name = 'RingDecodeError'
    this.bytes = bytes
  }
}
