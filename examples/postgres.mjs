// Ringside into PostgreSQL: the same API, a shared store for a fleet of processes. The schema is
// created (or migrated) on first use; the user needs CREATE on the database the first time.
// Run: DATABASE_URL=postgres://user:secret@localhost:5432/events node postgres.mjs
import { PipelineManager, RingBuffer, createStore } from 'ringside'

const url = process.env.DATABASE_URL
if (!url) {
  console.error('set DATABASE_URL, e.g. postgres://user:secret@localhost:5432/events')
  process.exit(2)
}
const store = { kind: 'postgres', url, schema: process.env.PG_SCHEMA ?? 'ringside' }

const ring = RingBuffer.create({ size: 1 << 16 })
const pipeline = await PipelineManager.start({ ring, store, poolSize: 2 })
for (let i = 0; i < 1000; i++) ring.write({ type: 'state_change', pid: `<0.${i % 10}.0>`, module: 'Billing', function: 'charge', arity: 1, i })
const report = await pipeline.stop({ timeoutMs: 30_000 })
console.log(`offered ${report.offered}, stored ${report.stored}, balanced: ${report.balanced}`)

// Every process of a fleet can read what all of them stored.
const reader = await createStore(store)
console.log(`events of pid <0.3.0> in the store: ${(await reader.query({ pid: '<0.3.0>', limit: 100_000 })).length}`)
await reader.close()
