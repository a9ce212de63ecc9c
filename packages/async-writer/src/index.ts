// Public surface of @ringside/async-writer: the writer actor, its config, stages, metrics layout,
// fault switches and the messages it exchanges with its pool.
export { AsyncWriter, isTransient, type AsyncWriterDeps, type BatchReport } from './writer.js'
export { BREAKER_DEFAULTS, SharedBreaker, createBreakerBuffer, nextBreakerState, type BreakerConfig, type BreakerState } from './circuit-breaker.js'
export { WRITER_DEFAULTS, applyWriterPatch, type WriterConfig } from './config.js'
export {
  RemoteWriterError,
  StageLoadError,
  WriterConfigError,
  WriterError,
  describeSerialized,
  serializeError,
  type SerializedError,
  type WriterErrorCode,
} from './errors.js'
export { enrichEvent, loadStages, processEvents, validateEvent, type ProcessedBatch, type Stage, type StageContext, type StageFactory, type StageSpec } from './stages.js'
export {
  BUCKET_BOUNDS_MS,
  METRIC_FIELDS,
  WRITER_STATES,
  WriterMetrics,
  createMetricsBuffer,
  mergeHistograms,
  percentile,
  readWriterMetrics,
  rowsOf,
  type MetricField,
  type WriterMetricsSnapshot,
  type WriterState,
} from './metrics.js'
export { maybeFault, type FaultPoint, type FaultSwitch } from './faults.js'
export type { PortStoreSpec, WriterApi, WriterInit, WriterMessage } from './messages.js'
export { Comlink, nodeEndpoint } from './comlink.js'

export { writerEntry, type WriterEntry } from './entry.js'
