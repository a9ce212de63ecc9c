// Reads of the pipeline's store for the dashboard (recent requests, one request's call tree). The
// memory store lives in this thread and is asked directly; any other store is read in a thread of
// its own (store-reader-main.ts), started at the first read, so that SQLite's synchronous queries
// never run on the application's event loop. Every read has a time limit.

import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { EventStore, QueryFilter, StoreSpec } from '@ringside/storage'

/** A stored event as the dashboard needs it. */
export interface ReadRow {
  readonly capturedAt: number
  readonly event: Record<string, unknown>
}
export interface ReaderRequest {
  readonly id: number
  readonly filter: QueryFilter
}
export type ReaderReply = { readonly id: number; readonly rows: ReadRow[] } | { readonly id: number; readonly error: string }

/** The store the writers write: its spec, and the store itself when it lives in this thread. */
export interface StoreSource {
  readonly spec: StoreSpec
  readonly hosted: EventStore | undefined
}

/** The reader thread's built module: beside this one, or (tests running the TypeScript sources) in the package's dist/. */
function readerScript(): URL {
  const beside = new URL('./store-reader-main.js', import.meta.url)
  if (beside.protocol !== 'file:' || existsSync(fileURLToPath(beside))) return beside
  return new URL('../../dist/http/store-reader-main.js', import.meta.url)
}

export class StoreReader {
  readonly #source: StoreSource
  readonly #timeoutMs: number
  #worker: Worker | undefined
  #next = 0
  readonly #pending = new Map<number, { resolve: (rows: ReadRow[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()

  constructor(source: StoreSource, timeoutMs = 10_000) {
    this.#source = source
    this.#timeoutMs = timeoutMs
  }

  /** Runs one query; rejects when the store cannot answer or the time limit passes. */
  async query(filter: QueryFilter): Promise<ReadRow[]> {
    const hosted = this.#source.hosted
    if (hosted) return (await hosted.query(filter)).map((r) => ({ capturedAt: r.capturedAt, event: r.event }))
    const worker = this.#start()
    const id = ++this.#next
    return new Promise<ReadRow[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`the store did not answer within ${this.#timeoutMs} ms`))
      }, this.#timeoutMs)
      timer.unref()
      this.#pending.set(id, { resolve, reject, timer })
      worker.postMessage({ id, filter } satisfies ReaderRequest)
    })
  }

  #start(): Worker {
    if (this.#worker) return this.#worker
    // No execArgv of the application's: its loaders (an --import of the register hook, a test
    // runner's export conditions) are not for this thread, which runs built JavaScript only.
    const w = new Worker(readerScript(), { workerData: this.#source.spec, name: 'ringside-store-reader', execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 256 } })
    // It must never keep the application alive, nor take it down.
    w.unref()
    w.on('message', (reply: ReaderReply) => {
      const p = this.#pending.get(reply.id)
      if (!p) return
      this.#pending.delete(reply.id)
      clearTimeout(p.timer)
      if ('error' in reply) p.reject(new Error(reply.error))
      else p.resolve(reply.rows)
    })
    const fail = (why: string) => {
      if (this.#worker === w) this.#worker = undefined
      for (const [id, p] of this.#pending) {
        this.#pending.delete(id)
        clearTimeout(p.timer)
        p.reject(new Error(why))
      }
    }
    w.on('error', (e) => fail(`the store reader failed: ${e.message}`))
    w.on('exit', (code) => fail(`the store reader exited with code ${code}`))
    this.#worker = w
    return w
  }

  /** Stops the reader thread, if started. */
  async close(): Promise<void> {
    const w = this.#worker
    this.#worker = undefined
    if (w) await w.terminate()
  }
}
