// The smallest Ringside application: start a pipeline that stores into SQLite, write events from
// the main thread, stop, and print the accounting report.
// Run: node basic.mjs   (then: npx ringside stats events.db)
import { PipelineManager, RingBuffer } from 'ringside'

const ring = RingBuffer.create({ size: 1 << 16 })
const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: 'events.db' } })

for (let i = 0; i < 1000; i++) {
  // Synchronous and never throws: a full ring or a bad event is a result, not an exception.
  const r = ring.write({ type: 'call', pid: '<0.1.0>', module: 'Shop.Cart', function: 'add', arity: 2, item: i })
  if (!r.ok) console.warn('dropped:', r.reason)
}

const report = await pipeline.stop({ timeoutMs: 10_000 })
console.log(`offered ${report.offered}, stored ${report.stored}, balanced: ${report.balanced}`)
