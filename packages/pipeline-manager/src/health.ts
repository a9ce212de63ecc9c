// Health as a pure function of what the manager sees: each check passes, degrades or fails with a
// reason, and the status is the worst of them.

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'

export interface HealthCheck {
  readonly name: 'writers' | 'restart_budget' | 'ring_fill' | 'oldest_unstored' | 'store_breaker' | 'store' | 'stages' | 'journal' | 'supervisor'
  readonly status: HealthStatus
  readonly reason: string
}

export interface HealthReport {
  readonly status: HealthStatus
  readonly checks: readonly HealthCheck[]
}

export interface HealthInput {
  readonly targetWriters: number
  readonly runningWriters: number
  readonly restartsInWindow: number
  readonly maxRestarts: number
  readonly maxSeconds: number
  readonly ringUtilization: number
  /** Age of the oldest event not yet committed, ms; undefined when the ring holds none. */
  readonly oldestUnstoredAgeMs: number | undefined
  /** Set when the pool escalated and the manager gave up restarting it (or is restarting it). */
  readonly supervisorProblem: string | undefined
  /** The store circuit breaker; absent means there is none. */
  readonly breaker?: { readonly state: 'closed' | 'open' | 'half_open'; readonly trips: number; readonly openedAt: number }
  /**
   * The last answer of the store's health probe, with its time (ms since the epoch) and the probe
   * interval; absent when the store cannot tell or probing is off.
   */
  readonly store?: { readonly status: HealthStatus; readonly reason: string; readonly at: number; readonly intervalMs: number; readonly permanent?: boolean }
  /** User stages' failures over the recent window; absent without stages. */
  readonly stages?: { readonly failed: number; readonly processed: number; readonly windowSeconds: number }
  /** The exit journal's condition, when there is one: a failed write is unhealthy. */
  readonly journal?: { readonly status: HealthStatus; readonly reason: string }
  readonly now?: number
  readonly thresholds: {
    /** Share of processed events a stage failed on (recent window) at which health is degraded. */
    readonly stageErrorsDegraded?: number
    readonly ringFillDegraded: number
    readonly ringFillUnhealthy: number
    readonly oldestUnstoredMs: number
    readonly restartBudgetDegraded: number
  }
}

/** Fewer events than this in the window say nothing about a stage's failure rate. */
const STAGE_MIN_EVENTS = 20

const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 }

export function evaluateHealth(h: HealthInput): HealthReport {
  const t = h.thresholds
  const checks: HealthCheck[] = []
  const w = h.runningWriters
  checks.push(
    w >= h.targetWriters
      ? { name: 'writers', status: 'healthy', reason: `${w} of ${h.targetWriters} writers running` }
      : { name: 'writers', status: w === 0 ? 'unhealthy' : 'degraded', reason: `writers below target: ${w} of ${h.targetWriters} running` },
  )
  const budget = h.maxRestarts === 0 ? (h.restartsInWindow > 0 ? 1 : 0) : h.restartsInWindow / h.maxRestarts
  checks.push({
    name: 'restart_budget',
    status: budget >= t.restartBudgetDegraded ? 'degraded' : 'healthy',
    reason: `${h.restartsInWindow} of ${h.maxRestarts} restarts used in the last ${h.maxSeconds}s${budget >= t.restartBudgetDegraded ? ' (restart budget nearly spent)' : ''}`,
  })
  const fill = h.ringUtilization
  checks.push({
    name: 'ring_fill',
    status: fill >= t.ringFillUnhealthy ? 'unhealthy' : fill >= t.ringFillDegraded ? 'degraded' : 'healthy',
    reason: `ring ${(fill * 100).toFixed(1)}% full${fill >= t.ringFillDegraded ? ` (threshold ${(t.ringFillDegraded * 100).toFixed(0)}%)` : ''}`,
  })
  const age = h.oldestUnstoredAgeMs
  checks.push(
    age !== undefined && age > t.oldestUnstoredMs
      ? { name: 'oldest_unstored', status: 'degraded', reason: `oldest unstored event is ${Math.round(age)} ms old (threshold ${t.oldestUnstoredMs} ms)` }
      : { name: 'oldest_unstored', status: 'healthy', reason: age === undefined ? 'nothing waiting' : `oldest unstored event is ${Math.round(age)} ms old` },
  )
  if (h.breaker) {
    const b = h.breaker
    checks.push(
      b.state === 'closed'
        ? { name: 'store_breaker', status: 'healthy', reason: `store circuit breaker closed (${b.trips} trips so far)` }
        : {
            name: 'store_breaker',
            status: 'degraded',
            reason: `store circuit breaker ${b.state === 'open' ? 'open' : 'half-open (probing)'} since ${new Date(b.openedAt).toISOString()}: writers hold off, the ring absorbs (${b.trips} trips so far)`,
          },
    )
  }
  if (h.store) {
    // At worst degraded: while the store is out the ring absorbs and the app goes on writing, so
    // readiness stays (a fleet whose shared store is down should not be taken out of service
    // whole); the ring's own checks turn unhealthy when it can take no more. Unless the store says
    // its condition is permanent (a SQLite file deleted under the writers): waiting will not help.
    const s = h.store
    // A probe that has not come back for a while is an answer too: the store is not answering.
    const staleMs = Math.max(10_000, 3 * s.intervalMs)
    const age = (h.now ?? Date.now()) - s.at
    checks.push(
      age > staleMs
        ? { name: 'store', status: 'degraded', reason: `store: its health probe has not answered for ${Math.round(age / 1000)} s (last: ${s.reason})` }
        : {
            name: 'store',
            status: s.status === 'healthy' ? 'healthy' : s.status === 'unhealthy' && s.permanent === true ? 'unhealthy' : 'degraded',
            reason: `store ${s.status}: ${s.reason}`,
          },
    )
  }
  if (h.stages) {
    // Degraded at worst: a stage failing is a bug in the user's code, and its events are kept as
    // dead letters; storing the rest must go on, so the pipeline stays ready.
    const { failed, processed, windowSeconds } = h.stages
    const limit = t.stageErrorsDegraded ?? 0.5
    const bad = processed >= STAGE_MIN_EVENTS && failed / processed >= limit
    checks.push({
      name: 'stages',
      status: bad ? 'degraded' : 'healthy',
      reason: `user stages failed on ${failed} of ${processed} events in the last ${Math.round(windowSeconds)} s${bad ? ` (threshold ${Math.round(limit * 100)}%; see dead letters with reason stage_error)` : ''}`,
    })
  }
  if (h.journal) checks.push({ name: 'journal', status: h.journal.status, reason: h.journal.reason })
  checks.push(
    h.supervisorProblem === undefined
      ? { name: 'supervisor', status: 'healthy', reason: 'pool supervised' }
      : { name: 'supervisor', status: 'unhealthy', reason: h.supervisorProblem },
  )
  const status = checks.reduce<HealthStatus>((worst, c) => (RANK[c.status] > RANK[worst] ? c.status : worst), 'healthy')
  return { status, checks }
}
