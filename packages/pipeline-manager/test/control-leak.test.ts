import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Memory held per control call, measured in a child process with --expose-gc so collections are
// forced and nothing else of the test runner shares the heap.

const script = fileURLToPath(new URL('./fixtures/control-calls.ts', import.meta.url))

describe('control calls', () => {
  it('keep nothing once they have settled: the heap after 10,000 calls is about the heap after 1,000', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, '1000', '10000'], { encoding: 'utf8', timeout: 110_000 })
    expect(r.status, r.stderr).toBe(0)
    const heap = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { atCheckpoint: number; atEnd: number }
    // 9,000 more calls on two writers: at ~1 KB a call per writer that would be ~18 MB more.
    expect(heap.atEnd / heap.atCheckpoint).toBeLessThan(1.25)
  }, 120_000)
})
