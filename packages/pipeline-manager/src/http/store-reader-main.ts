// The thread behind the dashboard's reads of the store: it opens the pipeline's store (SQLite
// read-only) and answers queries posted by StoreReader, one at a time, so that a query that scans
// or waits on a lock never holds the application's event loop.

import { parentPort, workerData } from 'node:worker_threads'
import { createStore, type EventStore, type QueryFilter, type StoreSpec } from '@ringside/storage'
import type { ReaderReply, ReaderRequest } from './store-reader.js'

const spec = workerData as StoreSpec
const port = parentPort!
let store: Promise<EventStore> | undefined

// SQLite read-only: the dashboard never creates, migrates or writes the file the writers own.
const open = () => (store ??= createStore((spec as { kind?: unknown }).kind === 'sqlite' ? ({ ...(spec as object), readOnly: true } as StoreSpec) : spec))

port.on('message', (m: ReaderRequest) => {
  void (async (): Promise<ReaderReply> => {
    try {
      const rows = await (await open()).query(m.filter as QueryFilter)
      return { id: m.id, rows: rows.map((r) => ({ capturedAt: r.capturedAt, event: r.event })) }
    } catch (e) {
      // Opened too early (no file yet) or lost: the next query opens again.
      store = undefined
      return { id: m.id, error: e instanceof Error ? e.message : String(e) }
    }
  })().then((reply) => port.postMessage(reply))
})
