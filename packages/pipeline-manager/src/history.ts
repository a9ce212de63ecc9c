// The pipeline's recent past, kept in the manager so a dashboard opened now shows the last ten
// minutes at once: one sample a second (rates, fill, writers, recent latency, quarantined,
// restarts) and markers for what a person would want to line up with a dip (writer restarts and
// hangs, pool scale changes, config versions, breaker trips, pool escalations), plus the latest
// dead letters with their reasons. Bounded rings (ring-buffer-ts): memory does not grow.

import rbts from 'ring-buffer-ts'
import type { QuarantinedItem } from '@ringside/async-writer'

const { RingBuffer: Ring } = rbts

/** One second of the pipeline. */
export interface HistorySample {
  /** ms since the epoch */
  readonly t: number
  readonly offeredPerSec: number
  readonly storedPerSec: number
  /** 0..1 */
  readonly ringFill: number
  readonly writers: number
  /** Capture to commit over the recent window, ms (absent when nothing was committed in it). */
  readonly p50Ms?: number
  readonly p99Ms?: number
  readonly quarantined: number
  readonly restarts: number
}

export type MarkerKind = 'restart' | 'hung' | 'killer' | 'scale' | 'config' | 'breaker' | 'escalated'

/** Something that happened at a moment, for the chart. */
export interface HistoryMarker {
  readonly t: number
  readonly kind: MarkerKind
  readonly label: string
}

/** A recent dead letter, as the writers reported it. */
export interface RecentDeadLetter extends QuarantinedItem {
  readonly t: number
  readonly writerId: string
}

/** Samples kept: ten minutes at one a second. */
export const HISTORY_SECONDS = 600
const MARKERS = 500
const DEAD_LETTERS = 50

export class History {
  readonly #samples = new Ring<HistorySample>(HISTORY_SECONDS)
  readonly #markers = new Ring<HistoryMarker>(MARKERS)
  readonly #dead = new Ring<RecentDeadLetter>(DEAD_LETTERS)
  #last: { t: number; offered: number; stored: number } | undefined

  /** Adds a sample from cumulative totals; per-second rates come from the previous sample. */
  sample(t: number, offered: number, stored: number, s: Omit<HistorySample, 't' | 'offeredPerSec' | 'storedPerSec'>): void {
    const prev = this.#last
    const dt = prev ? (t - prev.t) / 1000 : 0
    const rate = (now: number, then: number) => (dt > 0 ? Math.max(0, Math.round((now - then) / dt)) : 0)
    this.#samples.add({ t, offeredPerSec: prev ? rate(offered, prev.offered) : 0, storedPerSec: prev ? rate(stored, prev.stored) : 0, ...s })
    this.#last = { t, offered, stored }
  }

  mark(t: number, kind: MarkerKind, label: string): void {
    this.#markers.add({ t, kind, label })
  }

  quarantined(t: number, writerId: string, items: readonly QuarantinedItem[]): void {
    for (const d of items) this.#dead.add({ t, writerId, ...d })
  }

  /** Samples and markers newer than `since` (ms since the epoch; all when absent), oldest first. */
  read(since = 0): { samples: HistorySample[]; markers: HistoryMarker[] } {
    return { samples: this.#samples.toArray().filter((s) => s.t > since), markers: this.#markers.toArray().filter((m) => m.t > since) }
  }

  /** The latest dead letters, newest first. */
  deadLetters(): RecentDeadLetter[] {
    return this.#dead.toArray().reverse()
  }
}
