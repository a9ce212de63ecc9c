// Receipts are computed on a worker thread; a job waits for its answer by id.

import { Worker } from 'node:worker_threads'

let worker
let nextId = 1
const waiting = new Map()

export function startReceipts() {
  worker = new Worker(new URL('./receipt-worker.mjs', import.meta.url))
  worker.on('message', (m) => settle(m))
  worker.unref()
}

function settle({ id, receipt }) {
  const resolve = waiting.get(id)
  waiting.delete(id)
  resolve?.(receipt)
}

export function requestReceipt(order) {
  const id = nextId++
  return new Promise((resolve) => {
    waiting.set(id, resolve)
    worker.postMessage({ id, ...order })
  })
}

export async function stopReceipts() {
  await worker?.terminate()
  worker = undefined
}
