// The register hook's state, kept on globalThis so `registered()` can be asked without loading
// the pipeline (the hook itself loads it).

import type { AccountingReport, PipelineManager, RingBuffer } from '@ringside/pipeline-manager'
import type { RegisterConfig } from './config.js'

/** What the register hook set up. */
export interface Registered {
  readonly config: RegisterConfig
  readonly ring: RingBuffer
  /** Undefined when the pipeline could not start (the reason went to stderr). */
  readonly pipeline: PipelineManager | undefined
  /** Drains and stops the pipeline (once); resolves with its report. Called at beforeExit and on SIGINT/SIGTERM. */
  readonly stop: () => Promise<AccountingReport | undefined>
}

const KEY = Symbol.for('ringside.instrument.registered')

/** The register hook's state in this process, if it ran (`node --import @ringside/instrument/register`). */
export function registered(): Registered | undefined {
  return (globalThis as { [KEY]?: Registered })[KEY]
}

export function setRegistered(state: Registered): void {
  ;(globalThis as { [KEY]?: Registered })[KEY] = state
}
