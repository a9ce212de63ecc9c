// `ringside/cli`: the `ringside` command as a function, its commands and its argument helpers, for
// tools that run it in-process or add commands of their own (the repository's demo app does).
export { UsageError, choiceFlag, integerFlag, nearest, parseArgs, timeFlag, type FlagSpec, type FlagSpecs, type ParsedArgs } from './args.js'
export type { CliCommand, CliIo } from './command.js'
export { CORE_COMMANDS, runCli } from './run.js'
export { queryCommand } from './query.js'
export { statsCommand } from './stats.js'
export { pruneCommand } from './prune.js'
export { openStoreForReading, storeFile } from './store-file.js'
