// The `ringside` command's dispatcher: picks the subcommand, parses its flags, prints help, and
// turns a UsageError into one line on stderr and exit code 2 (any other failure: exit code 1).

import { UsageError, nearest, parseArgs } from './args.js'
import type { CliCommand, CliIo } from './command.js'
import { queryCommand } from './query.js'
import { statsCommand } from './stats.js'
import { pruneCommand } from './prune.js'

/** The commands of the published `ringside` bin. */
export const CORE_COMMANDS: readonly CliCommand[] = [queryCommand, statsCommand, pruneCommand]

/** Commands that only a checkout of the repository has (they run its demo app and benchmarks). */
const REPOSITORY_COMMANDS = ['demo', 'soak', 'bench']

function mainHelp(commands: readonly CliCommand[]): string {
  const missing = REPOSITORY_COMMANDS.filter((name) => !commands.some((c) => c.name === name))
  return [
    'Usage: ringside <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.summary}`),
    '',
    "Run 'ringside <command> --help' for a command's options. Paths are resolved from the current",
    'folder; --json output is JSON only (JSON Lines for query), so it can be piped to jq.',
    ...(missing.length > 0 ? [`${missing.join(', ')}: from a checkout of the Ringside repository ('npx -y pnpm@10.34.9 demo').`] : []),
  ].join('\n')
}

/** Runs `ringside <argv>` with the given commands; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, commands: readonly CliCommand[] = CORE_COMMANDS): Promise<number> {
  const [name, ...rest] = argv
  try {
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      io.out.write(`${mainHelp(commands)}\n`)
      return name === undefined ? 2 : 0
    }
    const command = commands.find((c) => c.name === name)
    if (command === undefined) {
      if (REPOSITORY_COMMANDS.includes(name)) {
        throw new UsageError('', `'${name}' runs from a checkout of the Ringside repository ('npx -y pnpm@10.34.9 ${name === 'soak' ? 'ringside soak' : name}'), not from the installed package.`)
      }
      if (name.startsWith('-')) throw new UsageError('', `'${name}' comes after a command, as in 'ringside query <db> ${name}'.`)
      const guess = nearest(name, commands.map((c) => c.name))
      throw new UsageError('', `unknown command '${name}'${guess === undefined ? '.' : `; did you mean '${guess}'?`}`)
    }
    const args = parseArgs(command.name, rest, command.flags, command.positionals)
    if (args.values['help'] === true) {
      io.out.write(`${command.help}\n`)
      return 0
    }
    return await command.run(args, io)
  } catch (e) {
    if (e instanceof UsageError) {
      io.err.write(`${e.message}\n`)
      return 2
    }
    io.err.write(`ringside ${name ?? ''}: ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
}
