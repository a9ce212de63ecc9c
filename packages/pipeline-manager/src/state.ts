// What the manager tells about itself: its status, its state (config, members, restarts, journal)
// and the events it emits. Apart from the facade, so the HTTP server can read these types without
// importing the manager that imports it.

import type { ResolvedConfig } from './config.js'
import type { JournalState } from './exit-journal.js'
import type { PressureEvent } from './pressure.js'
import type { AccountingReport } from './report.js'
import type { MemberInfo, PoolEvents } from './writer-pool.js'

export type PipelineStatus = 'running' | 'stopping' | 'stopped' | 'failed'

export interface PipelineState {
  readonly status: PipelineStatus
  readonly config: ResolvedConfig & { readonly version: number }
  readonly members: readonly MemberInfo[]
  /** Warm spares (the `spares` option): ready writers that claim nothing until one takes a dead writer's place. */
  readonly spares: readonly MemberInfo[]
  readonly restarts: { readonly total: number; readonly inWindow: number; readonly poolRestarts: number }
  readonly startedAt: number
  readonly uptimeMs: number
  /** The exit journal, when configured: what the start replayed, what was written to it, and a failed write. */
  readonly journal?: JournalState
}

export interface PipelineEvents extends PoolEvents {
  config_changed: [{ version: number; changed: string[] }]
  pool_restarted: [{ restarts: number }]
  stopped: [AccountingReport]
  /** The pipeline's pressure crossed a level (pressure.ts), up or down. */
  pressure: [PressureEvent]
}
