// Typed errors of the writer. Callers branch on `code` or `instanceof`, never on message text.

export type WriterErrorCode = 'store_timeout' | 'typescript_loader_missing'

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

/**
 * A stage or store module named by `target` is TypeScript, and the built writer has no loader for
 * it: tsx (an optional peer dependency) is not installed beside the application.
 */
export class TypeScriptLoaderError extends WriterError {
  readonly target: string
  constructor(target: string, options?: { cause?: unknown }) {
    super(
      'typescript_loader_missing',
      `${target} is TypeScript and needs tsx to load in a writer thread: install tsx beside your application (npm install tsx), or point the target at compiled JavaScript`,
      options,
    )
    this.name = 'TypeScriptLoaderError'
    this.target = target
  }
}
