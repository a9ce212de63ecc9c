// OTP's restart decisions as plain functions (Supervisor docs, "Restart values" and "Restart
// intensity"): whether a child is restarted, the sliding intensity window, which children a
// strategy restarts, and the jittered backoff OTP does not have.

/** `permanent`: always restarted; `transient`: only after an abnormal exit; `temporary`: never. */
export type RestartType = 'permanent' | 'transient' | 'temporary'
/** How a supervisor reacts to one child's exit. */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one'
/** `normal`: exited on its own with code 0; `shutdown`: stopped by its supervisor; `crash`: anything else. */
export type ExitReason = 'normal' | 'shutdown' | 'crash'

export const RESTART_TYPES: readonly RestartType[] = ['permanent', 'transient', 'temporary']
export const STRATEGIES: readonly Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one']

/** A child is restarted unless it is temporary, or transient and it exited normally or by shutdown. */
export function shouldRestart(restart: RestartType, reason: ExitReason): boolean {
  if (reason === 'shutdown') return false
  if (restart === 'permanent') return true
  if (restart === 'transient') return reason === 'crash'
  return false
}

/**
 * Records a restart at `now` in the sliding window of the last `maxSeconds`. `exceeded` is true when
 * this restart makes more than `maxRestarts` in the window: the supervisor must give up and
 * escalate instead of restarting.
 */
export function registerRestart(
  history: readonly number[],
  now: number,
  maxRestarts: number,
  maxSeconds: number,
): { history: number[]; exceeded: boolean } {
  const recent = history.filter((t) => now - t < maxSeconds * 1000)
  recent.push(now)
  return { history: recent, exceeded: recent.length > maxRestarts }
}

/** Restarts still in the window at `now`. */
export function restartsInWindow(history: readonly number[], now: number, maxSeconds: number): number {
  return history.filter((t) => now - t < maxSeconds * 1000).length
}

/** The children a strategy restarts when `failed` exits, in start order. */
export function childrenToRestart(strategy: Strategy, order: readonly string[], failed: string): string[] {
  switch (strategy) {
    case 'one_for_one':
      return [failed]
    case 'one_for_all':
      return [...order]
    case 'rest_for_one': {
      const at = order.indexOf(failed)
      return at === -1 ? [failed] : order.slice(at)
    }
    default:
      throw new Error(`unknown strategy ${String(strategy)}`)
  }
}

/**
 * Delay before the n-th restart in the current window (n from 1): exponential from `baseMs`, capped
 * at `maxMs`, with "equal jitter" (half fixed, half random) so a crash loop neither burns a core
 * nor restarts a whole pool in lockstep. `random` is in [0, 1).
 */
export function restartDelay(n: number, baseMs: number, maxMs: number, random: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, n - 1))
  return cap / 2 + (cap / 2) * random
}
