import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { instrument, trace, watchHttp } from '@ringside/instrument'
import { PipelineManager, RingBuffer } from '@ringside/pipeline-manager'
import { createStore } from '@ringside/storage'

// The dashboard's requests view in a real browser: an application on node:http, its functions
// traced by @ringside/instrument and its requests captured by the HTTP watcher, writes into a real
// pipeline on a real SQLite file; the page lists the requests read from that file (in the server's
// reader thread) and, when one is clicked, draws its call tree with durations and its exception.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SHOTS = process.env.RINGSIDE_SCREENSHOT_DIR ?? join(tmpdir(), 'ringside-dashboard')

let dir: string
let pipeline: PipelineManager
let app: Server
let appUrl: string
let browser: Browser
let stopWatching: () => void

class DeclinedError extends Error {
  override name = 'DeclinedError'
}

const price = trace((sku: string, qty: number) => (sku === 'tea' ? 250 : 400) * qty, { module: 'App.Catalog', name: 'price' })
const charge = trace((cents: number) => {
  if (cents > 1000) throw new DeclinedError(`card declined for ${cents} cents`)
  return { authorization: 'ok' }
}, { module: 'App.Payment', name: 'charge' })
const handle = trace(
  async (req: IncomingMessage, res: ServerResponse) => {
    await new Promise((r) => setTimeout(r, 2))
    const qty = Number(new URL(req.url ?? '/', 'http://app').searchParams.get('qty') ?? 1)
    const cents = price('tea', qty)
    try {
      charge(cents)
      res.writeHead(200).end(`paid ${cents}`)
    } catch (e) {
      res.writeHead(402).end((e as Error).message)
    }
  },
  { module: 'App.Http', name: 'handle' },
)

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    const script = new URL('../scripts/ensure-chromium.sh', import.meta.url).pathname
    const r = spawnSync('bash', [script], { stdio: 'inherit' })
    if (r.status !== 0 || !existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}, and ${script} could not install it`)
  }
  dir = mkdtempSync(join(tmpdir(), 'ringside-dashboard-requests-'))
  const ring = RingBuffer.create({ size: 1 << 12, maxEventBytes: 1024 })
  pipeline = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: join(dir, 'events.db') }, poolSize: 1, http: {} })
  instrument({ ring, maxCallsPerSecond: 0 })
  stopWatching = watchHttp()
  app = createServer((req, res) => void handle(req, res))
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  })
}, 300_000)

afterAll(async () => {
  stopWatching?.()
  await browser?.close()
  await new Promise((r) => app?.close(r))
  await pipeline?.stop({ timeoutMs: 5_000 })
  rmSync(dir, { recursive: true, force: true })
})

describe('the dashboard requests view', () => {
  it('lists the captured requests and draws the call tree of the one clicked, with durations and its exception marked', async () => {
    expect((await fetch(`${appUrl}/pay?qty=2`)).status).toBe(200)
    expect((await fetch(`${appUrl}/pay?qty=9`)).status).toBe(402)

    const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(pipeline.httpAddress!.url)
    // Both requests appear once the writer has stored them (the list is polled).
    await page.waitForFunction("[...document.querySelectorAll('#requests tbody tr')].filter((tr) => tr.textContent.includes('/pay?qty=')).length >= 2", undefined, { timeout: 30_000 })
    const rows = page.locator('#requests tbody tr')
    const texts = await rows.allTextContents()
    // The dashboard's own requests are not the application's: they are not captured.
    expect(texts.filter((t) => t.includes('/requests') || t.includes('/stats'))).toEqual([])
    const declined = rows.filter({ hasText: '/pay?qty=9' })
    const cells = await declined.locator('td').allTextContents()
    expect(cells[1]).toBe('GET')
    expect(cells[3]).toBe('402')
    expect(Number(cells[4])).toBeGreaterThan(0)
    const correlation = cells[5]!
    expect(correlation).toMatch(/^[0-9a-f]{32}$/)

    await declined.click()
    await page.waitForFunction(`document.querySelector('#request-tree').dataset.correlation === ${JSON.stringify(correlation)} && document.querySelector('#request-tree li.call') !== null`, undefined, { timeout: 15_000 })
    const root = page.locator('#request-tree > ul > li.call')
    expect(await root.getAttribute('data-function')).toBe('App.Http.handle')
    expect(await root.locator('> .line > .duration').textContent()).toMatch(/^\d+\.\d\d ms$/)
    const children = root.locator('> ul > li.call')
    expect(await children.evaluateAll((lis) => lis.map((li) => (li as unknown as { dataset: { function: string } }).dataset.function))).toEqual(['App.Catalog.price', 'App.Payment.charge'])
    const failed = root.locator('> ul > li.call.exception')
    expect(await failed.count()).toBe(1)
    expect(await failed.getAttribute('data-function')).toBe('App.Payment.charge')
    expect(await failed.locator('> .line').textContent()).toContain('!! DeclinedError: card declined for 2250 cents')
    expect(await root.locator('> ul > li.call').first().locator('.result').textContent()).toBe('-> 2250')
    // The request's own events stand beside its tree.
    expect(await page.locator('#request-tree > ul > li.other').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^http_server_response GET \/pay\?qty=9 402/)]))

    // The page drew what the store holds for that correlation id.
    const store = await createStore({ kind: 'sqlite', path: join(dir, 'events.db'), readOnly: true })
    const stored = await store.query({ correlationId: correlation })
    await store.close()
    expect(await page.locator('#request-tree li.call').count()).toBe(stored.filter((r) => r.event.type === 'call').length)

    // An unknown correlation id is a clear 404, a missing one a 400.
    const unknown = await fetch(new URL('/requests/tree?correlation=nope', pipeline.httpAddress!.url))
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: string }).error).toBe('not_found')
    const missing = await fetch(new URL('/requests/tree', pipeline.httpAddress!.url))
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { error: string }).error).toBe('invalid_query')
    expect((await fetch(new URL('/requests?limit=0', pipeline.httpAddress!.url))).status).toBe(400)
    expect(errors).toEqual([])
    mkdirSync(SHOTS, { recursive: true })
    const shot = join(SHOTS, 'dashboard-requests.png')
    await page.locator('#requests').scrollIntoViewIfNeeded()
    await page.screenshot({ path: shot, fullPage: true })
    console.log(`dashboard requests screenshot: ${shot}`)
    await page.close()
  })

  it('answers from the memory store where it lives: the latest requests newest first, at most limit of them, and a tree by correlation id', async () => {
    const ring = RingBuffer.create({ size: 1 << 10 })
    const memory = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1, http: {} })
    try {
      for (let k = 1; k <= 5; k++) ring.write({ type: 'http_server_response', pid: '<1.0>', method: 'POST', url: `/orders/${k}`, status: 200 + k, durationMs: k / 2, correlationId: `c${k}` })
      ring.write({ type: 'call', pid: '<1.0>', module: 'M', function: 'f', arity: 0, callId: 1, parentId: 0, correlationId: 'c5' })
      const url = new URL('/requests?limit=3', memory.httpAddress!.url)
      let body: { requests: Array<Record<string, unknown>> } = { requests: [] }
      for (let tries = 0; tries < 200 && body.requests.length < 3; tries++) {
        body = (await (await fetch(url)).json()) as typeof body
        if (body.requests.length < 3) await new Promise((r) => setTimeout(r, 50))
      }
      expect(body.requests.map((r) => [r.method, r.url, r.status, r.durationMs, r.correlationId])).toEqual([
        ['POST', '/orders/5', 205, 2.5, 'c5'],
        ['POST', '/orders/4', 204, 2, 'c4'],
        ['POST', '/orders/3', 203, 1.5, 'c3'],
      ])
      expect(typeof body.requests[0]!.time).toBe('number')
      const tree = (await (await fetch(new URL('/requests/tree?correlation=c5', memory.httpAddress!.url))).json()) as { events: number; tree: Array<Record<string, unknown>> }
      expect(tree.events).toBe(2)
      expect(tree.tree.map((i) => ('node' in i ? 'call' : 'event'))).toEqual(['event', 'call'])
    } finally {
      await memory.stop({ timeoutMs: 5_000 })
    }
  })
})
