import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineManager } from '@ringside/pipeline-manager'
import { until } from './fixtures/until.js'

// What each user stage did with the events it was given, counted by the writers in shared memory
// and shown per stage in getMetrics(), /stats and /metrics.

const dir = mkdtempSync(join(tmpdir(), 'ringside-stage-metrics-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const tag = { target: new URL('../packages/async-writer/test/fixtures/tag-stage.ts', import.meta.url).href, options: { tag: 't' } }
const poison = { target: new URL('./fixtures/poison-stage.ts', import.meta.url).href }

describe('getMetrics().stages', () => {
  it('counts per stage the events in, passed, changed, filtered and failed, with their time', async () => {
    const ring = RingBuffer.create({ size: 1024 })
    // 100 events: 10 dropped by `tag`, the other 90 changed by it (a new object); `poison` then
    // throws on 5 of those and passes 85 unchanged.
    for (let n = 0; n < 100; n++) ring.write({ type: 'call', n, ...(n < 10 ? { drop: true } : {}), ...(n >= 10 && n < 15 ? { poison: 'throw' } : {}) })
    const p = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: join(dir, 'a.db') }, poolSize: 2, stages: [tag, poison], http: {} })
    try {
      await until(() => p.getMetrics().totals.eventsProcessed === 100, 30_000, 'every event processed')
      const [t, q] = p.getMetrics().stages
      expect(t).toMatchObject({ name: 'tag', index: 0, in: 100, passed: 0, changed: 90, filtered: 10, failed: 0, errorRate: 0 })
      expect(q).toMatchObject({ name: 'poison', index: 1, in: 90, passed: 85, changed: 0, filtered: 0, failed: 5 })
      expect(q!.errorRate).toBeCloseTo(5 / 90)
      expect(t!.timePerEventMs.p50).toBeGreaterThan(0)
      // Per writer, the rows add up to the totals.
      const perWriter = p.getMetrics().writers.flatMap((w) => w.stages.filter((s) => s.name === 'poison').map((s) => s.in))
      expect(perWriter.reduce((a, b) => a + b, 0)).toBe(90)

      const base = p.httpAddress!.url
      const stats = (await (await fetch(new URL('/stats', base))).json()) as { stages: { name: string; failed: number }[] }
      expect(stats.stages.map((s) => [s.name, s.failed])).toEqual([
        ['tag', 0],
        ['poison', 5],
      ])
      const text = await (await fetch(new URL('/metrics', base))).text()
      expect(text).toContain('ringside_stage_events_total{stage="tag",outcome="filtered"} 10')
      expect(text).toContain('ringside_stage_events_total{stage="poison",outcome="failed"} 5')
      expect(text).toMatch(/ringside_stage_seconds_count\{stage="poison"\} 90/)
    } finally {
      await p.stop()
    }
  })

  it('is empty without user stages', async () => {
    const ring = RingBuffer.create({ size: 64 })
    const p = await PipelineManager.start({ ring, store: { kind: 'memory' }, poolSize: 1 })
    try {
      expect(p.getMetrics().stages).toEqual([])
      expect(p.getMetrics().writers[0]!.stages).toEqual([])
    } finally {
      await p.stop()
    }
  })
})
