// The `<db>` argument of query and stats: a Ringside SQLite file, resolved from the folder the
// command runs in.

import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { UsageError } from './args.js'

/** The absolute path of the `<db>` argument; UsageError when it is missing or names no file. */
export function storeFile(command: string, positionals: readonly string[], cwd: string): string {
  const db = positionals[0]
  if (db === undefined) throw new UsageError(command, 'missing <db>, the Ringside SQLite file to read.')
  const path = resolve(cwd, db)
  if (!existsSync(path)) throw new UsageError(command, `no such file '${db}' (looked for ${path}).`)
  return path
}
