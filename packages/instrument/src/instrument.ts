// The programmatic entry: `instrument({ ring, ... })` sets where this thread's captured events go
// and how they are sampled and summarised; `instrumentStats()` tells what was captured or skipped.

import type { InstrumentOptions, ResolvedInstrumentOptions } from './options.js'
import { runtime } from './runtime.js'
import type { InstrumentStats } from './stats.js'

/**
 * Configures capture for this thread: the default ring of `trace()`, instrumented modules and the
 * runtime watchers, sampling, the rate cap and summaries. Options not given keep their value.
 * Throws InstrumentOptionError for a bad option. Returns the options in force.
 */
export function instrument(options: InstrumentOptions): ResolvedInstrumentOptions {
  const rt = runtime()
  rt.configure(options)
  return rt.options
}

/** The capture counters of this thread: calls recorded, sampled out, rate limited; events accepted, refused by reason. */
export function instrumentStats(): InstrumentStats {
  return runtime().counters.snapshot()
}

/** Sets every capture counter of this thread to zero (between test cases or benchmark runs). */
export function resetInstrumentStats(): void {
  runtime().counters.reset()
}
