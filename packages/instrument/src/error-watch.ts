// Uncaught exceptions and unhandled rejections, recorded without changing what Node does with
// them: `uncaughtExceptionMonitor` sees both (an unhandled rejection reaches it when nobody
// listens for 'unhandledRejection'); when the application does listen, the emit is observed.

import { runtime } from './runtime.js'

let installed: { monitor: (err: unknown, origin: string) => void; emit: typeof process.emit } | undefined

/** Starts recording process-level errors; returns a function that stops. */
export function watchErrors(): () => void {
  if (installed) return unwatchErrors
  const rt = runtime()
  const monitor = (err: unknown, origin: string) => {
    rt.emit({ type: origin === 'unhandledRejection' ? 'unhandled_rejection' : 'uncaught_exception', error: rt.describeError(err) })
  }
  process.on('uncaughtExceptionMonitor', monitor)
  const emit = process.emit
  process.emit = function (this: NodeJS.Process, name: string | symbol, ...args: unknown[]) {
    // With no listener Node turns the rejection into an uncaught exception, which the monitor records.
    if (name === 'unhandledRejection' && process.listenerCount('unhandledRejection') > 0) {
      try {
        rt.emit({ type: 'unhandled_rejection', error: rt.describeError(args[0]) })
      } catch {}
    }
    return (emit as (...a: unknown[]) => boolean).call(this, name, ...args)
  } as typeof process.emit
  installed = { monitor, emit }
  return unwatchErrors
}

function unwatchErrors(): void {
  if (!installed) return
  process.off('uncaughtExceptionMonitor', installed.monitor)
  process.emit = installed.emit
  installed = undefined
}
