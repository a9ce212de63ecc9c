// Command-line arguments of the `ringside` command: a small parser that knows each command's flags,
// and the one error every refusal becomes (UsageError: one sentence naming the flag, "did you
// mean" for a near miss, a pointer to --help), on which the command exits with code 2.

/** A flag of a command: one that takes a value (`--limit 10`, `--limit=10`) or a switch (`--json`). */
export interface FlagSpec {
  readonly type: 'string' | 'boolean'
  /** A one-letter alias (`-h`). */
  readonly short?: string
}

/** A command's flags by long name (without the dashes). `--help`/`-h` is added to every command. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>

/** What the parser found: flag values by long name, and the positional arguments in order. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>
  readonly positionals: readonly string[]
}

/** Wrong arguments: the message is one sentence naming the flag, ending with a pointer to --help. */
export class UsageError extends Error {
  readonly code = 'usage' as const
  /** The command the arguments were for; empty for the command name itself. */
  readonly command: string
  constructor(command: string, sentence: string) {
    super(`${command === '' ? 'ringside' : `ringside ${command}`}: ${sentence} See 'ringside ${command === '' ? '' : `${command} `}--help'.`)
    this.name = 'UsageError'
    this.command = command
  }
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number): number => d[i]?.[j] ?? Infinity
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      d[i]![j] = best
    }
  }
  return at(a.length, b.length)
}

/** The known word closest to `word` if it is a near miss (a typo or a prefix), else undefined. */
export function nearest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestScore = Infinity
  for (const k of known) {
    const score = k.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, k)
    if (score < bestScore) [best, bestScore] = [k, score]
  }
  return bestScore <= Math.max(1, Math.floor((best?.length ?? 0) / 3)) ? best : undefined
}

const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h' }

/** Parses `argv` for `command`; throws UsageError for an unknown flag, a missing value or a surplus argument. */
export function parseArgs(command: string, argv: readonly string[], flags: FlagSpecs, maxPositionals: number): ParsedArgs {
  const all: FlagSpecs = { ...flags, help: HELP_FLAG }
  const names = Object.keys(all)
  const values: Record<string, string | boolean> = {}
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    // A lone '-' and negative numbers are arguments, not flags.
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positionals.push(arg)
      continue
    }
    const long = arg.startsWith('--')
    const eq = arg.indexOf('=')
    const given = eq === -1 ? arg : arg.slice(0, eq)
    const name = long ? given.slice(2) : names.find((n) => all[n]?.short === given.slice(1))
    const spec = name === undefined ? undefined : all[name]
    if (name === undefined || spec === undefined) {
      const guess = long ? nearest(given.slice(2), names) : undefined
      throw new UsageError(command, `unknown option '${given}'${guess === undefined ? '.' : `; did you mean '--${guess}'?`}`)
    }
    if (spec.type === 'boolean') {
      if (eq !== -1) throw new UsageError(command, `${given} is a switch and takes no value, got '${arg.slice(eq + 1)}'.`)
      values[name] = true
      continue
    }
    // A flag that takes a value takes the next argument whatever it looks like (`--limit -1`), so
    // that the value's own check can say what is wrong with it.
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1)
    if (value === undefined) throw new UsageError(command, `--${name} needs a value.`)
    values[name] = value
  }
  if (positionals.length > maxPositionals) throw new UsageError(command, `unexpected argument '${positionals[maxPositionals] ?? ''}'.`)
  return { values, positionals }
}

/** An integer flag in [min, max]. */
export function integerFlag(command: string, name: string, value: string | boolean | undefined, min: number, max: number): number {
  const x = Number(value)
  if (typeof value !== 'string' || !/^-?\d+$/.test(value) || x < min || x > max) {
    throw new UsageError(command, `--${name} must be an integer from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got '${String(value)}'.`)
  }
  return x
}

/** A time flag: an ISO date or milliseconds since the epoch. */
export function timeFlag(command: string, name: string, value: string): number {
  const t = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isFinite(t)) throw new UsageError(command, `--${name} must be an ISO date or ms since the epoch, got '${value}'.`)
  return t
}

/** A flag whose value is one of `choices`. */
export function choiceFlag<T extends string>(command: string, name: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T
  const guess = nearest(value, choices)
  const list = choices.length === 2 ? `${choices[0]} or ${choices[1]}` : choices.join(', ')
  throw new UsageError(command, `--${name} must be ${list}, got '${value}'${guess === undefined ? '.' : `; did you mean '${guess}'?`}`)
}
