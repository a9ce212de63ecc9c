// RemoteStore: an EventStore whose every call is a request over a MessagePort to a thread running
// serveStore. Each call has a correlation id and a time limit; a failure comes back as the same
// typed error the store threw. It is how writer threads share one MemoryStore held elsewhere.

import type { MessagePort } from 'node:worker_threads'
import { RemoteStoreTimeoutError, StoreError, StoreSpecError, describeValue } from './errors.js'
import type { EventRecord } from './event-record.js'
import type { DeadLetter, DeadLetterInput, EventStore, ListDeadLettersOptions, StoreResult, StoreStats } from './event-store.js'
import { decodeError, type RemoteMethod, type Reply, type Request } from './internal/remote-protocol.js'
import type { QueryFilter } from './query-filter.js'

/** Options of `connectStore`. */
export interface RemoteStoreOptions {
  /** Longest wait for the reply to one call, in ms; an integer from 1 to 2^31-1. Defaults to 30000. */
  readonly timeoutMs?: number
}

/** Defaults of every RemoteStore option. */
export const REMOTE_STORE_DEFAULTS: Required<RemoteStoreOptions> = Object.freeze({ timeoutMs: 30_000 })

interface Pending {
  readonly resolve: (value: unknown) => void
  readonly reject: (err: StoreError) => void
  readonly timer: NodeJS.Timeout
}

/** The client side of serveStore. Construct it with `connectStore`. */
export class RemoteStore implements EventStore {
  readonly timeoutMs: number
  readonly #port: MessagePort
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #closed: StoreError | undefined

  constructor(port: MessagePort, options: RemoteStoreOptions = {}) {
    const timeoutMs = options.timeoutMs ?? REMOTE_STORE_DEFAULTS.timeoutMs
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 2 ** 31 - 1) {
      throw new StoreSpecError('invalid_spec', 'timeoutMs', `option 'timeoutMs' must be an integer from 1 to 2^31-1, got ${describeValue(timeoutMs)}`)
    }
    this.timeoutMs = timeoutMs
    this.#port = port
    port.on('message', (msg: Reply) => this.#onReply(msg))
    port.once('close', () => this.#shut(new StoreError('remote_closed', 'the remote store port closed')))
    // An idle client must not keep its thread alive; a call in flight does (see #call).
    port.unref()
  }

  #onReply(msg: Reply): void {
    switch (msg?.t) {
      case 'reply':
      case 'fail': {
        const p = this.#pending.get(msg.id)
        if (p === undefined) return // its call already timed out
        this.#settled(msg.id, p)
        if (msg.t === 'reply') p.resolve(msg.value)
        else p.reject(decodeError(msg.error))
        return
      }
      default:
        // The server speaks another protocol: nothing it says can be trusted from here on.
        this.#shut(new StoreError('remote_error', `unknown reply from the remote store: ${JSON.stringify(msg)}`))
        this.#port.close()
    }
  }

  #settled(id: number, p: Pending): void {
    clearTimeout(p.timer)
    this.#pending.delete(id)
    if (this.#pending.size === 0) this.#port.unref()
  }

  #shut(reason: StoreError): void {
    if (this.#closed !== undefined) return
    this.#closed = reason
    for (const [id, p] of this.#pending) {
      this.#settled(id, p)
      p.reject(reason)
    }
  }

  #call<T>(method: RemoteMethod, args: readonly unknown[]): Promise<T> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    return new Promise<T>((resolve, reject) => {
      const id = this.#nextId++
      const timer = setTimeout(() => {
        const p = this.#pending.get(id)
        if (p === undefined) return
        this.#settled(id, p)
        p.reject(new RemoteStoreTimeoutError(method, this.timeoutMs))
      }, this.timeoutMs)
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      if (this.#pending.size === 1) this.#port.ref()
      const request: Request = { t: 'call', id, method, args }
      try {
        this.#port.postMessage(request)
      } catch (cause) {
        // A batch that cannot be cloned (a function inside an event, say) fails here, not remotely.
        this.#settled(id, this.#pending.get(id) as Pending)
        reject(new StoreError('invalid_record', `cannot send '${method}' to the remote store: ${String(cause)}`, { cause }))
      }
    })
  }

  storeEvents(batch: readonly EventRecord[]): Promise<StoreResult> {
    return this.#call('storeEvents', [batch])
  }
  getEvent(key: string): Promise<EventRecord | undefined> {
    return this.#call('getEvent', [key])
  }
  query(filter?: QueryFilter): Promise<EventRecord[]> {
    return this.#call('query', filter === undefined ? [] : [filter])
  }
  stats(): Promise<StoreStats> {
    return this.#call('stats', [])
  }
  deleteOlderThan(time: number): Promise<number> {
    return this.#call('deleteOlderThan', [time])
  }
  storeDeadLetters(items: readonly DeadLetterInput[]): Promise<StoreResult> {
    return this.#call('storeDeadLetters', [items])
  }
  listDeadLetters(options?: ListDeadLettersOptions): Promise<DeadLetter[]> {
    return this.#call('listDeadLetters', options === undefined ? [] : [options])
  }

  /** Detaches from the server and closes the port; the served store stays open for its owner and other clients. */
  async close(): Promise<void> {
    if (this.#closed !== undefined) return
    this.#shut(new StoreError('store_closed', 'the remote store is closed'))
    const detach: Request = { t: 'detach' }
    this.#port.postMessage(detach)
    this.#port.close()
  }
}

/** Connects to a store served with `serveStore` on the other end of `port`. */
export function connectStore(port: MessagePort, options?: RemoteStoreOptions): RemoteStore {
  return new RemoteStore(port, options)
}
