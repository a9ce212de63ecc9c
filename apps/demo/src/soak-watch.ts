// The soak's watchdog: every wait the soak makes has a limit, and the first one to run past it
// ends the soak as a failure; `describeState` is the dump printed then (the breaker and its probe,
// each writer and the claim it holds, the ring's cursors and counts, the faults in progress).

import type { PipelineManager } from '@ringside/pipeline-manager'

/** A wait that ran past its limit. */
export interface Stall {
  readonly what: string
  readonly waitedMs: number
  readonly limitMs: number
}

/** Named waits with limits, checked against a clock the caller passes (so it can be tested without time). */
export class Watchdog {
  readonly #waits = new Map<string, { what: string; since: number; limitMs: number }>()

  /** Starts (or restarts) a wait. */
  begin(id: string, what: string, limitMs: number, now: number): void {
    this.#waits.set(id, { what, since: now, limitMs })
  }

  end(id: string): void {
    this.#waits.delete(id)
  }

  /** The longest-overdue wait at `now`, if any is past its limit. */
  overdue(now: number): Stall | undefined {
    let worst: Stall | undefined
    for (const w of this.#waits.values()) {
      const late = now - w.since - w.limitMs
      if (late >= 0 && (worst === undefined || late > worst.waitedMs - worst.limitMs)) worst = { what: w.what, waitedMs: now - w.since, limitMs: w.limitMs }
    }
    return worst
  }
}

const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const n = (x: number) => Math.round(x).toLocaleString('en-US')

/** A multi-line dump of the pipeline's state, for a soak that failed a wait. Never waits long: a hung writer may not answer. */
export async function describeState(pipeline: PipelineManager, extra: readonly string[]): Promise<string> {
  const m = pipeline.getMetrics()
  const now = performance.timeOrigin + performance.now()
  const b = m.breaker
  const r = m.ring
  const answered = await Promise.race([
    pipeline.inspectWriters().catch(() => []),
    new Promise<[]>((resolve) => setTimeout(() => resolve([]), 2_000).unref()),
  ])
  const own = new Map(answered.map((w) => [w.consumerId, w.metrics]))
  const lines = [
    `  breaker: ${b.state}${b.prober === undefined ? '' : `, probe held by slot ${b.prober}`}, ${b.trips} trips, window ${b.successes} ok / ${b.failures} failed`,
    `  ring: write position ${n(r.writePosition)}, committed position ${n(r.committedPosition)}, ready ${n(r.ready)}, claimed ${n(r.claimed)}` +
      `${r.oldestPendingAt === undefined ? '' : `, oldest unstored ${s1(now - r.oldestPendingAt)} old`}, fill ${(r.utilization * 100).toFixed(1)}%, closed ${r.closed}`,
    `  ring totals: writes ${n(r.totalWrites)}, reads ${n(r.totalReads)}, committed ${n(r.totalCommitted)}, dropped ${JSON.stringify(Object.fromEntries(Object.entries(r.dropped).filter(([, v]) => v > 0)))}`,
    `  writers (${m.healthyWorkers} running of ${m.workerCount}):`,
    ...m.writers.map((w) => {
      const mine = own.get(w.slot)
      const held = mine && mine.heldEvents > 0 && mine.heldSince > 0 ? ` for ${s1(now - mine.heldSince)}` : ''
      return (
        `    slot ${w.slot} ${w.id}: ${w.state}${mine ? ` (${mine.stateName})` : ' (did not answer)'}, holds ${n(w.heldEvents)} events${held}, ` +
        `heartbeat ${w.heartbeatAgeMs === undefined ? '–' : `${n(w.heartbeatAgeMs)} ms`} ago, restarts ${w.restarts}, stored ${n(w.eventsStored)}, errors ${n(w.errorCount)}`
      )
    }),
    `  health: ${pipeline.healthCheck().status}; ${pipeline.healthCheck().checks.filter((c) => c.status !== 'healthy').map((c) => `${c.name}: ${c.reason}`).join('; ') || 'every check healthy'}`,
    ...extra.map((e) => `  ${e}`),
  ]
  return lines.join('\n')
}
