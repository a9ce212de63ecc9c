// Bootstrap of the demo's producer thread when the demo runs from its TypeScript sources (the
// tests): worker threads cannot take tsx through execArgv on Node 20, so register tsx's ESM loader
// here and then import the TypeScript entry named in workerData. The built demo does not use it.
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'

register()
await import(workerData.entry)
