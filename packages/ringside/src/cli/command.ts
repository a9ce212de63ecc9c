// What a subcommand of `ringside` is: its flags, its help and how it runs. The published command
// has `query` and `stats`; the repository's demo app adds `demo`, `soak` and `bench` the same way.

import type { Writable } from 'node:stream'
import type { FlagSpecs, ParsedArgs } from './args.js'

/** Where a command writes, and the folder its relative paths are resolved from. */
export interface CliIo {
  /** Results only: with --json, nothing but JSON reaches it. */
  readonly out: Writable & { isTTY?: boolean }
  /** Errors and progress. */
  readonly err: Writable
  /** Defaults to process.cwd(). */
  readonly cwd?: string
}

/** A subcommand: `ringside <name> [flags] [arguments]`. */
export interface CliCommand {
  readonly name: string
  /** One line for `ringside --help`, e.g. `query <db>      query a Ringside SQLite store`. */
  readonly summary: string
  /** The whole `ringside <name> --help` text, starting with its `Usage:` line. */
  readonly help: string
  readonly flags: FlagSpecs
  /** How many positional arguments it takes at most. */
  readonly positionals: number
  /** Runs it; resolves to the exit code (0 done, 1 failed). Throws UsageError for bad arguments. */
  run(args: ParsedArgs, io: CliIo): Promise<number>
}
