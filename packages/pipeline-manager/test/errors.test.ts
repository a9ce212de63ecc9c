import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineManager, WriterStartError, type PipelineOptions } from '../src/index.js'

// Errors a user can catch carry a stable code, also when they were raised in a writer thread.

const dir = mkdtempSync(join(tmpdir(), 'ringside-errors-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url).href

let open: PipelineManager[] = []
afterEach(async () => {
  await Promise.all(open.map((p) => p.stop({ timeoutMs: 2_000 })))
  open = []
})
const startWith = (options: Partial<PipelineOptions>) =>
  PipelineManager.start({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'sqlite', path: join(dir, 'events.db') }, poolSize: 1, ...options })

describe('PipelineManager.start', () => {
  it("rebuilds a writer's start failure across the thread: WriterStartError, with the writer's own error and its cause's code", async () => {
    const err = await startWith({ stages: [{ target: '/nope/missing-stage.js' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WriterStartError)
    expect(err).toMatchObject({
      code: 'writer_start_failed',
      writerId: 'writer-1',
      cause: { name: 'StageLoadError', code: 'stage_load_failed', cause: { code: 'ERR_MODULE_NOT_FOUND' } },
    })
  })

  it('says which store could not be opened: store_open_failed with the store\'s own code as its cause', async () => {
    const err = await startWith({ store: { target: fixture('broken-store') } }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'writer_start_failed', cause: { code: 'store_open_failed', cause: { code: 'open_failed' } } })
  })
})

describe('drills', () => {
  it('refuses a slot without a writer with no_such_writer', async () => {
    const p = await startWith({})
    open.push(p)
    await expect(p.killWriter(5)).rejects.toMatchObject({ name: 'PipelineError', code: 'no_such_writer' })
    await expect(p.setWriterFault(5, { kind: 'crash' })).rejects.toMatchObject({ name: 'PipelineError', code: 'no_such_writer' })
  })
})
