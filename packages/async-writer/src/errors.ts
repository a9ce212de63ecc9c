// Typed errors of the writer, each with a stable `code`, and their form across a thread boundary:
// a writer's error reaches its pool as { name, code, message, cause } and is rebuilt there as a
// RemoteWriterError, so callers branch on `code` on either side, never on message text.

/** Stable codes of the errors a writer throws. */
export type WriterErrorCode =
  | 'stage_load_failed'
  | 'invalid_writer_config'
  | 'store_open_failed'
  | 'store_failed_while_stopping'
  | 'dead_letters_failed'
  | 'injected_crash'
  | 'invalid_fault'
  | 'store_timeout'
  | 'store_lock_timeout'
  | 'typescript_loader_missing'
  | 'stage_timeout'

/** Base class of the writer's errors. */
export class WriterError extends Error {
  readonly code: WriterErrorCode
  constructor(code: WriterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
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

/** A user stage module could not be loaded or built; `stage` is its index in `stages`. */
export class StageLoadError extends WriterError {
  readonly stage: number
  readonly target: string
  constructor(stage: number, target: string, message: string, options?: { cause?: unknown }) {
    super('stage_load_failed', message, options)
    this.name = 'StageLoadError'
    this.stage = stage
    this.target = target
  }
}

/** A stage did not settle on an event within its spec's `timeoutMs`: that event is a `stage_error` dead letter. */
export class StageTimeoutError extends WriterError {
  readonly stage: string
  readonly timeoutMs: number
  constructor(stage: string, timeoutMs: number) {
    super('stage_timeout', `stage ${stage} did not settle within ${timeoutMs} ms`)
    this.name = 'StageTimeoutError'
    this.stage = stage
    this.timeoutMs = timeoutMs
  }
}

/** A writer config (or patch) has a malformed or unknown key. */
export class WriterConfigError extends WriterError {
  readonly key: string
  constructor(key: string, message: string) {
    super('invalid_writer_config', message)
    this.name = 'WriterConfigError'
    this.key = key
  }
}

/** An error as it crosses a thread: plain data, structured-cloneable. */
export interface SerializedError {
  readonly name: string
  readonly code?: string
  readonly message: string
  readonly cause?: SerializedError
}

/** Causes followed when an error is serialized; deeper ones are dropped. */
const MAX_CAUSES = 4

/** The cloneable form of any thrown value, with its cause chain (up to four deep). */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error) && (err === null || typeof err !== 'object')) return { name: 'Error', message: String(err) }
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown }
  const code = typeof e.code === 'string' ? e.code : undefined
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    ...(code === undefined ? {} : { code }),
    message: typeof e.message === 'string' ? e.message : String(err),
    ...(e.cause !== undefined && depth < MAX_CAUSES ? { cause: serializeError(e.cause, depth + 1) } : {}),
  }
}

/** An error raised in a writer thread, rebuilt on this side with its name, code, message and causes. */
export class RemoteWriterError extends Error {
  /** The code the error had in the writer thread (undefined when it had none). */
  readonly code: string | undefined
  constructor(s: SerializedError) {
    super(s.message, s.cause === undefined ? undefined : { cause: new RemoteWriterError(s.cause) })
    this.name = s.name
    this.code = s.code
  }
}

/** One line for logs and messages: `name [code]: message`. */
export function describeSerialized(s: SerializedError): string {
  return `${s.name}${s.code === undefined ? '' : ` [${s.code}]`}: ${s.message}`
}
