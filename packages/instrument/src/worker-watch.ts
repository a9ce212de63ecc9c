// Messages between this thread and its worker threads, as ElixirScope records sends and receives
// between processes: a `message` event for each `worker.postMessage` (send) and each message a
// worker posts back (receive), with `from` and `to` pids. Only workers created after watching
// starts are recorded (Node's own loader-hooks thread is a Worker too), and Ringside's own writer
// threads are left out: they are recognised when created, by the writer pool's frame on the stack.

import dc from 'node:diagnostics_channel'
import { Worker } from 'node:worker_threads'
import { PID } from './context.js'
import { runtime } from './runtime.js'

const INTERNAL = /[\\/](pipeline-manager|async-writer)[\\/]|[\\/]writer-pool\.[cm]?[jt]s/

/** Workers of the application, created since watching started; only their messages are recorded. */
const appWorkers = new WeakSet<Worker>()

const pidOf = (w: Worker) => `<${process.pid}.${w.threadId}>`

let installed: { postMessage: Worker['postMessage']; emit: Worker['emit']; onWorker: (m: unknown) => void } | undefined

/**
 * Starts recording worker messages; `onInternal` is called for each Ringside writer thread when it
 * is created. Returns a function that stops.
 */
export function watchWorkers(onInternal?: (w: Worker) => void): () => void {
  if (installed) return unwatchWorkers
  const rt = runtime()
  const proto = Worker.prototype
  const postMessage = proto.postMessage
  const emit = proto.emit
  const onWorker = (m: unknown) => {
    const { worker } = m as { worker: Worker }
    if (INTERNAL.test(new Error().stack ?? '')) onInternal?.(worker)
    else appWorkers.add(worker)
  }
  dc.subscribe('worker_threads', onWorker)
  installed = { postMessage, emit, onWorker }
  proto.postMessage = function (this: Worker, value: unknown, ...rest: unknown[]) {
    if (appWorkers.has(this)) {
      try {
        rt.emit({ type: 'message', direction: 'send', from: PID, to: pidOf(this), message: rt.summarize(value) }, 'message')
      } catch {}
    }
    return (postMessage as (...a: unknown[]) => void).call(this, value, ...rest)
  }
  proto.emit = function (this: Worker, name: string | symbol, ...args: unknown[]) {
    if (name === 'message' && appWorkers.has(this)) {
      try {
        rt.emit({ type: 'message', direction: 'receive', from: pidOf(this), to: PID, message: rt.summarize(args[0]) }, 'message')
      } catch {}
    }
    return emit.call(this, name, ...args)
  } as Worker['emit']
  return unwatchWorkers
}

function unwatchWorkers(): void {
  if (!installed) return
  Worker.prototype.postMessage = installed.postMessage
  Worker.prototype.emit = installed.emit
  dc.unsubscribe('worker_threads', installed.onWorker)
  installed = undefined
}
