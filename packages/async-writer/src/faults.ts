// Fault switches for crash drills, shipped (not only in tests): set on one writer incarnation at
// runtime, they make it crash, exit or hang at a chosen point of its batch cycle.

import { WriterError } from './errors.js'

/** Where in the batch cycle a fault fires. */
export type FaultPoint = 'before_store' | 'after_store'

export interface FaultSwitch {
  /** `crash`: throw an uncaught error; `exit`: process.exit(code); `hang`: spin forever holding the claim. */
  readonly kind: 'crash' | 'exit' | 'hang'
  /** Fire while handling the batch after this many batches of this incarnation. Defaults to 0. */
  readonly afterBatches?: number
  /** Defaults to `after_store` (stored but not committed: the heir re-stores it). */
  readonly at?: FaultPoint
  /** Exit code for `exit`. Defaults to 0 (an early normal exit). */
  readonly code?: number
}

/** Fires the switch if it applies now. Never returns for a fault that fires. */
export function maybeFault(fault: FaultSwitch | undefined, batchesDone: number, at: FaultPoint): void {
  if (fault === undefined || (fault.at ?? 'after_store') !== at || batchesDone < (fault.afterBatches ?? 0)) return
  switch (fault.kind) {
    case 'crash':
      // The writer's loop turns any error it does not expect into an uncaught one: the thread dies.
      throw new WriterError('injected_crash', `injected crash after ${batchesDone} batches (${at})`)
    case 'exit':
      process.exit(fault.code ?? 0)
    case 'hang':
      for (;;) {
        // An infinite loop while holding the claim: the heartbeat stops.
      }
    default:
      throw new WriterError('invalid_fault', `unknown fault kind ${String((fault as { kind: unknown }).kind)}`)
  }
}
