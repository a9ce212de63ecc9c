// Public surface of @ringside/pipeline-manager.
export { LOOP_EMPTY_STOP_MS, PipelineManager, type PipelineEvents, type PipelineState, type PipelineStatus } from './pipeline-manager.js'
export { JOURNAL_VERSION, appendJournal, createJournal, readJournal, type JournalContents, type JournalHeader } from './journal.js'
export type { JournalState, JournalWrite } from './exit-journal.js'
export type { JournalReplay } from './journal-replay.js'
export { EXIT_SIGNALS } from './exit-hooks.js'
export { storeIdentity } from './store-identity.js'
export { DEFAULTS, LIVE_KEYS, PRESETS, PRESET_VALUES, type HealthThresholds, type HttpOptions, type PipelineOptions, type Preset, type ResolvedConfig } from './config.js'
export { JournalError, PipelineConfigError, PipelineError, WriterStartError, type JournalErrorCode, type PipelineErrorCode } from './errors.js'
export { evaluateHealth, type HealthCheck, type HealthReport, type HealthStatus } from './health.js'
export type { PipelineMetrics, Percentiles, Totals, WriterView } from './metrics.js'
export type { AccountingReport } from './report.js'
export type { HttpAddress } from './http/server.js'
export { AsyncWriterPool, type MemberInfo, type PoolEvents } from './writer-pool.js'
export {
  childrenToRestart,
  registerRestart,
  restartDelay,
  restartsInWindow,
  shouldRestart,
  type ExitReason,
  type RestartType,
  type Strategy,
} from './supervisor/restart-policy.js'
export { RingBuffer } from '@ringside/core-ringbuffer'
