// The demo application's own worker thread: writes traced events into the ring at its share of the
// rate until told to stop, and reports how many it offered and how many the ring refused.
import { parentPort, workerData } from 'node:worker_threads'
import { RingBuffer, type RingHandle } from '@ringside/core-ringbuffer'
import { TraceGenerator } from './events.js'
import { Pacer } from './pacer.js'

const { handle, rate, stop } = workerData as { handle: RingHandle; rate: number; stop: Int32Array }
const ring = RingBuffer.attach(handle)
const gen = new TraceGenerator('worker', 0x9e3779b9)
const pacer = new Pacer(rate)
let offered = 0
let refused = 0
while (Atomics.load(stop, 0) === 0) {
  const due = pacer.due()
  for (let k = 0; k < due; k++) {
    offered++
    if (!ring.write(gen.next()).ok) refused++
  }
  Atomics.wait(stop, 0, 0, 5)
}
parentPort!.postMessage({ offered, refused })
