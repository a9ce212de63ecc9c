// The receipt worker thread: prices each line, adds the tax and signs the receipt with a digest.

import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'

const TAX_RATE = 0.2

function buildReceipt({ orderId, lines, totalCents, authorization }) {
  const items = lines.map((l) => ({ ...l, lineCents: l.qty * l.unitCents }))
  const taxCents = Math.round(totalCents - totalCents / (1 + TAX_RATE))
  const body = { orderId, items, totalCents, taxCents, authorization }
  return { ...body, digest: createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16) }
}

parentPort.on('message', (job) => parentPort.postMessage({ id: job.id, receipt: buildReceipt(job) }))
