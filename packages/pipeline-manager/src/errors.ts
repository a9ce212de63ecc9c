// Typed errors of the pipeline. Callers branch on `code` or `instanceof`; worker errors are split
// by phase (spawn: a writer that failed before ready, its own error rebuilt as the cause;
// escalation: restart intensity exceeded). `http_listen_failed`: the HTTP server could not bind
// its address. `store_file_lost`: the SQLite file the writers opened was deleted or replaced while
// running. stop() never rejects: a deadline it misses is `timedOut` in its report.

export type PipelineErrorCode =
  | 'invalid_option'
  | 'not_live'
  | 'config_update_failed'
  | 'writer_start_failed'
  | 'no_such_writer'
  | 'writer_protocol_error'
  | 'escalated'
  | 'stopped'
  | 'http_listen_failed'
  | 'store_file_lost'
  | JournalErrorCode

/**
 * What can go wrong with the exit journal: the file at its path is not a Ringside journal, it is
 * the store's own file, another live pipeline holds it, it was written for another store, it
 * cannot be created or written, or replaying it failed. None of them deletes or changes the file.
 */
export type JournalErrorCode =
  | 'not_a_journal'
  | 'journal_is_store'
  | 'journal_locked'
  | 'journal_of_another_store'
  | 'journal_unwritable'
  | 'journal_write_failed'
  | 'journal_replay_failed'

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

/** The exit journal at `path` was refused or could not be used; `code` says why. */
export class JournalError extends PipelineError {
  readonly path: string
  constructor(code: JournalErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'JournalError'
    this.path = path
  }
}
