// Typed errors of @ringside/instrument. Callers branch on `code` or `instanceof`, never on the
// message. Only set-up can throw (bad options, an unreadable config file); a traced call never
// throws because of capture.

export type InstrumentErrorCode = 'invalid_option' | 'invalid_config_file' | 'not_a_function' | 'transform_failed'

export class InstrumentError extends Error {
  readonly code: InstrumentErrorCode
  constructor(code: InstrumentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'InstrumentError'
    this.code = code
  }
}

/** An option is wrong; `option` names its path (for example `summary.maxDepth`). */
export class InstrumentOptionError extends InstrumentError {
  readonly option: string
  constructor(option: string, message: string) {
    super('invalid_option', message)
    this.name = 'InstrumentOptionError'
    this.option = option
  }
}
