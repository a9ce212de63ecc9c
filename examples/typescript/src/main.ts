// A typed application with a custom stage. Built with `tsc` and run as plain JavaScript:
//   npx tsc && node dist/main.js
// The stage is named by a serializable spec (a module URL and options), because it is loaded inside
// each writer thread, not passed as a function.
import { PipelineManager, RingBuffer, createStore, type AccountingReport, type PipelineOptions, type WriteResult } from 'ringside'

const ring = RingBuffer.create({ size: 1 << 14, overflowStrategy: 'drop_newest' })
const options: PipelineOptions = {
  ring,
  store: { kind: 'sqlite', path: 'typed-events.db' },
  poolSize: 1,
  stages: [{ target: new URL('./redact-stage.js', import.meta.url).href, options: { fields: ['password'] } }],
}
const pipeline = await PipelineManager.start(options)

const requests = ['/login', '/healthz', '/cart', '/healthz', '/checkout']
for (const [i, path] of requests.entries()) {
  const r: WriteResult = ring.write({ type: 'request', pid: '<0.42.0>', path, password: 'hunter2', i })
  if (!r.ok) console.warn(`event ${i} refused: ${r.reason}`)
}

const report: AccountingReport = await pipeline.stop({ timeoutMs: 10_000 })
console.log(`offered ${report.offered}, stored ${report.stored}, filtered ${report.filtered}, balanced: ${report.balanced}`)

const store = await createStore({ kind: 'sqlite', path: 'typed-events.db' })
const rows = await store.query({ type: 'request', limit: 100 })
const leaked = rows.filter((row) => 'password' in row.event).length
console.log(`stored paths: ${rows.map((row) => String(row.event['path'])).join(' ')}; passwords stored: ${leaked}`)
await store.close()
