// Worker bootstrap: worker threads cannot take tsx through execArgv on Node 20, so register tsx's
// ESM loader here and import the writer's TypeScript entry named in workerData.
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'

register()
await import(workerData.entry)
