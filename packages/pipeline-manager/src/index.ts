// Public surface of @ringside/pipeline-manager: PipelineManager and what its options, state,
// metrics, health, events, reports and errors are made of; the ring (re-exported, since every
// pipeline needs one) and the journal's reader. The writer pool behind the manager is internal.
export { LOOP_EMPTY_STOP_MS, PipelineManager } from './pipeline-manager.js'
export type { PipelineEvents, PipelineState, PipelineStatus } from './state.js'
export { JOURNAL_VERSION, appendJournal, createJournal, readJournal, type JournalContents, type JournalHeader } from './journal.js'
export type { JournalState, JournalWrite } from './exit-journal.js'
export type { JournalReplay } from './journal-replay.js'
export { EXIT_SIGNALS } from './exit-hooks.js'
export { storeIdentity } from './store-identity.js'
export {
  BREAKER_KEYS,
  DEFAULTS,
  HEALTH_KEYS,
  HTTP_KEYS,
  JOURNAL_KEYS,
  LIVE_KEYS,
  OPTION_KEYS,
  PRESSURE_KEYS,
  PRESETS,
  PRESET_VALUES,
  START_ONLY_KEYS,
  SUPERVISION_KEYS,
  WRITER_KEYS,
  type HealthThresholds,
  type HttpOptions,
  type PipelineOptions,
  type Preset,
  type ResolvedConfig,
  type ResolvedHttpOptions,
} from './config.js'
export { ConfigUpdateError, JournalError, PipelineConfigError, PipelineError, WriterStartError, type JournalErrorCode, type PipelineErrorCode } from './errors.js'
export { evaluateHealth, type HealthCheck, type HealthReport, type HealthStatus } from './health.js'
export type { PipelineMetrics, Percentiles, Totals, WriterView } from './metrics.js'
export type { AccountingReport, DestinationCount, PriorityAccount } from './report.js'
export { DESTINATION_LOOKUPS_MAX } from './local-store.js'
export { PRESSURE_DEFAULTS, nextLevel, stepPressure, strongest, type PressureConfig, type PressureEvent, type PressureReason, type PressureSample } from './pressure.js'
export type { HttpAddress } from './http/server.js'
export { callTree, type CallNode, type TraceEvent, type TraceItem } from './http/call-tree.js'
export type { MemberInfo, PoolEvents, WriterIntrospection } from './writer-pool.js'
export type { ExitReason, RestartType, Strategy } from './supervisor/restart-policy.js'
export { PriorityRing, RingBuffer } from '@ringside/core-ringbuffer'
export type { PipelineRing } from './ring-set.js'
export { RemoteWriterError, type SerializedError } from '@ringside/async-writer'
