// A producer thread of the ring demo: attaches to the ring and writes traced-app events.
import { parentPort, workerData } from 'node:worker_threads'
import { RingBuffer } from '@ringside/core-ringbuffer'

const { handle, producer, count } = workerData as { handle: Parameters<typeof RingBuffer.attach>[0]; producer: number; count: number }
const ring = RingBuffer.attach(handle)
const modules = ['Shop.Cart', 'Shop.Payment', 'Shop.Inventory']
let accepted = 0
const dropped: Record<string, number> = {}
for (let n = 0; n < count; n++) {
  const r = ring.write({
    type: n % 2 === 0 ? 'call' : 'return',
    pid: `<0.${100 + producer}.0>`,
    module: modules[n % modules.length],
    function: 'handle_call',
    arity: 3,
    astNodeId: `n_${n % 97}`,
    producer,
    n,
  })
  if (r.ok) accepted++
  else {
    dropped[r.reason] = (dropped[r.reason] ?? 0) + 1
    n-- // a full ring: yield to the consumer and retry, so the demo moves every event
    await new Promise((resolve) => setImmediate(resolve))
  }
}
parentPort!.postMessage({ producer, accepted, dropped })
