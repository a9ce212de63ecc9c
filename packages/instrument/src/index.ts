// Public surface of @ringside/instrument.
export { instrument, instrumentStats, resetInstrumentStats } from './instrument.js'
export { trace, traceMethods, type TraceOptions } from './trace.js'
export { PID, currentCorrelationId, newCorrelationId, traceIdFromTraceparent, withCorrelation } from './context.js'
export { INSTRUMENT_DEFAULTS, resolveOptions, type InstrumentOptions, type ResolvedInstrumentOptions } from './options.js'
export { SUMMARY_DEFAULTS, summarizer, type SummaryLimits, type Summarizer } from './summary.js'
export type { InstrumentStats } from './stats.js'
export { InstrumentError, InstrumentOptionError, type InstrumentErrorCode } from './errors.js'
