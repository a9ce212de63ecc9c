import { createServer, type Server } from 'node:net'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PipelineConfigError, PipelineManager, RingBuffer, type PipelineOptions } from '@ringside/pipeline-manager'

// The pipeline's HTTP server for real: pipelines with writer threads, and Node's fetch against
// their loopback port. Every endpoint with good and bad input, and the order of shutdown.

const blockingStore = new URL('../packages/pipeline-manager/test/fixtures/blocking-store.ts', import.meta.url).href

const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 15_000) => {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const json = 'application/json'
const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': json, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })

interface Sample {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: number
}

/** A strict reader of the Prometheus text format: every line is a comment or a sample, every sample's family has a TYPE. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (t) {
      types.set(t[1]!, t[2]!)
      continue
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not Prometheus text: ${line}`)
    const labels: Record<string, string> = {}
    const rest = (m[2] ?? '').replace(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g, (_, k: string, v: string) => ((labels[k] = v), ''))
    if (rest !== '') throw new Error(`bad labels in: ${line}`)
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3])
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value in: ${line}`)
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '')
    if (!types.has(m[1]!) && types.get(family) !== 'histogram') throw new Error(`sample before its TYPE: ${line}`)
    samples.push({ name: m[1]!, labels, value })
  }
  return { types, samples }
}

let main: PipelineManager
let base: string

beforeAll(async () => {
  main = await PipelineManager.start({ ring: RingBuffer.create({ size: 1 << 12 }), store: { kind: 'memory' }, poolSize: 2, http: { port: 0, configToken: 'secret' } })
  base = main.httpAddress!.url
})
afterAll(async () => {
  await main?.stop({ timeoutMs: 2_000 })
})

describe('the http option', () => {
  it.each([
    [{ port: 70_000 }, 'http.port'],
    [{ port: 1.5 }, 'http.port'],
    [{ host: '' }, 'http.host'],
    [{ bodyLimitBytes: 10 }, 'http.bodyLimitBytes'],
    [{ configToken: '' }, 'http.configToken'],
    [{ ingestToken: 42 }, 'http.ingestToken'],
    [{ maxEventsPerRequest: 0 }, 'http.maxEventsPerRequest'],
    [{ maxEventsPerRequest: 100_001 }, 'http.maxEventsPerRequest'],
    [{ allowedHosts: 'example.com' }, 'http.allowedHosts'],
    [{ allowedHosts: ['ok.example', 'example.com:8080'] }, 'http.allowedHosts[1]'],
    [{ allowedHosts: ['*'] }, 'http.allowedHosts[0]'],
    [{ allowUnauthenticated: 'yes' }, 'http.allowUnauthenticated'],
    [{ colour: 'red' }, 'http.colour'],
    [{ toString: 'x' }, 'http.toString'],
    ['yes', 'http'],
  ])('refuses %j naming the option', async (http, option) => {
    const ring = RingBuffer.create({ size: 16 })
    const err = await PipelineManager.start({ ring, store: { kind: 'memory' }, http } as unknown as PipelineOptions).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PipelineConfigError)
    expect(err).toMatchObject({ code: 'invalid_option', option })
  })

  it('never echoes a malformed token in its error', async () => {
    const err = (await PipelineManager.start({ ring: RingBuffer.create({ size: 16 }), store: { kind: 'memory' }, http: { configToken: 'my secret' } }).catch((e: unknown) => e)) as Error
    expect(err).toMatchObject({ option: 'http.configToken' })
    expect(err.message).not.toContain('my secret')
  })

  it('binds loopback at a free port by default and tells the address', () => {
    expect(main.httpAddress).toMatchObject({ host: '127.0.0.1', url: `http://127.0.0.1:${main.httpAddress!.port}/` })
    expect(main.httpAddress!.port).toBeGreaterThan(0)
  })

  it('is fixed at start: updateConfig refuses it as not live', async () => {
    await expect(main.updateConfig({ http: { port: 1 } })).rejects.toMatchObject({ code: 'not_live', option: 'http' })
  })

  it('rejects the start with http_listen_failed when the port is taken, and leaves the ring open', async () => {
    const taken: Server = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    try {
      const port = (taken.address() as { port: number }).port
      const ring = RingBuffer.create({ size: 16 })
      await expect(PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1, http: { port } })).rejects.toMatchObject({
        code: 'http_listen_failed',
        cause: { code: 'EADDRINUSE' },
      })
      expect(ring.closed).toBe(false)
      expect(ring.write({ type: 'after' }).ok).toBe(true)
    } finally {
      taken.close()
    }
  })
})

describe('GET /healthz and routing', () => {
  it('answers 200 while the manager runs', async () => {
    const res = await fetch(new URL('/healthz', base))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ alive: true, status: 'running' })
    expect((await fetch(new URL('/healthz', base), { method: 'HEAD' })).status).toBe(200)
  })

  it('answers 405 with Allow for a wrong method and 404 for an unknown path', async () => {
    const wrong = await fetch(new URL('/healthz', base), { method: 'DELETE' })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('GET')
    const missing = await fetch(new URL('/nope', base))
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: 'not_found' })
  })

  it('serves the dashboard page at /', async () => {
    const res = await fetch(base)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    for (const id of ['stored-rate', 'ring-fill', 'writers', 'health', 'throughput', 'latency', 'drops']) expect(html).toContain(`id="${id}"`)
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/) // self-contained: nothing from elsewhere
  })
})

describe('GET /readyz', () => {
  it('answers 200 with the checks when the pipeline is healthy', async () => {
    const res = await fetch(new URL('/readyz', base))
    expect(res.status).toBe(200)
    const body = (await res.json()) as { ready: boolean; status: string; reasons: string[]; checks: { name: string }[] }
    expect(body).toMatchObject({ ready: true, status: 'healthy', pipeline: 'running', reasons: [] })
    expect(body.checks.map((c) => c.name)).toContain('ring_fill')
  })
})

describe('GET /stats', () => {
  it('returns the metrics as JSON with status, restarts and health', async () => {
    const res = await fetch(new URL('/stats', base))
    expect(res.status).toBe(200)
    const s = (await res.json()) as Record<string, any>
    expect(s).toMatchObject({ status: 'running', poolSize: 2, workerCount: 2, health: { status: 'healthy' }, restarts: { total: 0 } })
    expect(s.writers.map((w: { id: string; state: string }) => [w.id, w.state])).toEqual([
      ['writer-1', 'running'],
      ['writer-2', 'running'],
    ])
    for (const path of ['totals.eventsStored', 'rates.storedPerSec', 'ring.utilization', 'dropped.full', 'offered', 'time']) {
      expect(typeof path.split('.').reduce((o, k) => o[k], s), path).toBe('number')
    }
    expect(s.latency).toHaveProperty('captureToCommitMs')
  })
})

describe('POST /ingest', () => {
  it('takes one event (type trimmed) and the writers store it', async () => {
    const res = await post(base, '/ingest', { type: '  http_call ', pid: '<0.9.0>', module: 'Shop.Cart' })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { accepted: number; rejected: number; keys: string[]; errors: unknown[] }
    expect(body).toMatchObject({ accepted: 1, rejected: 0, errors: [] })
    expect(body.keys[0]).toMatch(new RegExp(`^${(main.ring as RingBuffer).id}:\\d+$`))
    await until(async () => (await main.memoryStore!.query({ type: 'http_call' })).length === 1, 'the event stored')
    const [row] = await main.memoryStore!.query({ type: 'http_call' })
    expect(row).toMatchObject({ key: body.keys[0], event: { type: 'http_call', pid: '<0.9.0>' } })
  })

  it('takes a batch in part: 207 with an error per refused event, by index', async () => {
    const events = [{ type: 'a' }, { pid: 'no type' }, 42, { type: 'b', arity: -1 }, { type: 'big', blob: 'x'.repeat(2_000) }, { type: '   ' }, { type: 'c' }]
    const res = await post(base, '/ingest', { events })
    expect(res.status).toBe(207)
    const body = (await res.json()) as { accepted: number; rejected: number; keys: string[]; errors: { index: number; error: string; message: string }[] }
    expect(body).toMatchObject({ accepted: 2, rejected: 5 })
    expect(body.keys).toHaveLength(2)
    expect(body.errors.map((e) => [e.index, e.error])).toEqual([
      [1, 'invalid_event'],
      [2, 'invalid_event'],
      [3, 'invalid_event'],
      [4, 'too_large'],
      [5, 'invalid_event'],
    ])
    expect(body.errors[0]!.message).toMatch(/type/)
    expect(body.errors[2]!.message).toMatch(/arity/)
  })

  it('answers 422 when every event of a batch is refused for itself', async () => {
    const res = await post(base, '/ingest', { events: [{ nope: 1 }, 'text'] })
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ accepted: 0, rejected: 2 })
  })

  it.each([
    ['{"type": "call", ', 400, 'malformed_json'],
    ['[{"type": "call"}]', 400, 'invalid_body'],
    ['"call"', 400, 'invalid_body'],
    ['null', 400, 'invalid_body'],
    ['{"events": []}', 400, 'invalid_body'],
    ['{"events": {"type": "x"}}', 400, 'invalid_body'],
  ])('refuses the body %s with %i %s', async (body, status, error) => {
    const res = await post(base, '/ingest', body)
    expect(res.status).toBe(status)
    expect(await res.json()).toMatchObject({ error })
  })

  it('refuses a body that is not JSON with 415, and one over the limit with 413', async () => {
    const text = await post(base, '/ingest', 'type=call', { 'content-type': 'application/x-www-form-urlencoded' })
    expect(text.status).toBe(415)
    expect(await text.json()).toMatchObject({ error: 'unsupported_media_type' })
    const events = Array.from({ length: 20_000 }, (_, k) => ({ type: 'bulk', n: k, pad: 'y'.repeat(60) })) // about 1.5 MiB
    const big = await post(base, '/ingest', { events })
    expect(big.status).toBe(413)
    expect(await big.json()).toMatchObject({ error: 'body_too_large' })
  })

  it('answers 405 to GET', async () => {
    expect((await fetch(new URL('/ingest', base))).status).toBe(405)
  })
})

describe('POST /config', () => {
  const auth = { authorization: 'Bearer secret' }

  it('answers 401 without the token or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'secret' }]) {
      const res = await post(base, '/config', { batchSize: 10 }, headers)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    }
    expect(main.getState().config.version).toBe(1)
  })

  it('applies a patch with the token and returns the effective config, without the token in it', async () => {
    const res = await post(base, '/config', { batchSize: 123, lingerMs: 4 }, auth)
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).not.toContain('secret')
    expect(JSON.parse(text)).toMatchObject({ config: { batchSize: 123, lingerMs: 4, version: 2, http: { host: '127.0.0.1' } } })
    expect(main.getState().config).toMatchObject({ batchSize: 123, version: 2 })
    const got = await fetch(new URL('/config', base), { headers: auth })
    expect(await got.json()).toMatchObject({ config: { batchSize: 123, version: 2 } })
  })

  it.each([
    [{ batchSize: -1 }, 'invalid_option', 'batchSize'],
    [{ health: { ringFillDegraded: 3 } }, 'invalid_option', 'health.ringFillDegraded'],
    [{ strategy: 'one_for_all' }, 'not_live', 'strategy'],
    [{ nonsense: true }, 'invalid_option', 'nonsense'],
    [{ stages: [{ target: '/tmp/anything.js' }] }, 'not_live', 'stages'],
  ])('refuses the patch %j with 422, the code and the option', async (patch, error, option) => {
    const before = main.getState().config.version
    const res = await post(base, '/config', patch, auth)
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ error, option })
    expect(main.getState().config.version).toBe(before)
  })

  it('refuses malformed JSON with 400', async () => {
    expect((await post(base, '/config', '{batchSize', auth)).status).toBe(400)
  })
})

describe('GET /metrics', () => {
  it('exposes counters, gauges and histograms named ringside_* with labels, in the Prometheus text format', async () => {
    for (let k = 0; k < 500; k++) main.ring.write({ type: 'metric', k })
    await until(() => main.ring.stats().ready + main.ring.stats().claimed === 0 && main.getMetrics().totals.eventsStored >= 500, 'the ring drained')
    await fetch(new URL('/healthz', base))
    const res = await fetch(new URL('/metrics', base))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const { types, samples } = parsePrometheus(await res.text())
    const get = (name: string, labels: Record<string, string> = {}) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    for (const [name, type] of [
      ['ringside_events_offered_total', 'counter'],
      ['ringside_events_dropped_total', 'counter'],
      ['ringside_writer_events_stored_total', 'counter'],
      ['ringside_writer_restarts_total', 'counter'],
      ['ringside_restarts_total', 'counter'],
      ['ringside_ring_utilization', 'gauge'],
      ['ringside_writer_state', 'gauge'],
      ['ringside_health_check_status', 'gauge'],
      ['ringside_batch_write_seconds', 'histogram'],
      ['ringside_capture_to_commit_seconds', 'histogram'],
      ['ringside_http_requests_total', 'counter'],
    ] as const) {
      expect(types.get(name), name).toBe(type)
    }
    for (const name of types.keys()) expect(name).toMatch(/^ringside_/)
    expect(get('ringside_events_dropped_total', { reason: 'full' })).toHaveLength(1)
    expect(get('ringside_writer_state', { writer: 'writer-1', state: 'running' })[0]?.value).toBe(1)
    expect(get('ringside_health_check_status', { check: 'writers' })[0]?.value).toBe(0)
    expect(get('ringside_http_requests_total', { route: '/healthz', code: '200' })[0]?.value).toBeGreaterThan(0)
    // The per-writer counters add up to the pipeline's totals.
    const stored = get('ringside_writer_events_stored_total').reduce((a, s) => a + s.value, 0)
    expect(stored).toBe(main.getMetrics().totals.eventsStored)
    // Each writer's histogram: cumulative buckets ending in +Inf = _count; all writers together saw every stored event.
    let counted = 0
    for (const writer of ['writer-1', 'writer-2']) {
      const buckets = get('ringside_capture_to_commit_seconds_bucket', { writer })
      expect(buckets.length).toBe(64)
      const les = buckets.map((b) => Number(b.labels.le === '+Inf' ? Infinity : b.labels.le))
      expect(les).toEqual([...les].sort((a, b) => a - b))
      for (let k = 1; k < buckets.length; k++) expect(buckets[k]!.value).toBeGreaterThanOrEqual(buckets[k - 1]!.value)
      const count = get('ringside_capture_to_commit_seconds_count', { writer })[0]!.value
      expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: count })
      expect(get('ringside_capture_to_commit_seconds_sum', { writer })[0]!.value).toBeGreaterThan(0)
      counted += count
    }
    expect(counted).toBe(stored)
  })
})

describe('a full ring, a failing readiness, no /config without a token', () => {
  let p: PipelineManager
  let pbase: string
  beforeAll(async () => {
    const ring = RingBuffer.create({ size: 256 })
    p = await PipelineManager.start({ ring, store: { target: blockingStore }, poolSize: 1, batchTimeoutMs: 60_000, shutdown: 200, http: {} })
    pbase = p.httpAddress!.url
  })
  afterAll(async () => {
    await p?.stop({ timeoutMs: 500 })
  })

  it('takes what fits (207), then answers 429 with Retry-After', async () => {
    const first = await post(pbase, '/ingest', { events: Array.from({ length: 300 }, (_, k) => ({ type: 'fill', k })) })
    expect(first.status).toBe(207)
    const body = (await first.json()) as { accepted: number; errors: { index: number; error: string }[] }
    expect(body.accepted).toBe(256)
    expect(body.errors).toHaveLength(44)
    expect(body.errors.every((e) => e.error === 'full')).toBe(true)
    expect(body.errors[0]!.index).toBe(256)
    const refused = await post(pbase, '/ingest', { type: 'one more' })
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(await refused.json()).toMatchObject({ accepted: 0, errors: [{ index: 0, error: 'full' }] })
  })

  it('answers /readyz with 503 and the reasons', async () => {
    const res = await fetch(new URL('/readyz', pbase))
    expect(res.status).toBe(503)
    const body = (await res.json()) as { ready: boolean; status: string; reasons: string[] }
    expect(body).toMatchObject({ ready: false, status: 'unhealthy' })
    expect(body.reasons.some((r) => r.startsWith('ring_fill: ring 100.0% full'))).toBe(true)
  })

  it('has no /config endpoint without a configured token', async () => {
    expect((await post(pbase, '/config', { batchSize: 10 }, { authorization: 'Bearer anything' })).status).toBe(404)
    expect((await fetch(new URL('/config', pbase))).status).toBe(404)
  })

  it('answers 503 once the ring is closed', async () => {
    p.ring.close()
    const res = await post(pbase, '/ingest', { type: 'late' })
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ error: 'closed' })
  })
})

describe('stop', () => {
  it('stops accepting HTTP first, lets a request in flight finish into the open ring, then drains and closes', async () => {
    const ring = RingBuffer.create({ size: 1 << 10 })
    const p = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1, http: {} })
    const { port, url } = p.httpAddress!
    const body = JSON.stringify({ events: [{ type: 'in_flight', n: 1 }, { type: 'in_flight', n: 2 }] })
    const half = body.length >> 1
    // A request whose body has only half arrived when stop begins.
    const req = request({ host: '127.0.0.1', port, path: '/ingest', method: 'POST', agent: false, headers: { 'content-type': json, 'content-length': Buffer.byteLength(body) } })
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      })
      req.on('error', reject)
    })
    // Written means connected and handed to the kernel; the server (this very event loop) accepts
    // it in its next poll phase, well before a 50 ms timer fires.
    await new Promise<void>((resolve) => req.write(body.slice(0, half), () => resolve()))
    await new Promise((r) => setTimeout(r, 50))

    const stopping = p.stop({ timeoutMs: 5_000 })
    await expect(fetch(new URL('/healthz', url))).rejects.toThrow() // no new connections
    expect(ring.closed).toBe(false) // the ring still takes events while the request finishes
    req.end(body.slice(half))
    const res = await response
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toMatchObject({ accepted: 2, rejected: 0 })
    const report = await stopping
    expect(ring.closed).toBe(true)
    expect(report).toMatchObject({ accepted: 2, stored: 2, inFlight: 0, balanced: true, timedOut: false })
    expect(report.rejected.closed).toBe(0)
    expect(p.httpAddress).toBeUndefined()
    await expect(fetch(new URL('/healthz', url))).rejects.toThrow()
  })
})
