// `ringside stats <db>`: the totals of a Ringside SQLite store.

import type { CliCommand } from './command.js'
import { openStoreForReading, storeFile } from './store-file.js'

export const statsCommand: CliCommand = {
  name: 'stats',
  summary: "stats <db>      a store's totals: events, time span, dead letters, size",
  help: `Usage: ringside stats <db> [--json]

Prints the totals of a Ringside SQLite store. <db> is resolved from the current folder.

  --json        one JSON object ({ totalEvents, oldestCapturedAt, newestCapturedAt,
                deadLetters, sizeBytes, ... }), and nothing else on stdout
  -h, --help    this help`,
  flags: { json: { type: 'boolean' } },
  positionals: 1,
  async run({ values, positionals }, io) {
    const store = await openStoreForReading('stats', storeFile('stats', positionals, io.cwd ?? process.cwd()))
    try {
      const s = await store.stats()
      if (values.json === true) {
        io.out.write(`${JSON.stringify(s)}\n`)
        return 0
      }
      const time = (t: number | undefined) => (t === undefined ? '–' : new Date(t).toISOString())
      io.out.write(`events        ${s.totalEvents.toLocaleString('en-US')}\n`)
      io.out.write(`oldest        ${time(s.oldestCapturedAt)}\n`)
      io.out.write(`newest        ${time(s.newestCapturedAt)}\n`)
      io.out.write(`dead letters  ${s.deadLetters.toLocaleString('en-US')}\n`)
      io.out.write(`size          ${(s.sizeBytes / 1e6).toFixed(2)} MB\n`)
      return 0
    } finally {
      await store.close()
    }
  },
}
