// Runs the demo shop (apps/demo/shop, plain JavaScript that knows nothing of Ringside) in this
// process, instrumented as `--import ringside/register` would do it, but into the demo's own ring
// and pipeline: the load hooks rewrite only the shop's files, and the HTTP and worker watchers run.
import { fileURLToPath } from 'node:url'
import type { RingBuffer } from '@ringside/core-ringbuffer'
import { installLoadHooks, instrument, watchHttp, watchWorkers } from 'ringside/instrument'

/** What is captured: nothing, the HTTP requests only, those and the calls of the functions the shop's modules export, or those and every call of the shop's functions. */
export type Capture = 'none' | 'http' | 'exported' | 'all'

export interface Shop {
  readonly url: string
  /** Closes the server and the receipt worker, then stops the watchers. */
  close(): Promise<void>
}

/** The shop's folder (beside src/ and dist/). */
export const SHOP_DIR = fileURLToPath(new URL('../shop/', import.meta.url))

/** Installs the capture chosen (before the shop's modules load) and starts the shop on `port`; `sampleEvery` records 1 call in N per function. */
export async function hostShop(ring: RingBuffer | undefined, capture: Capture, port = 0, sampleEvery = 1): Promise<Shop> {
  const offs: (() => void)[] = []
  if (capture !== 'none') {
    if (ring === undefined) throw new TypeError('capture needs a ring')
    // No per-function cap: the demo's questions are about every request.
    instrument({ ring, maxCallsPerSecond: 0, sampleEvery })
    if (capture === 'all' || capture === 'exported') installLoadHooks({ root: SHOP_DIR, include: ['**/*.mjs'], exclude: ['main.mjs'], nodeModules: false, functions: capture === 'all' ? 'all' : 'exported' })
    offs.push(watchHttp(), watchWorkers())
  }
  // A native import: the shop must load through Node's loader, where the hooks are.
  const { startShop } = (await import(new URL('../shop/server.mjs', import.meta.url).href)) as { startShop: (o: { port: number }) => Promise<Shop> }
  const shop = await startShop({ port })
  return {
    url: shop.url,
    async close() {
      await shop.close()
      for (const off of offs) off()
    },
  }
}
