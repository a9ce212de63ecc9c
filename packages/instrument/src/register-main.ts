// What `node --import @ringside/instrument/register app.mjs` does in the main thread: read the
// config, create a ring, start a pipeline (SQLite by default), install the ESM and CommonJS load
// hooks and the runtime watchers, and drain the pipeline when the process ends normally
// (beforeExit) or is sent SIGINT/SIGTERM. A failure to start the pipeline is reported on stderr
// and the application runs anyway.

import dc from 'node:diagnostics_channel'
import { MessagePort, type Worker } from 'node:worker_threads'
import { PipelineManager, RingBuffer, type AccountingReport } from '@ringside/pipeline-manager'
import { loadRegisterConfig } from './config.js'
import { watchErrors } from './error-watch.js'
import type { FilterOptions } from './filter.js'
import { watchHttp } from './http-watch.js'
import { instrument, instrumentStats } from './instrument.js'
import { installLoadHooks } from './load-hooks.js'
import { PID } from './context.js'
import { runtime } from './runtime.js'
import { watchWorkers } from './worker-watch.js'
import { registered, setRegistered, type Registered } from './registered.js'

type HandleList = () => object[]
const activeHandles: HandleList = () => (process as unknown as { _getActiveHandles?: HandleList })._getActiveHandles?.() ?? []

/**
 * Writer threads and their control ports must not keep the application alive: an app that is
 * done should reach beforeExit, where the pipeline is drained. Ports are found as the handles that
 * appeared while the pipeline started a writer (Node offers no other way to reach them).
 */
function unrefNewPorts(known: Set<object>): void {
  for (const h of activeHandles()) {
    if (known.has(h)) continue
    known.add(h)
    if (h instanceof MessagePort) h.unref()
  }
}

/** Sets everything up; returns undefined when disabled. */
export async function startRegistered(): Promise<Registered | undefined> {
  const existing = registered()
  if (existing) return existing
  const config = loadRegisterConfig()
  if (config.disable) return undefined
  const ring = RingBuffer.create({ size: config.ringSize, maxEventBytes: config.maxEventBytes, overflowStrategy: 'drop_newest' })
  instrument({ ring, sampleEvery: config.sampleEvery, maxCallsPerSecond: config.maxCallsPerSecond, ...(config.redact ? { summary: { redact: config.redact } } : {}) })
  if (config.sourceMaps) process.setSourceMapsEnabled(true)

  const filter: FilterOptions = { root: config.root, include: config.include, exclude: config.exclude, nodeModules: config.nodeModules, functions: config.functions }
  installLoadHooks(filter)

  const internal = (w: Worker) => w.unref()
  if (config.watch.includes('workers')) watchWorkers(internal)
  else dc.subscribe('worker_threads', (m) => /writer-pool/.test(new Error().stack ?? '') && internal((m as { worker: Worker }).worker))
  if (config.watch.includes('http') || config.watch.includes('fetch')) watchHttp()
  if (config.watch.includes('errors')) watchErrors()

  let pipeline: PipelineManager | undefined
  const known = new Set(activeHandles())
  try {
    pipeline = await PipelineManager.start({ ring, store: config.store, poolSize: config.poolSize, lingerMs: config.lingerMs, ...(config.journal ? { journal: { path: config.journal } } : {}) })
    unrefNewPorts(known)
    // A restarted writer gets new ports: take the ones that appear between its predecessor's exit and its start.
    pipeline.on('writer_exited', () => {
      for (const h of activeHandles()) known.add(h)
    })
    pipeline.on('writer_started', () => unrefNewPorts(known))
  } catch (e) {
    process.stderr.write(`ringside: the pipeline did not start, events stay in the ring: ${e instanceof Error ? e.message : String(e)}\n`)
  }

  let stopping: Promise<AccountingReport | undefined> | undefined
  const stop = (): Promise<AccountingReport | undefined> => {
    stopping ??= (async () => {
      if (!pipeline) return undefined
      // The writers no longer hold the process open; something must while they drain.
      const keep = setInterval(() => {}, 1000)
      try {
        const rt = runtime()
        rt.emit({ type: 'instrument_stats', pid: PID, stats: instrumentStats() })
        const report = await pipeline.stop({ timeoutMs: config.stopTimeoutMs })
        if (config.report) process.stderr.write(`ringside: ${JSON.stringify({ report, capture: instrumentStats() })}\n`)
        return report
      } catch (e) {
        process.stderr.write(`ringside: stopping the pipeline failed: ${e instanceof Error ? e.message : String(e)}\n`)
        return undefined
      } finally {
        clearInterval(keep)
      }
    })()
    return stopping
  }
  process.once('beforeExit', () => void stop())
  const onSignal = (signal: NodeJS.Signals) => {
    void stop().finally(() => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      // Nobody else handles it: end the process as the signal would have.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const state: Registered = { config, ring, pipeline, stop }
  setRegistered(state)
  return state
}
