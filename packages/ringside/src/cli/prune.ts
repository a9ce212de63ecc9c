// `ringside prune <db>`: removes old events from a Ringside SQLite store that no pipeline has open,
// by age (--older-than) or by count (--keep), in the same bounded chunks a running pipeline's
// retention uses, and optionally rebuilds the file to its contents' size (--vacuum).

import { statSync } from 'node:fs'
import { SqliteStore, sqliteFileInUse, type RetentionPolicy } from '@ringside/storage'
import { UsageError } from './args.js'
import type { CliCommand } from './command.js'
import { openStoreForReading, storeFile } from './store-file.js'

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** A duration such as `90s`, `30m`, `1h`, `7d` or `1.5h`, in ms (an integer from 1). */
export function durationFlag(command: string, name: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value)
  const ms = m === null ? NaN : Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number))
  if (!Number.isSafeInteger(ms) || ms < 1) throw new UsageError(command, `--${name} must be a duration such as 90s, 30m, 1h or 7d, got '${value}'.`)
  return ms
}

/** A count such as `1000000` or `1e6`: an integer from 0. */
export function countFlag(command: string, name: string, value: string): number {
  const n = /^\d+(\.\d+)?(e\d+)?$/i.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(command, `--${name} must be a whole number of events such as 1000000 or 1e6, got '${value}'.`)
  return n
}

const fileSize = (path: string): number => {
  const size = (p: string): number => statSync(p, { throwIfNoEntry: false })?.size ?? 0
  return size(path) + size(`${path}-wal`)
}

export const pruneCommand: CliCommand = {
  name: 'prune',
  summary: 'prune <db>      remove old events from a store no pipeline has open (--older-than, --keep)',
  help: `Usage: ringside prune <db> (--older-than <duration> | --keep <count>) [--vacuum] [--json]

Removes the oldest events of a Ringside SQLite store that no pipeline has open, in chunks of
5000 per transaction. <db> is resolved from the current folder. A running pipeline keeps its
store within limits by itself: give its store spec a 'retention' option instead.

  --older-than <d>  remove events captured longer ago than d (90s, 30m, 1h, 7d, 2w)
  --keep <n>        keep only the newest n events (1000000 or 1e6)
  --vacuum          then rebuild the file to the size of what is left (VACUUM; needs free
                    disk space about the size of the file) and set auto_vacuum = INCREMENTAL,
                    so later retention hands freed space back as it goes
  --json            one JSON object ({ events, deadLetters, sizeBefore, sizeAfter }) only
  -h, --help        this help

Refuses a file that is not a Ringside store (exit code 2) and a store that another connection
has open, such as a running pipeline (exit code 1); neither file is changed.`,
  flags: { 'older-than': { type: 'string' }, keep: { type: 'string' }, vacuum: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: 1,
  async run({ values, positionals }, io) {
    const path = storeFile('prune', positionals, io.cwd ?? process.cwd())
    const policy: { -readonly [K in keyof RetentionPolicy]: RetentionPolicy[K] } = {}
    if (typeof values['older-than'] === 'string') policy.maxAgeMs = durationFlag('prune', 'older-than', values['older-than'])
    if (typeof values.keep === 'string') policy.maxEvents = countFlag('prune', 'keep', values.keep)
    if (policy.maxAgeMs === undefined && policy.maxEvents === undefined && values.vacuum !== true) {
      throw new UsageError('prune', 'give --older-than, --keep or --vacuum.')
    }
    // Read-only first: a file that is not a Ringside store is refused before anything may write to it.
    await (await openStoreForReading('prune', path)).close()
    if (sqliteFileInUse(path)) {
      io.err.write(`ringside prune: ${path} is open by another connection (a running pipeline?); stop it first, or give its store spec a 'retention' option. Nothing was changed.\n`)
      return 1
    }
    const sizeBefore = fileSize(path)
    const store = SqliteStore.open({ path, retention: policy })
    let events = 0
    let deadLetters = 0
    try {
      for (;;) {
        const r = await store.applyRetention({ maxRows: 5_000, maxVacuumPages: 25_600 })
        events += r.events
        deadLetters += r.deadLetters
        if (!r.more) break
      }
      if (values.vacuum === true) store.vacuum()
    } finally {
      await store.close()
    }
    const sizeAfter = fileSize(path)
    if (values.json === true) {
      io.out.write(`${JSON.stringify({ events, deadLetters, sizeBefore, sizeAfter })}\n`)
      return 0
    }
    io.out.write(`removed       ${events.toLocaleString('en-US')} events\n`)
    io.out.write(`size          ${(sizeBefore / 1e6).toFixed(2)} MB -> ${(sizeAfter / 1e6).toFixed(2)} MB\n`)
    return 0
  },
}
