import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PipelineManager, RingBuffer } from '@ringside/pipeline-manager'

// The dashboard in a real browser: Debian's chromium driven by playwright-core loads the page while
// a producer writes events, finds the history the server kept before it opened, sees its numbers
// move and match /stats, a marker appear after a writer is killed, the stages and dead letters,
// and saves a screenshot (its path is printed). The browser is installed by
// scripts/ensure-chromium.sh when missing.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SHOTS = process.env.RINGSIDE_SCREENSHOT_DIR ?? join(tmpdir(), 'ringside-dashboard')

let pipeline: PipelineManager
let browser: Browser
let producer: NodeJS.Timeout
let written = 0

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    const script = new URL('../scripts/ensure-chromium.sh', import.meta.url).pathname
    const r = spawnSync('bash', [script], { stdio: 'inherit' })
    if (r.status !== 0 || !existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}, and ${script} could not install it`)
  }
  const ring = RingBuffer.create({ size: 1 << 14 })
  const tag = { target: new URL('../packages/async-writer/test/fixtures/tag-stage.ts', import.meta.url).href, options: { tag: 'seen' } }
  pipeline = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 2, http: {}, stages: [tag] })
  ring.write({ pid: 'an event without a type: a dead letter' })
  // A steady producer: 200 events every 20 ms (about 10,000/s).
  producer = setInterval(() => {
    for (let k = 0; k < 200; k++) if (ring.write({ type: 'call', module: 'Shop.Cart', function: 'add', arity: 2, pid: `<0.${k % 40}.0>`, n: written }).ok) written++
  }, 20)
  // Let the server keep some history before any page opens.
  await new Promise((r) => setTimeout(r, 4_000))
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  })
}, 300_000)

afterAll(async () => {
  clearInterval(producer)
  await browser?.close()
  await pipeline?.stop({ timeoutMs: 5_000 })
})

const numberIn = async (page: Page, selector: string): Promise<number> => Number((await page.locator(selector).textContent())!.replace(/[^\d.]/g, ''))

describe('the dashboard', () => {
  it('shows live numbers that move while events flow, the writers and the health, and a throughput chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(pipeline.httpAddress!.url)
    // A string, evaluated in the page: this project's TypeScript has no DOM types.
    await page.waitForFunction("document.querySelector('#stored-total').textContent !== '–' && document.querySelectorAll('#writers tbody tr').length > 0", undefined, { timeout: 15_000 })

    // History kept by the server is drawn on open: several seconds of points at once.
    const opened = ((await page.locator('#chart-stored').getAttribute('points')) ?? '').trim().split(/\s+/).filter(Boolean)
    expect(opened.length).toBeGreaterThanOrEqual(3)
    expect(await page.locator('#throughput text').count()).toBeGreaterThanOrEqual(8) // axis labels

    const storedBefore = await numberIn(page, '#stored-total')
    const offeredBefore = await numberIn(page, '#offered-total')
    await page.waitForTimeout(3_000)
    const storedAfter = await numberIn(page, '#stored-total')
    const offeredAfter = await numberIn(page, '#offered-total')
    expect(storedAfter).toBeGreaterThan(storedBefore)
    expect(offeredAfter).toBeGreaterThan(offeredBefore)
    expect(await numberIn(page, '#stored-rate')).toBeGreaterThan(0)

    const rows = page.locator('#writers tbody tr')
    const writers: string[][] = []
    for (let k = 0; k < (await rows.count()); k++) writers.push((await rows.nth(k).locator('td').allTextContents()).slice(0, 3))
    expect(writers).toEqual([
      ['writer-1', 'running', '0'],
      ['writer-2', 'running', '0'],
    ])
    expect(await page.locator('#writers-running').textContent()).toBe('2 / 2')
    expect(await page.locator('#health').textContent()).toMatch(/^(healthy|degraded)$/)
    expect(await page.locator('#health-checks li').count()).toBeGreaterThanOrEqual(5)
    expect(await page.locator('#ring-fill').textContent()).toMatch(/^\d+\.\d%$/)
    expect(await page.locator('#drops tbody tr').count()).toBe(Object.keys(pipeline.getMetrics().dropped).length)
    expect(await page.locator('#lat-c2c-p99').textContent()).toMatch(/^[\d.,]+$/)
    // The chart has drawn several points of stored throughput.
    const points = ((await page.locator('#chart-stored').getAttribute('points')) ?? '').trim().split(/\s+/).filter(Boolean)
    expect(points.length).toBeGreaterThanOrEqual(2)
    expect(await page.locator('#conn').textContent()).toMatch(/^updated /)

    // The stage table and the dead letter written at the start.
    await page.waitForFunction("document.querySelector('#stages tbody tr[data-stage=\"tag\"]') !== null && document.querySelectorAll('#dead-letters tbody tr').length > 0", undefined, { timeout: 15_000 })
    expect((await page.locator('#dead-letters tbody tr').first().locator('td').allTextContents())[1]).toBe('invalid_event')
    expect(await numberIn(page, '#stages tbody tr[data-stage="tag"] td:nth-child(2)')).toBeGreaterThan(0)

    // A writer killed: a restart marker appears on the chart, and the numbers match /stats.
    await pipeline.killWriter(0)
    await page.waitForFunction("document.querySelector('#chart-markers line[data-kind=\"restart\"]') !== null", undefined, { timeout: 30_000 })
    await page.waitForFunction("document.querySelector('#writers-running').textContent === '2 / 2' && document.querySelector('#restarts').textContent === '1'", undefined, { timeout: 30_000 })
    const stats = (await (await fetch(new URL('/stats', pipeline.httpAddress!.url))).json()) as { restarts: { total: number }; healthyWorkers: number; poolSize: number }
    expect(await page.locator('#restarts').textContent()).toBe(String(stats.restarts.total))
    expect(await page.locator('#writers-running').textContent()).toBe(`${stats.healthyWorkers} / ${stats.poolSize}`)
    expect(errors).toEqual([])

    mkdirSync(SHOTS, { recursive: true })
    const shot = join(SHOTS, 'dashboard.png')
    await page.screenshot({ path: shot, fullPage: true })
    expect(statSync(shot).size).toBeGreaterThan(10_000)
    console.log(`dashboard screenshot: ${shot}`)
    await page.close()
  })
})
