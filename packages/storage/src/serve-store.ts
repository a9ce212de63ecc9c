// serveStore: the owning side of a store shared across threads. The thread that holds the data
// (for a MemoryStore, typically the pipeline manager's) answers each writer's RemoteStore over
// its own MessagePort; the store's own methods run here, one message at a time as they arrive.

import type { MessagePort } from 'node:worker_threads'
import type { EventStore } from './event-store.js'
import { REMOTE_METHODS, encodeError, type Reply, type Request } from './internal/remote-protocol.js'

/** A port being served; `close` stops answering it and closes the port. */
export interface ServedPort {
  close(): void
}

/**
 * Answers RemoteStore calls arriving on `port` with `store`. Call it once per client port. The
 * store is not closed when a client detaches or the port closes: its owner closes it.
 */
export function serveStore(store: EventStore, port: MessagePort): ServedPort {
  let open = true
  const post = (reply: Reply): void => {
    if (open) port.postMessage(reply)
  }
  const stop = (): void => {
    if (!open) return
    open = false
    port.off('message', onMessage)
    port.close()
  }
  const onMessage = (msg: Request): void => {
    switch (msg?.t) {
      case 'call': {
        const { id, method, args } = msg
        if (!REMOTE_METHODS.has(method)) {
          post({ t: 'fail', id, error: encodeError(new Error(`unknown store method '${String(method)}'`)) })
          return
        }
        const fn = store[method] as (...a: unknown[]) => Promise<unknown>
        // Promise.resolve().then catches a synchronous throw from a non-async adapter too.
        Promise.resolve()
          .then(() => fn.apply(store, args as unknown[]))
          .then(
            (value) => post({ t: 'reply', id, value }),
            (err: unknown) => post({ t: 'fail', id, error: encodeError(err) }),
          )
        return
      }
      case 'detach':
        stop()
        return
      default:
        // An unknown message is a bug in one of the two ends: refuse it loudly if we can answer.
        if (typeof (msg as { id?: unknown })?.id === 'number') {
          post({ t: 'fail', id: (msg as { id: number }).id, error: encodeError(new Error(`unknown message ${JSON.stringify(msg)}`)) })
        } else {
          // Nobody to answer, and the serving thread is usually the application's own: warn loudly
          // (a process warning) rather than throw, which would crash the application.
          process.emitWarning(`serveStore: ignored an unknown message ${JSON.stringify(msg)}`, { code: 'RINGSIDE_UNKNOWN_MESSAGE' })
        }
    }
  }
  port.on('message', onMessage)
  port.once('close', () => {
    open = false
    port.off('message', onMessage)
  })
  return { close: stop }
}
