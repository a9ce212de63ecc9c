// How long the exit journal takes: copying every unstored event out of a full ring and appending it,
// synced, to the journal file. This is the work done synchronously on exit, SIGTERM, SIGINT or an
// uncaught exception. Usage: npx tsx bench/journal.ts [--reps N]   (prints a Markdown report)
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { appendJournal, createJournal, readJournal } from '@ringside/pipeline-manager'

const i = process.argv.indexOf('--reps')
const REPS = i === -1 ? 7 : Number(process.argv[i + 1])
const dir = mkdtempSync(join(tmpdir(), 'ringside-journal-bench-'))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const lines = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Command: \`npx tsx bench/journal.ts --reps ${REPS}\`.`,
  '',
  '| unstored events in the ring | journal bytes | export + append + fdatasync, median ms (min – max) | read back + verify, median ms |',
  '|---:|---:|---:|---:|',
]
for (const size of [1 << 10, 1 << 14, 1 << 16]) {
  const ring = RingBuffer.create({ size })
  for (let n = 0; n < size; n++) ring.write({ type: 'call', pid: '<0.123.0>', module: 'MyApp.Worker', function: 'handle_call', arity: 3, astNodeId: `n_${n % 1000}`, data: { k: 'v', n } })
  const write: number[] = []
  const read: number[] = []
  let bytes = 0
  for (let r = 0; r < REPS; r++) {
    const path = join(dir, `j-${size}-${r}.journal`)
    // Created at start in a pipeline (with its lock), not at exit: outside the timed part.
    createJournal(path, { store: 'bench', ringId: ring.id, pid: process.pid, host: 'bench', createdAt: Date.now() })
    const t0 = performance.now()
    appendJournal(path, ring.id, ring.exportPending())
    write.push(performance.now() - t0)
    bytes = statSync(path).size
    const t1 = performance.now()
    if (readJournal(path).records.length !== size) throw new Error('journal lost records')
    read.push(performance.now() - t1)
    rmSync(path)
  }
  lines.push(`| ${size.toLocaleString('en-US')} | ${bytes.toLocaleString('en-US')} | ${median(write).toFixed(1)} (${Math.min(...write).toFixed(1)} – ${Math.max(...write).toFixed(1)}) | ${median(read).toFixed(1)} |`)
}
rmSync(dir, { recursive: true, force: true })
console.log(lines.join('\n'))
