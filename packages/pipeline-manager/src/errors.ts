// Typed errors of the pipeline. Callers branch on `code` or `instanceof`; worker errors are split
// by phase (spawn: a writer that failed before ready, its own error rebuilt as the cause;
// escalation: restart intensity exceeded). `http_listen_failed`: the HTTP server could not bind
// its address. stop() never rejects: a deadline it misses is `timedOut` in its report.

export type PipelineErrorCode =
  | 'invalid_option'
  | 'not_live'
  | 'config_update_failed'
  | 'writer_start_failed'
  | 'no_such_writer'
  | 'writer_protocol_error'
  | 'escalated'
  | 'stopped'
  | 'journal_replay_failed'
  | 'http_listen_failed'

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

/**
 * A valid config change could not be applied in full (a writer it started failed before ready,
 * the pool escalated meanwhile): everything it changed was rolled back and the version is
 * unchanged. `cause` says why; `changed` lists the keys of the refused patch.
 */
export class ConfigUpdateError extends PipelineError {
  readonly changed: readonly string[]
  constructor(changed: readonly string[], message: string, options: { cause: unknown }) {
    super('config_update_failed', message, options)
    this.name = 'ConfigUpdateError'
    this.changed = changed
  }
}

/**
 * A writer failed before announcing ready: a start failure for the caller, not a restart. Its own
 * error, rebuilt from the writer's thread with its code (`stage_load_failed`, `store_open_failed`,
 * ...), is the `cause` (a RemoteWriterError) when the writer could say; otherwise it just exited.
 */
export class WriterStartError extends PipelineError {
  readonly writerId: string
  constructor(writerId: string, message: string, options?: { cause?: unknown }) {
    super('writer_start_failed', message, options)
    this.name = 'WriterStartError'
    this.writerId = writerId
  }
}
