import { request } from 'node:http'
import { connect } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PipelineConfigError, PipelineManager, RingBuffer, type PipelineOptions } from '@ringside/pipeline-manager'

// The HTTP server against hostile clients, for real: pipelines with writer threads on loopback, and
// raw node:http requests (so a test can send any Host header or request target). Floods come from
// a worker thread, so the client's own work does not count against the server's event loop.

const blockingStore = new URL('../packages/pipeline-manager/test/fixtures/blocking-store.ts', import.meta.url).href
const json = 'application/json'

interface Reply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  readonly body: any
}

/** One request on its own connection, with exactly the Host header and target given. */
function raw(port: number, o: { method?: string; path?: string; host?: string; headers?: Record<string, string>; body?: unknown }): Promise<Reply> {
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body)
  const headers: Record<string, string | number> = { host: o.host ?? `127.0.0.1:${port}`, ...o.headers }
  if (body !== undefined) Object.assign(headers, { 'content-type': json, 'content-length': Buffer.byteLength(body) }, o.headers)
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: o.method ?? (body === undefined ? 'GET' : 'POST'), path: o.path ?? '/', headers, agent: false, setHost: false })
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => {
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          parsed = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

let main: PipelineManager
let port: number

beforeAll(async () => {
  main = await PipelineManager.start({ ring: RingBuffer.create({ size: 1 << 12 }), store: { kind: 'memory' }, poolSize: 1, http: { configToken: 'cfg-secret' } })
  port = main.httpAddress!.port
})
afterAll(async () => {
  await main?.stop({ timeoutMs: 2_000 })
})

describe('POST /ingest under a flood', () => {
  it('refuses a request over maxEventsPerRequest with 413 too_many_events, offering none of its events', async () => {
    const before = main.ring.stats().totalWrites
    const res = await raw(port, { path: '/ingest', body: { events: Array.from({ length: 1001 }, (_, k) => ({ type: 'over', k })) } })
    expect(res.status).toBe(413)
    expect(res.body).toMatchObject({ error: 'too_many_events', limit: 1000, events: 1001 })
    expect(main.ring.stats().totalWrites).toBe(before)
    const exact = await raw(port, { path: '/ingest', body: { events: Array.from({ length: 1000 }, (_, k) => ({ type: 'at_limit', k })) } })
    expect(exact.status).toBe(200)
    expect(exact.body.accepted).toBe(1000)
  })

  it('answers a batch of refused events compactly: counts by reason and only the first 100 errors', async () => {
    const events = [...Array.from({ length: 700 }, () => 0), ...Array.from({ length: 300 }, () => ({ type: 'big', pad: 'x'.repeat(600) }))]
    const res = await raw(port, { path: '/ingest', body: { events } })
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({ accepted: 0, rejected: 1000, rejectedByReason: { invalid_event: 700, too_large: 300 } })
    expect(res.body.errors).toHaveLength(100)
    expect(res.body.errors[0]).toMatchObject({ index: 0, error: 'invalid_event' })
    expect(res.body.errors[99]).toMatchObject({ index: 99 })
    expect(res.text.length).toBeLessThan(16_384)
  })

  it('keeps the event loop free while a client posts maximum-size bodies, and every reply stays small', async () => {
    const lag = monitorEventLoopDelay({ resolution: 20 })
    const client = new Worker(
      `
      const { parentPort, workerData: { url, requests, concurrency } } = require('node:worker_threads')
      // About 1 MiB each: half a million events that are not objects, a thousand that are too
      // large, and an event nested half a million levels deep.
      const zeros = '{"events":[' + '0,'.repeat(524_281) + '0]}'
      const big = JSON.stringify({ events: Array.from({ length: 1000 }, () => ({ type: 'flood', pad: 'y'.repeat(1000) })) })
      const deep = '{"type":"deep","x":' + '['.repeat(524_000) + ']'.repeat(524_000) + '}'
      ;(async () => {
        const replies = []
        let next = 0
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (next < requests) {
            const body = [zeros, big, deep][next++ % 3]
            const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
            replies.push({ status: res.status, bytes: (await res.text()).length })
          }
        }))
        parentPort.postMessage({ zeros: zeros.length, replies })
      })().catch((e) => parentPort.postMessage({ error: String(e) }))
      `,
      { eval: true, workerData: { url: new URL('/ingest', main.httpAddress!.url).href, requests: 24, concurrency: 4 } },
    )
    lag.enable()
    const done = await new Promise<{ zeros: number; replies: { status: number; bytes: number }[]; error?: string }>((resolve, reject) => {
      client.once('message', resolve)
      client.once('error', reject)
    })
    lag.disable()
    await client.terminate()
    expect(done.error).toBeUndefined()
    expect(done.zeros).toBe(1 << 20)
    expect(done.replies).toHaveLength(24)
    // A generous bound: an unbounded reply to one such body held this loop for seconds.
    expect(lag.max / 1e6, 'the longest event-loop delay, ms').toBeLessThan(1_000)
    const byStatus = done.replies.reduce<Record<number, number>>((m, r) => ((m[r.status] = (m[r.status] ?? 0) + 1), m), {})
    expect(byStatus).toEqual({ 400: 8, 413: 8, 422: 8 })
    for (const r of done.replies) expect(r.bytes).toBeLessThan(16_384)
  })
})

describe('POST /ingest with deep bodies', () => {
  it('refuses a body nested deeper than 100 levels with 400 too_deep, without parsing it', async () => {
    const before = main.ring.stats().totalWrites
    const res = await raw(port, { path: '/ingest', body: `{"type":"deep","x":${'['.repeat(200)}${']'.repeat(200)}}` })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'too_deep' })
    expect(main.ring.stats().totalWrites).toBe(before)
    // Brackets inside strings are text, not nesting; a deep but legal event is the ring's to judge.
    const text = await raw(port, { path: '/ingest', body: { type: 'brackets', s: '[{"\\'.repeat(100) } })
    expect(text.status).toBe(200)
    const legal = await raw(port, { path: '/ingest', body: `{"type":"nested","x":${'['.repeat(60)}${']'.repeat(60)}}` })
    expect(legal.status).toBe(200)
  })
})

describe('POST /ingest against a block ring', () => {
  let p: PipelineManager
  let pport: number
  beforeAll(async () => {
    // Writers never finish a batch, so the ring stays full; a blocking write would wait 10 s.
    const ring = RingBuffer.create({ size: 64, overflowStrategy: 'block', blockTimeoutMs: 10_000 })
    p = await PipelineManager.start({ ring, store: { target: blockingStore }, poolSize: 1, batchTimeoutMs: 60_000, shutdown: 200, http: {} })
    pport = p.httpAddress!.port
  })
  afterAll(async () => {
    await p?.stop({ timeoutMs: 500 })
  })

  it('takes what fits and refuses the rest as full without waiting for space', async () => {
    const res = await raw(pport, { path: '/ingest', body: { events: Array.from({ length: 100 }, (_, k) => ({ type: 'fill', k })) } })
    expect(res.status).toBe(207)
    expect(res.body).toMatchObject({ accepted: 64, rejected: 36, rejectedByReason: { full: 36 } })
    expect(p.ring.stats().dropped.timeout).toBe(0)
  })

  it('answers 429 at once against the full ring: the write never waits', async () => {
    const res = await raw(pport, { path: '/ingest', body: { type: 'one more' } })
    expect(res.status).toBe(429)
    expect(res.headers['retry-after']).toBe('1')
    expect(res.body).toMatchObject({ accepted: 0, errors: [{ index: 0, error: 'full' }] })
    // A write that had waited would have been refused with `timeout` after blockTimeoutMs.
    expect(p.ring.stats().dropped.timeout).toBe(0)
  })
})

describe('the Host check', () => {
  it('refuses a request for another host with 421 before serving or ingesting anything', async () => {
    const before = main.ring.stats().totalWrites
    for (const path of ['/stats', '/healthz', '/metrics', '/']) {
      const res = await raw(port, { path, host: 'attacker.example' })
      expect(res.status, path).toBe(421)
      expect(res.body).toMatchObject({ error: 'misdirected_request' })
    }
    const ingest = await raw(port, { path: '/ingest', host: `attacker.example:${port}`, body: { type: 'rebound' } })
    expect(ingest.status).toBe(421)
    expect(main.ring.stats().totalWrites).toBe(before)
    const config = await raw(port, { path: '/config', host: 'attacker.example', headers: { authorization: 'Bearer cfg-secret' } })
    expect(config.status).toBe(421)
  })

  it('serves loopback names and IP literals on any port, and names that only look alike not at all', async () => {
    for (const host of [`localhost:${port}`, 'localhost', `LOCALHOST:${port}`, `localhost.:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, '10.1.2.3:8080', '[2001:db8::1]']) {
      expect((await raw(port, { path: '/healthz', host })).status, host).toBe(200)
    }
    for (const host of ['localhost.attacker.example', '127.0.0.1.nip.io', 'attacker.example:localhost', '', '[::1', '127.0.0.1:80:80', 'a b']) {
      expect((await raw(port, { path: '/healthz', host })).status, host).toBe(421)
    }
  })

  it('serves an HTTP/1.0 request without Host, which no browser sends, and refuses one with a foreign Host', async () => {
    const http10 = (lines: string[]) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(`${lines.join('\r\n')}\r\n\r\n`))
        let text = ''
        socket.setEncoding('utf8')
        socket.on('data', (c: string) => (text += c))
        socket.on('end', () => resolve(text))
        socket.on('error', reject)
      })
    expect(await http10(['GET /healthz HTTP/1.0'])).toMatch(/^HTTP\/1\.1 200 /)
    expect(await http10(['GET /healthz HTTP/1.0', 'Host: attacker.example'])).toMatch(/^HTTP\/1\.1 421 /)
  })

  it('refuses an absolute request target for another host, and a target that is no URL', async () => {
    const abs = await raw(port, { path: 'http://attacker.example/stats' })
    expect(abs.status).toBe(421)
    const own = await raw(port, { path: `http://127.0.0.1:${port}/healthz` })
    expect(own.status).toBe(200)
    // `//` is not a path new URL() can resolve; it once escaped the handler as an unhandled rejection.
    const slashes = await raw(port, { path: '//' })
    expect(slashes.status).toBe(404)
    expect((await raw(port, { path: '//attacker.example/stats' })).status).toBe(404)
  })

  it('serves the names of allowedHosts, a leading dot standing for a domain and its subdomains', async () => {
    const p = await PipelineManager.start({
      ring: RingBuffer.create({ size: 16 }),
      store: { kind: 'memory' },
      poolSize: 1,
      http: { allowedHosts: ['ringside.example', '.corp.example'] },
    })
    try {
      const pp = p.httpAddress!.port
      for (const host of ['ringside.example', 'RingSide.example:8443', 'corp.example', 'a.b.corp.example:80', `localhost:${pp}`]) {
        expect((await raw(pp, { path: '/healthz', host })).status, host).toBe(200)
      }
      for (const host of ['other.example', 'xcorp.example', 'ringside.example.evil']) {
        expect((await raw(pp, { path: '/healthz', host })).status, host).toBe(421)
      }
    } finally {
      await p.stop({ timeoutMs: 2_000 })
    }
  })
})

describe('the ingest token', () => {
  let p: PipelineManager
  let pport: number
  beforeAll(async () => {
    p = await PipelineManager.start({ ring: RingBuffer.create({ size: 256 }), store: { kind: 'memory' }, poolSize: 1, http: { ingestToken: 'in-secret' } })
    pport = p.httpAddress!.port
  })
  afterAll(async () => {
    await p?.stop({ timeoutMs: 2_000 })
  })

  it('takes events only with the bearer token, refusing others with 401 before reading the body', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'in-secret' }, { authorization: 'Basic aW4tc2VjcmV0' }]) {
      const res = await raw(pport, { path: '/ingest', body: { type: 'unauthorized' }, headers })
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
      expect(res.body).toMatchObject({ error: 'unauthorized' })
    }
    // Refused before the body is read: a body too large for the limit still gets 401, not 413.
    const huge = await raw(pport, { path: '/ingest', body: 'x'.repeat(2 << 20) })
    expect(huge.status).toBe(401)
    expect(p.ring.stats().totalWrites).toBe(0)
    const ok = await raw(pport, { path: '/ingest', body: { type: 'authorized' }, headers: { authorization: 'Bearer in-secret' } })
    expect(ok.status).toBe(200)
    expect(p.ring.stats().totalWrites).toBe(1)
  })

  it('never shows the token in the config, its JSON or the error for a malformed one', async () => {
    expect(JSON.stringify(p.getState().config)).not.toContain('in-secret')
    expect(Object.keys(p.getState().config.http!)).not.toContain('ingestToken')
    const err = (await PipelineManager.start({ ring: RingBuffer.create({ size: 16 }), store: { kind: 'memory' }, http: { ingestToken: 'two words' } }).catch((e: unknown) => e)) as Error
    expect(err).toBeInstanceOf(PipelineConfigError)
    expect(err).toMatchObject({ code: 'invalid_option', option: 'http.ingestToken' })
    expect(err.message).not.toContain('two words')
  })
})

describe('PipelineManager.start on an address beyond loopback', () => {
  it.each([
    [{ host: '0.0.0.0' }],
    [{ host: '::' }],
    [{ host: '192.0.2.10', configToken: 'c' }],
    [{ host: 'ringside.internal', configToken: 'c', allowUnauthenticated: false }],
  ])('refuses %j without an ingest token, naming http.ingestToken, and leaves the ring open', async (http) => {
    const ring = RingBuffer.create({ size: 16 })
    const err = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1, http } as PipelineOptions).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PipelineConfigError)
    expect(err).toMatchObject({ code: 'invalid_option', option: 'http.ingestToken' })
    expect((err as Error).message).toMatch(/allowUnauthenticated/)
    expect(ring.closed).toBe(false)
  })
})

describe('POST /config with hostile patches', () => {
  const auth = { authorization: 'Bearer cfg-secret' }

  it.each([
    ['{"breaker":{"constructor":5,"toString":1}}', 'invalid_option', 'breaker.constructor'],
    ['{"health":{"hasOwnProperty":0.5}}', 'invalid_option', 'health.hasOwnProperty'],
    ['{"__proto__":{"batchSize":7}}', 'invalid_option', '__proto__'],
    ['{"constructor":{"batchSize":7}}', 'invalid_option', 'constructor'],
    ['{"store":{"kind":"memory"}}', 'not_live', 'store'],
    ['{"ring":1}', 'not_live', 'ring'],
    ['{"http":{"port":1}}', 'not_live', 'http'],
  ])('refuses %s with 422 %s naming %s, changing nothing', async (patch, error, option) => {
    const before = main.getState().config
    const res = await raw(port, { path: '/config', body: patch, headers: auth })
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({ error, option })
    expect(main.getState().config.version).toBe(before.version)
    const got = await raw(port, { path: '/config', headers: auth })
    expect(Object.keys(got.body.config.breaker)).toEqual(['failureRateThreshold', 'minRequests', 'windowMs', 'coolDownMs', 'probeLeaseMs'])
    expect(Object.keys(got.body.config.health)).toEqual(['ringFillDegraded', 'ringFillUnhealthy', 'oldestUnstoredMs', 'restartBudgetDegraded', 'storeProbeMs', 'stageErrorsDegraded'])
  })
})

describe('errors of the HTTP layer', () => {
  it('answers every refusal as JSON { error, message } with a documented code', async () => {
    const codes = new Set([
      'not_found', 'method_not_allowed', 'misdirected_request', 'unauthorized', 'unsupported_media_type', 'body_too_large', 'too_many_events',
      'malformed_json', 'invalid_body', 'body_unreadable', 'closed', 'stopped', 'invalid_option', 'not_live', 'internal_error',
    ])
    const auth = { authorization: 'Bearer cfg-secret' }
    const cases: Reply[] = [
      await raw(port, { path: '/nope' }),
      await raw(port, { path: '/healthz', method: 'DELETE' }),
      await raw(port, { path: '/healthz', host: 'evil.example' }),
      await raw(port, { path: '/config' }),
      await raw(port, { path: '/ingest', body: 'a=b', headers: { 'content-type': 'text/plain' } }),
      await raw(port, { path: '/ingest', body: 'x'.repeat(9 << 20) }),
      await raw(port, { path: '/ingest', body: { events: Array.from({ length: 1001 }, () => ({})) } }),
      await raw(port, { path: '/ingest', body: '{"events": [' }),
      await raw(port, { path: '/ingest', body: '[]' }),
      await raw(port, { path: '/config', body: '{"batchSize": 0}', headers: auth }),
      await raw(port, { path: '/config', body: '{"strategy": "one_for_all"}', headers: auth }),
    ]
    for (const res of cases) {
      expect(res.status).toBeGreaterThanOrEqual(400)
      expect(res.status).toBeLessThan(500)
      expect(res.headers['content-type']).toMatch(/^application\/json/)
      expect(codes.has(res.body.error), res.text).toBe(true)
      expect(typeof res.body.message).toBe('string')
    }
  })
})
