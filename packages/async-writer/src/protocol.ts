// '@ringside/async-writer/protocol': what a pool needs to run writer threads, beside the public
// surface (re-exported here so a pool imports from one place): the writer actor, workerData and
// lifecycle messages, the control API's type, the shared-memory layouts (metrics rows, breaker,
// claim verdicts) and the writer's entry script. Not a stable API: it changes with the pool.
// comlink itself is in '@ringside/async-writer/comlink': its declarations need the DOM lib, and
// these must type-check under an application's own settings.
export * from './index.js'
export { AsyncWriter, isTransient, type AsyncWriterDeps, type WriterConsumer } from './writer.js'
export { SharedBreaker, createBreakerBuffer, nextBreakerState, probeDecision, type ProbeDecision, type ProbeView } from './circuit-breaker.js'
export { applyWriterPatch } from './config.js'
export { ClaimVerdicts, ISOLATE_AFTER_DEATHS, createVerdictBuffer } from './verdicts.js'
export { enrichEvent, stageName, toStoreRecord } from './stages.js'
export { METRIC_FIELDS, WRITER_STATES, WriterMetrics, createMetricsBuffer, readWriterMetrics, rowsOf } from './metrics.js'
export { maybeFault } from './faults.js'
export { QUARANTINE_REPORT_MAX, type PortStoreSpec, type WriterApi, type WriterInit, type WriterMessage } from './messages.js'
export { StageMetrics, STAGE_FIELDS, createStageMetricsBuffer, readStageMetrics } from './stage-metrics.js'
export { writerEntry, type WriterEntry } from './entry.js'
export { isTypeScriptTarget, loaderForTargets } from './ts-loader.js'
export { serializeError } from './errors.js'
export { StoreLock, StoreLockTimeoutError, createStoreLockBuffer, readStoreLock, releaseStoreLockOf, type StoreLockView } from './store-lock.js'
