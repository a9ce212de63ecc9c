// Counters of everything the capture side did or skipped, so no event goes missing silently:
// every traced call is recorded, sampled out or rate limited; every event tried is accepted by
// the ring, refused by it (by reason) or had no ring to go to.

import type { WriteDropReason } from '@ringside/core-ringbuffer'

/** A snapshot of the capture counters of this thread (`instrumentStats()`). */
export interface InstrumentStats {
  /** Traced calls entered. calls = recorded + sampledOut + rateLimited. */
  readonly calls: number
  /** Calls whose call event was written (or tried). */
  readonly recorded: number
  /** Calls skipped by `sampleEvery` (their exceptions are still recorded). */
  readonly sampledOut: number
  /** Calls skipped by `maxCallsPerSecond` (their exceptions are still recorded). */
  readonly rateLimited: number
  /** Events tried. attempted = accepted + sum(rejected) + noRing. */
  readonly attempted: number
  /** Events the ring accepted. */
  readonly accepted: number
  /** Events the ring refused, by its reason (`full`, `too_large`, `closed`, ...). */
  readonly rejected: Readonly<Partial<Record<WriteDropReason, number>>>
  /** Events captured while no ring was set (nothing called `instrument()` or the register hook). */
  readonly noRing: number
  /** Events refused as too large and written again with their summaries replaced by a marker. */
  readonly truncated: number
  /** Arguments or results whose summary threw (a Proxy trap, ...); summarised as a marker. */
  readonly summaryErrors: number
  /** Events written by the runtime watchers (HTTP, fetch, worker messages, process errors). */
  readonly runtimeEvents: number
}

/** Mutable counters, owned by the runtime. */
export class Counters {
  calls = 0
  recorded = 0
  sampledOut = 0
  rateLimited = 0
  attempted = 0
  accepted = 0
  rejected: Partial<Record<WriteDropReason, number>> = {}
  noRing = 0
  truncated = 0
  summaryErrors = 0
  runtimeEvents = 0

  reject(reason: WriteDropReason): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1
  }

  snapshot(): InstrumentStats {
    return {
      calls: this.calls,
      recorded: this.recorded,
      sampledOut: this.sampledOut,
      rateLimited: this.rateLimited,
      attempted: this.attempted,
      accepted: this.accepted,
      rejected: { ...this.rejected },
      noRing: this.noRing,
      truncated: this.truncated,
      summaryErrors: this.summaryErrors,
      runtimeEvents: this.runtimeEvents,
    }
  }

  reset(): void {
    this.calls = this.recorded = this.sampledOut = this.rateLimited = 0
    this.attempted = this.accepted = this.noRing = this.truncated = this.summaryErrors = this.runtimeEvents = 0
    this.rejected = {}
  }
}
