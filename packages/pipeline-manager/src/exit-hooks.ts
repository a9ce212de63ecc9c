// The process-wide exit hooks every pipeline of a process shares: one listener per process event,
// however many pipelines run, so that two pipelines never each defer to the other's listener and
// swallow a signal. Also what lets a process exit without stop(): the pipelines' threads and
// timers do not hold it open, and when its event loop runs dry the pipelines drain and stop.

/** What a pipeline does when the process goes away; see joinExitHooks. */
export interface ExitParticipant {
  /** Whether it keeps an exit journal: signals, exit and crashes are only taken over for those. */
  readonly journaled: boolean
  /** Synchronous: the process is leaving ('exit', a signal's name, 'uncaught exception'). */
  onProcessExit(reason: string): void
  /** The event loop has nothing left to do: stop within a bound, then leave the hooks. */
  onLoopEmpty(): Promise<unknown>
}

/**
 * Signals taken over while a journaled pipeline runs, with the exit code the signal's default
 * action gives (128 + its number). SIGHUP (terminal closed) and SIGQUIT end a process just as
 * SIGTERM does; SIGQUIT's core dump is given up for the journal.
 */
export const EXIT_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGQUIT: 131 } as const
type ExitSignal = keyof typeof EXIT_SIGNALS

const members = new Set<ExitParticipant>()
let installed = false
let holds = 0
let keepAlive: NodeJS.Timeout | undefined

const journaled = (): ExitParticipant[] => [...members].filter((m) => m.journaled)

function onSignal(signal: ExitSignal): void {
  for (const m of journaled()) m.onProcessExit(signal)
  // Exit as the signal would have made the process exit, unless the application listens too:
  // then leaving is its decision. Only this one listener exists for all pipelines, so counting
  // listeners tells the application's apart from ours.
  if (process.listenerCount(signal) === 1) process.exit(EXIT_SIGNALS[signal])
}
const onExit = (): void => {
  for (const m of journaled()) m.onProcessExit('exit')
}
const onCrash = (): void => {
  for (const m of journaled()) m.onProcessExit('uncaught exception')
}
const onBeforeExit = (): void => {
  // Each stop holds the process open until it is done; then the loop empties again, nobody is
  // left here, and the process exits.
  for (const m of [...members]) void m.onLoopEmpty()
}

function install(): void {
  const want = journaled().length > 0
  if (want === installed) return
  installed = want
  const on = want ? process.on.bind(process) : process.off.bind(process)
  on('exit', onExit)
  on('uncaughtExceptionMonitor', onCrash)
  for (const signal of Object.keys(EXIT_SIGNALS) as ExitSignal[]) on(signal, onSignal)
}

/** Adds a pipeline to the process-wide hooks; the result removes it (idempotent). */
export function joinExitHooks(p: ExitParticipant): () => void {
  if (members.size === 0) process.on('beforeExit', onBeforeExit)
  members.add(p)
  install()
  return () => {
    if (!members.delete(p)) return
    install()
    if (members.size === 0) process.off('beforeExit', onBeforeExit)
  }
}

/**
 * Keeps the process alive until the returned function is called. The writers' threads and ports
 * do not hold the process open, so anything awaiting them (start, stop, a config change) holds it
 * while it runs; otherwise an application awaiting only that would see its process leave midway.
 */
export function holdProcessOpen(): () => void {
  if (holds++ === 0) keepAlive = setInterval(() => {}, 1 << 30)
  let released = false
  return () => {
    if (released) return
    released = true
    if (--holds === 0 && keepAlive) {
      clearInterval(keepAlive)
      keepAlive = undefined
    }
  }
}

/** `p`, with the process held open until it settles. */
export function heldOpen<T>(p: Promise<T>): Promise<T> {
  const release = holdProcessOpen()
  return p.finally(release)
}
