// Starts the demo's load generator on its own thread (so its HTTP client is not the shop's and is
// not captured), reads its live counts from shared memory, and stops it.
import { Worker } from 'node:worker_threads'

/** Slots of the shared counters. */
export const COUNTER = { sent: 0, ok: 1, refused: 2, failed: 3 } as const

export interface LoadData {
  readonly url: string
  /** Requests per second; 0 sends as fast as the connections allow. */
  readonly rate: number
  /** Keep-alive connections. */
  readonly concurrency: number
  readonly stop: Int32Array
  readonly counters: Int32Array
}

/** Latencies of the answered requests, measured by the client. */
export interface LoadResult {
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

/** Requests so far: sent, answered 2xx/3xx (ok), 4xx (refused, most of them on purpose), failed (5xx or no answer). */
export interface LoadCounts {
  readonly sent: number
  readonly ok: number
  readonly refused: number
  readonly failed: number
}

export interface Load {
  counts(): LoadCounts
  /** Stops sending, waits for the requests in flight; resolves with the latencies. */
  stop(): Promise<LoadResult & LoadCounts>
}

/** Starts sending requests to `url`. */
export function startLoad(url: string, rate: number, concurrency = 16): Load {
  const stop = new Int32Array(new SharedArrayBuffer(4))
  const counters = new Int32Array(new SharedArrayBuffer(16))
  // Built, the thread is plain JavaScript; from sources it starts through tsx's bootstrap.
  const fromSource = import.meta.url.endsWith('.ts')
  const data: LoadData & { entry: string } = { entry: new URL('./load-thread.ts', import.meta.url).href, url, rate, concurrency, stop, counters }
  const worker = new Worker(fromSource ? new URL('./boot.mjs', import.meta.url) : new URL('./load-thread.js', import.meta.url), { workerData: data })
  const done = new Promise<LoadResult>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  const counts = (): LoadCounts => ({ sent: Atomics.load(counters, COUNTER.sent), ok: Atomics.load(counters, COUNTER.ok), refused: Atomics.load(counters, COUNTER.refused), failed: Atomics.load(counters, COUNTER.failed) })
  return {
    counts,
    async stop() {
      Atomics.store(stop, 0, 1)
      const r = await done
      await worker.terminate()
      return { ...r, ...counts() }
    },
  }
}
