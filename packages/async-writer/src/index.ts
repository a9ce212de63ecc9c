// Public surface of @ringside/async-writer: what an application writes (stages), configures (the
// writer's and the breaker's settings), catches (errors) and reads (per-writer metrics). The
// plumbing between a writer thread and its pool lives in '@ringside/async-writer/protocol'.
export type { BatchReport } from './writer.js'
export { BREAKER_DEFAULTS, type BreakerConfig, type BreakerState } from './circuit-breaker.js'
export { WRITER_DEFAULTS, type WriterConfig } from './config.js'
export { backoffCapMs, backoffDelayMs, retryDecision, type RetryDecision, type RetryFilter, type RetryPolicy } from './retry-policy.js'
export {
  RemoteWriterError,
  StageLoadError,
  StageTimeoutError,
  StoreTimeoutError,
  TypeScriptLoaderError,
  WriterConfigError,
  WriterError,
  describeSerialized,
  type SerializedError,
  type WriterErrorCode,
} from './errors.js'
export { loadStages, processEvents, resumeEvents, runStages, validateEvent, type ChainOptions, type DeferredEvent, type ProcessedBatch, type Stage, type StageContext, type StageFactory, type StageResult, type StageSpec, type StageVerdict } from './stages.js'
export { checkStageSpec, stageTargets, type ModuleSpec, type ModuleStageSpec, type ParallelStageSpec, type WhenStageSpec } from './stage-specs.js'
export { RETRY_LATER, RETRY_LATER_DEFAULTS, isRetryLater, parallel, retryLater, when, withTimeout, type EventPredicate, type RetryLater } from './stage-compose.js'
export { settleDeferred, type SettledDeferred } from './retry-later.js'
export { BUCKET_BOUNDS_MS, mergeHistograms, percentile, type MetricField, type WriterMetricsSnapshot, type WriterState } from './metrics.js'
export type { FaultPoint, FaultSwitch } from './faults.js'
export type { KillerReason } from './verdicts.js'
export type { StageField, StageOutcome, StageSnapshot } from './stage-metrics.js'
export type { QuarantinedItem } from './messages.js'
