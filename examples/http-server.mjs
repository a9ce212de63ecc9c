// A node:http server that records one event per request into Ringside and serves /healthz from the
// pipeline's health. SIGINT or SIGTERM stops the server, then the pipeline, and prints the report.
// Run: PORT=3000 node http-server.mjs   then: curl localhost:3000/hello; curl localhost:3000/healthz
import { createServer } from 'node:http'
import { randomUUID } from 'node:crypto'
import { PipelineManager, RingBuffer } from 'ringside'

const ring = RingBuffer.create({ size: 1 << 16 })
const pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: process.env.DB ?? 'events.db' } })

const server = createServer((req, res) => {
  const started = performance.now()
  const correlationId = req.headers['x-request-id'] ?? randomUUID()
  res.on('finish', () => {
    // After the response is on its way: the request never waits for Ringside.
    ring.write({ type: 'request', method: req.method, path: req.url, status: res.statusCode, ms: performance.now() - started, correlationId })
  })
  if (req.url === '/healthz') {
    const health = pipeline.healthCheck()
    res.writeHead(health.status === 'unhealthy' ? 503 : 200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(health))
    return
  }
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end(`hello from ${req.url}\n`)
})

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`)
})

async function shutdown() {
  await new Promise((resolve) => server.close(resolve))
  const report = await pipeline.stop({ timeoutMs: 10_000 })
  console.log(`stopped: offered ${report.offered}, stored ${report.stored}, balanced: ${report.balanced}`)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
