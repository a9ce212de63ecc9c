// Several threads of one application write into one ring: the main thread creates it and posts its
// handle to worker threads, which attach to the same shared memory and write concurrently.
// Run: node worker-producers.mjs [events per thread] [worker threads]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { PipelineManager, RingBuffer, createStore } from 'ringside'

const perThread = Number(process.argv[2] ?? 5000)
const workers = Number(process.argv[3] ?? 2)

/** What every producer thread does: write `n` events tagged with its name. */
function produce(ring, name, n) {
  let refused = 0
  for (let i = 0; i < n; i++) {
    if (!ring.write({ type: 'message', pid: name, module: 'Producer', function: 'emit', arity: 1, i }).ok) refused++
  }
  return refused
}

if (!isMainThread) {
  // A worker: attach to the ring by the handle the main thread posted (no copy of the memory).
  const ring = RingBuffer.attach(workerData.handle)
  parentPort.postMessage(produce(ring, workerData.name, workerData.n))
} else {
  const ring = RingBuffer.create({ size: 1 << 16, overflowStrategy: 'block' })
  const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: 'events.db' }, poolSize: 2 })

  const threads = Array.from({ length: workers }, (_, k) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { handle: ring.handle, name: `worker-${k + 1}`, n: perThread } })
    return new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
  })
  const refused = produce(ring, 'main', perThread) + (await Promise.all(threads)).reduce((a, b) => a + b, 0)

  const report = await pipeline.stop({ timeoutMs: 30_000 })
  console.log(`offered ${report.offered}, refused ${refused}, stored ${report.stored}, balanced: ${report.balanced}`)

  // Read them back, per thread.
  const store = await createStore({ kind: 'sqlite', path: 'events.db' })
  for (const name of ['main', ...Array.from({ length: workers }, (_, k) => `worker-${k + 1}`)]) {
    console.log(`${name}: ${(await store.query({ pid: name })).length} events stored`)
  }
  await store.close()
}
