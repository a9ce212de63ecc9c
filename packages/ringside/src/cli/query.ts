// `ringside query <db>`: events of a Ringside SQLite store by the indexed fields, as a table or as
// JSON Lines.

import type { QueryFilter } from '@ringside/storage'
import { choiceFlag, integerFlag, timeFlag } from './args.js'
import type { CliCommand } from './command.js'
import { openStoreForReading, storeFile } from './store-file.js'

const DEFAULT_LIMIT = 20

export const queryCommand: CliCommand = {
  name: 'query',
  summary: 'query <db>      events of a Ringside SQLite store, by pid, type, time, module/function/arity, ...',
  help: `Usage: ringside query <db> [filters] [--order asc|desc] [--limit n] [--json]

Prints the events of a Ringside SQLite store that match every filter given.
<db> is resolved from the current folder.

Filters (each matches an indexed field exactly):
  --pid <pid>             events of one process, e.g. '<0.107.0>'
  --type <type>           call, return, message, state_change, ...
  --module <m>  --function <f>  --arity <n>
  --correlation-id <id>
  --ast-node-id <id>
  --since <time>          captured at or after (ISO date or ms since the epoch)
  --until <time>          captured at or before

Order and size:
  --order <asc|desc>      by capture time: asc (the default) lists the oldest first, desc the
                          newest first; --limit applies after ordering, so '--order desc
                          --limit 10' gives the 10 newest events
  --limit <n>             at most n events (default ${DEFAULT_LIMIT}; 0 for none)

Output:
  --json                  JSON Lines: one event record per line ({ key, ringId, seq,
                          capturedAt, event }), and nothing else on stdout
  -h, --help              this help`,
  flags: {
    pid: { type: 'string' },
    type: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    'correlation-id': { type: 'string' },
    'ast-node-id': { type: 'string' },
    module: { type: 'string' },
    function: { type: 'string' },
    arity: { type: 'string' },
    limit: { type: 'string' },
    order: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: 1,
  async run({ values: v, positionals }, io) {
    const path = storeFile('query', positionals, io.cwd ?? process.cwd())
    const str = (name: string): string | undefined => (typeof v[name] === 'string' ? (v[name] as string) : undefined)
    const f: { -readonly [K in keyof QueryFilter]: QueryFilter[K] } = {
      limit: v.limit === undefined ? DEFAULT_LIMIT : integerFlag('query', 'limit', v.limit, 0, 10_000_000),
    }
    const pid = str('pid')
    const type = str('type')
    const since = str('since')
    const until = str('until')
    const correlationId = str('correlation-id')
    const astNodeId = str('ast-node-id')
    const module = str('module')
    const fn = str('function')
    const order = str('order')
    if (pid !== undefined) f.pid = pid
    if (type !== undefined) f.type = type
    if (since !== undefined) f.since = timeFlag('query', 'since', since)
    if (until !== undefined) f.until = timeFlag('query', 'until', until)
    if (correlationId !== undefined) f.correlationId = correlationId
    if (astNodeId !== undefined) f.astNodeId = astNodeId
    if (module !== undefined) f.module = module
    if (fn !== undefined) f.function = fn
    if (v.arity !== undefined) f.arity = integerFlag('query', 'arity', v.arity, 0, 255)
    if (order !== undefined) f.order = choiceFlag('query', 'order', order, ['asc', 'desc'] as const)
    const store = await openStoreForReading('query', path)
    try {
      const rows = await store.query(f)
      if (v.json === true) {
        for (const r of rows) io.out.write(`${JSON.stringify(r)}\n`)
        return 0
      }
      io.out.write(`${'captured at'.padEnd(24)} ${'type'.padEnd(12)} ${'pid'.padEnd(11)} ${'module.function/arity'.padEnd(34)} key\n`)
      for (const r of rows) {
        const e = r.event
        const mfa = e['module'] ? `${String(e['module'])}.${String(e['function'] ?? '')}${e['arity'] === undefined ? '' : `/${String(e['arity'])}`}` : ''
        io.out.write(`${new Date(r.capturedAt).toISOString().padEnd(24)} ${String(e['type']).padEnd(12)} ${String(e['pid'] ?? '').padEnd(11)} ${mfa.padEnd(34)} ${r.key}\n`)
      }
      io.out.write(`${rows.length} event${rows.length === 1 ? '' : 's'}\n`)
      return 0
    } finally {
      await store.close()
    }
  },
}
