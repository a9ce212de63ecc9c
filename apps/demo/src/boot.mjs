// Worker bootstrap: worker threads cannot take tsx through execArgv on Node 20, so register tsx's
// ESM loader here and then import the TypeScript entry named in workerData.
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'

register()
await import(workerData.entry)
