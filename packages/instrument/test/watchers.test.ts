import { beforeAll, describe, expect, it } from 'vitest'
import { runApp, storedEvents, type AppRun } from './run-app.js'

type Ev = Record<string, any>

describe('watchHttp (through the register hook)', () => {
  // One run of the HTTP fixture serves every test here: they read what it stored.
  let http: AppRun
  beforeAll(async () => {
    http = await runApp('http.mjs')
  })

  it('gives every event of one request the trace id of its traceparent, across await, timers, fetch and http.get', async () => {
    const run = http
    expect(run.stderr).toBe('')
    expect(run.stdout).toContain('statuses 200 404')
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const ev = (await storedEvents(run.db, { correlationId: traceId })) as Ev[]
    const kinds = ev.map((e) => (e.type === 'call' ? `call ${e.function}` : e.type))
    expect(kinds[0]).toBe('http_server_request')
    expect(kinds).toEqual(expect.arrayContaining(['call handle', 'call loadUser', 'call sleep', 'call viaTimer', 'call render', 'http_client_request', 'http_client_response', 'http_server_response']))
    // render runs in a timer callback: still the request's
    expect(ev.filter((e) => e.type === 'call' && e.function === 'render')).toHaveLength(2)
    const response = ev.find((e) => e.type === 'http_server_response' && e.url === '/with-calls')!
    expect(response).toMatchObject({ method: 'GET', status: 200 })
    expect(response.durationMs).toBeGreaterThan(0)
    expect(ev.find((e) => e.type === 'http_server_request')!.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
  })

  it('records fetch and http client requests with their status and duration', async () => {
    const run = http
    const ev = (await storedEvents(run.db, { type: 'http_client_response' })) as Ev[]
    const vias = ev.map((e) => `${e.via} ${e.path} ${e.status}`)
    expect(vias).toEqual(expect.arrayContaining(['fetch /with-calls 200', 'fetch /missing 404', 'fetch /inner 200', 'http /inner 200']))
    for (const e of ev) expect(typeof e.durationMs).toBe('number')
  })

  it('opens a new correlation id for a request without traceparent, shared by its calls and nobody else', async () => {
    const run = http
    const req = ((await storedEvents(run.db, { type: 'http_server_request' })) as Ev[]).find((e) => e.url === '/missing')!
    expect(req.correlationId).toMatch(/^[0-9a-f]{32}$/)
    const ev = (await storedEvents(run.db, { correlationId: req.correlationId })) as Ev[]
    const names = ev.filter((e) => e.type === 'call').map((e) => e.function)
    expect(names.filter((n) => !n.endsWith(' callback'))).toEqual(['handle', 'loadUser', 'sleep', 'viaTimer', 'render', 'render'])
    expect(names).toEqual(expect.arrayContaining(['createServer callback', 'Promise callback', 'setTimeout callback']))
    expect(ev.at(-1)).toMatchObject({ type: 'http_server_response', status: 404 })
  })
})

describe('watchWorkers (through the register hook)', () => {
  it('records a message event for each send to and receive from a worker thread, with from and to pids, redacted', async () => {
    const run = await runApp('workers.mjs')
    expect(run.stdout).toContain('reply 42')
    const ev = (await storedEvents(run.db, { type: 'message' })) as Ev[]
    expect(ev).toHaveLength(2)
    const [send, receive] = ev as [Ev, Ev]
    expect(send).toMatchObject({ direction: 'send', message: { ping: 41, token: '[redacted]' } })
    expect(receive).toMatchObject({ direction: 'receive', message: { echo: 42 } })
    expect(send.from).toBe(receive.to)
    expect(send.to).toBe(receive.from)
    expect(send.to).toMatch(/^<\d+\.[1-9]\d*>$/)
  })
})
