// Typed errors of the writer. Callers branch on `code` or `instanceof`, never on message text.

export type WriterErrorCode = 'store_timeout'

export class WriterError extends Error {
  readonly code: WriterErrorCode
  constructor(code: WriterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'WriterError'
    this.code = code
  }
}

/** An asynchronous store call did not settle in time: treated as a transient store error (retried, counted by the breaker). */
export class StoreTimeoutError extends WriterError {
  readonly transient = true
  readonly call: string
  readonly timeoutMs: number
  constructor(call: string, timeoutMs: number) {
    super('store_timeout', `the store's ${call} did not settle within ${timeoutMs} ms`)
    this.name = 'StoreTimeoutError'
    this.call = call
    this.timeoutMs = timeoutMs
  }
}
