// What one removed event costs a SQLite store, in CPU time rather than wall time (so the figure
// holds on a busy machine): a store held at its limit by `retention.maxEvents`, batches of 1000
// inserted and retention applied after each, the process's CPU time split between the insert and
// retention; then retention's parts on the same file, each timed alone: the pass that counts the
// chunk per ring into `pruned`, the DELETE, the COMMIT and the incremental vacuum step.
// Usage: npx tsx bench/retention-cpu.ts [--profile writer|varied] [--limit 200000] [--batches 100] [--chunk 1000]
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQLITE_DEFAULTS, SqliteStore } from '@ringside/storage'
import { recordSource, type Profile } from './store-data.js'

function argOf(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const PROFILE = argOf('profile', 'writer') as Profile
const LIMIT = Number(argOf('limit', '200000'))
const BATCHES = Number(argOf('batches', '100'))
/** Rows per chunk of deletes (applyRetention's maxRows); inserts stay in batches of 1000. */
const CHUNK = Number(argOf('chunk', '1000'))
const BATCH = 1000

/** CPU time of this process so far, ms (user + system). */
const cpu = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const us = (ms: number, rows: number): string => ((ms * 1000) / rows).toFixed(2)

const dir = mkdtempSync(join(tmpdir(), 'ringside-retention-cpu-'))
try {
  const path = join(dir, 'events.db')
  const store = SqliteStore.open({ path, retention: { maxEvents: LIMIT } })
  const src = recordSource(1, PROFILE)
  for (let i = 0; i < LIMIT / BATCH; i++) await store.storeEvents(src.next(BATCH))
  let insert = 0
  let retention = 0
  let removed = 0
  for (let b = 0; b < BATCHES; b++) {
    const rows = src.next(BATCH)
    let t = cpu()
    await store.storeEvents(rows)
    insert += cpu() - t
    t = cpu()
    for (;;) {
      const r = await store.applyRetention({ maxRows: CHUNK })
      removed += r.events
      if (!r.more) break
    }
    retention += cpu() - t
  }
  await store.close()

  // The parts, on the same file: the same statements sqlite/retention.ts runs.
  const db = new Database(path)
  // The store's own connection settings, so COMMIT costs what it costs inside applyRetention.
  db.pragma(`cache_size = -${SQLITE_DEFAULTS.cacheSizeKiB}`)
  db.pragma(`synchronous = ${SQLITE_DEFAULTS.synchronous}`)
  db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULTS.walAutocheckpointPages}`)
  const countPass = db.prepare(
    `INSERT INTO pruned (ring_id, events) SELECT r.ring_id, count(*) FROM events e JOIN rings r ON r.ring_no = e.ring_no
       WHERE e.rowid IN (SELECT rowid FROM events ORDER BY captured_at, rowid LIMIT ${CHUNK}) GROUP BY r.ring_id
     ON CONFLICT (ring_id) DO UPDATE SET events = events + excluded.events`,
  )
  const del = db.prepare(`DELETE FROM events WHERE rowid IN (SELECT rowid FROM events ORDER BY captured_at, rowid LIMIT ${CHUNK})`)
  const parts = { count: 0, delete: 0, commit: 0, vacuum: 0 }
  let pages = 0
  const chunks = Math.min(Math.floor(50_000 / CHUNK), Math.floor(LIMIT / CHUNK))
  for (let c = 0; c < chunks; c++) {
    db.exec('BEGIN IMMEDIATE')
    let t = cpu()
    countPass.run()
    parts.count += cpu() - t
    t = cpu()
    del.run()
    parts.delete += cpu() - t
    t = cpu()
    db.exec('COMMIT')
    parts.commit += cpu() - t
    t = cpu()
    const free = db.pragma('freelist_count', { simple: true }) as number
    db.exec('BEGIN IMMEDIATE')
    db.pragma(`incremental_vacuum(${Math.min(free, 256)})`)
    db.exec('COMMIT')
    parts.vacuum += cpu() - t
    pages += Math.min(free, 256)
  }
  db.close()
  const n = chunks * CHUNK
  console.log(`# CPU time per event of retention on SQLite (${PROFILE} rows, store held at ${LIMIT.toLocaleString('en-US')} events)`)
  console.log(`\n${new Date().toISOString()}; ${cpus().length} × ${cpus()[0]?.model ?? '?'}; Node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  console.log(`Command: \`npx tsx bench/retention-cpu.ts --profile ${PROFILE} --limit ${LIMIT} --batches ${BATCHES} --chunk ${CHUNK}\`\n`)
  console.log('| | µs of CPU per event |\n|---|---:|')
  console.log(`| insert (storeEvents, batches of ${BATCH}) | ${us(insert, BATCHES * BATCH)} |`)
  console.log(`| retention (applyRetention until within the limit; ${removed.toLocaleString('en-US')} removed) | ${us(retention, removed)} |`)
  console.log(`| of which: count per ring into \`pruned\` | ${us(parts.count, n)} |`)
  console.log(`| of which: DELETE (table and indexes) | ${us(parts.delete, n)} |`)
  console.log(`| of which: COMMIT | ${us(parts.commit, n)} |`)
  console.log(`| of which: incremental vacuum (${(pages / chunks).toFixed(0)} pages per chunk) | ${us(parts.vacuum, n)} |`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
