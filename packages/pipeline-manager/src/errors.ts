// Typed errors of the pipeline. Callers branch on `code` or `instanceof`; worker errors are split
// by phase (spawn: a writer that failed before ready; escalation: restart intensity exceeded).
// `http_listen_failed`: the HTTP server could not bind its address (the cause says why, e.g. EADDRINUSE).

export type PipelineErrorCode = 'invalid_option' | 'not_live' | 'writer_start_failed' | 'escalated' | 'stopped' | 'stop_timeout' | 'journal_replay_failed' | 'http_listen_failed'

export class PipelineError extends Error {
  readonly code: PipelineErrorCode
  constructor(code: PipelineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PipelineError'
    this.code = code
  }
}

/** An option or config patch is wrong; `option` is its path (for example `health.ringFillDegraded`). */
export class PipelineConfigError extends PipelineError {
  /** `invalid_option`: unknown, or a bad value; `not_live`: an option fixed at start, in a patch. */
  declare readonly code: 'invalid_option' | 'not_live'
  readonly option: string
  constructor(code: 'invalid_option' | 'not_live', option: string, message: string) {
    super(code, message)
    this.name = 'PipelineConfigError'
    this.option = option
  }
}

/** A writer failed before announcing ready: a start failure for the caller, not a restart. */
export class WriterStartError extends PipelineError {
  readonly writerId: string
  constructor(writerId: string, message: string, options?: { cause?: unknown }) {
    super('writer_start_failed', message, options)
    this.name = 'WriterStartError'
    this.writerId = writerId
  }
}
