// Public surface of @ringside/pipeline-manager.
export { PipelineManager, type JournalWrite, type PipelineEvents, type PipelineState, type PipelineStatus } from './pipeline-manager.js'
export { appendJournal, readJournal, type JournalContents } from './journal.js'
export type { JournalReplay } from './journal-replay.js'
export { DEFAULTS, LIVE_KEYS, PRESETS, PRESET_VALUES, type HealthThresholds, type HttpOptions, type PipelineOptions, type Preset, type ResolvedConfig } from './config.js'
export { ConfigUpdateError, PipelineConfigError, PipelineError, WriterStartError, type PipelineErrorCode } from './errors.js'
export { evaluateHealth, type HealthCheck, type HealthReport, type HealthStatus } from './health.js'
export type { PipelineMetrics, Percentiles, Totals, WriterView } from './metrics.js'
export type { AccountingReport } from './report.js'
export type { HttpAddress } from './http/server.js'
export { AsyncWriterPool, type MemberInfo, type PoolEvents, type WriterIntrospection } from './writer-pool.js'
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
export { RemoteWriterError, type SerializedError } from '@ringside/async-writer'
