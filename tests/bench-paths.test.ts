import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

// The benchmark scripts write only into their own temporary directories and the repository's
// bench/results; a path a user names (--chart) is checked before anything runs.

const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-paths-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const script = new URL('../bench/pipeline.ts', import.meta.url).pathname

describe('bench/pipeline.ts --chart', () => {
  it('refuses to write its chart over a file that is not one of its charts, before running anything', () => {
    const path = join(dir, 'my-drawing.svg')
    writeFileSync(path, '<svg xmlns="http://www.w3.org/2000/svg"><!-- mine --></svg>\n')
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--chart', path, '--seconds', '1', '--runs', '1', '--sustained', '1'], {
      encoding: 'utf8',
      timeout: 60_000,
      // A timeout must end the child even if it ignores SIGTERM.
      killSignal: 'SIGKILL',
      cwd: new URL('..', import.meta.url).pathname,
    })
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/is not a chart written by this script; it is left as it is/)
    expect(readFileSync(path, 'utf8')).toBe('<svg xmlns="http://www.w3.org/2000/svg"><!-- mine --></svg>\n')
  })
})
