// Live progress for the demo: a redrawn status line with a progress bar on a terminal, plain
// timestamped lines when the output is a file or a pipe. Notices (kills, restarts) print above it.

import type { Writable } from 'node:stream'

export interface ProgressSample {
  readonly elapsedSec: number
  readonly durationSec: number
  readonly offeredPerSec: number
  readonly storedPerSec: number
  readonly ringFill: number
  readonly writersAlive: number
  readonly writersTarget: number
  readonly restarts: number
  readonly p99Ms: number | undefined
  /** p99 capture→commit over the recent window (getMetrics().latency.recent), and that window's length in s. */
  readonly recent?: { readonly p99Ms: number | undefined; readonly windowSeconds: number }
  /** The application's HTTP requests answered per second, and those refused (4xx) or failed (5xx, no answer) so far, when it serves any. */
  readonly requests?: { readonly perSec: number; readonly refused: number; readonly failed: number }
}

const n = (x: number) => Math.round(x).toLocaleString('en-US')

/** The recent window's p99 first: the figure since start hides how the pipeline does now. */
const recentOf = (s: ProgressSample): string =>
  s.recent === undefined ? '' : `${s.recent.p99Ms === undefined ? '–' : `${s.recent.p99Ms.toFixed(1)} ms`} (last ${s.recent.windowSeconds} s), `

export function statusLine(s: ProgressSample, tty: boolean): string {
  const ratio = Math.min(1, s.elapsedSec / s.durationSec)
  const width = 20
  const bar = tty ? `[${'#'.repeat(Math.round(ratio * width)).padEnd(width, '-')}] ${String(Math.round(ratio * 100)).padStart(3)}% ` : `${s.elapsedSec.toFixed(1)}s/${s.durationSec}s `
  const r = s.requests
  const served = r === undefined ? '' : `| requests ${n(r.perSec)}/s (4xx ${n(r.refused)}, failed ${n(r.failed)}) `
  return (
    `${bar}${served}| offered ${n(s.offeredPerSec)}/s | stored ${n(s.storedPerSec)}/s | ring ${(s.ringFill * 100).toFixed(1)}% ` +
    `| writers ${s.writersAlive}/${s.writersTarget} | restarts ${s.restarts} | p99 capture→commit ${recentOf(s)}${s.p99Ms === undefined ? '–' : `${s.p99Ms.toFixed(1)} ms`}${s.recent ? ' since start' : ''}`
  )
}

export class Progress {
  readonly #out: Writable & { isTTY?: boolean; columns?: number }
  readonly #tty: boolean
  #drawn = false
  #lastPlain = 0

  constructor(out: Writable & { isTTY?: boolean; columns?: number }) {
    this.#out = out
    this.#tty = out.isTTY === true
  }

  update(s: ProgressSample): void {
    const line = statusLine(s, this.#tty)
    if (this.#tty) {
      const cols = this.#out.columns ?? 120
      this.#out.write(`\r\x1b[2K${line.slice(0, cols - 1)}`)
      this.#drawn = true
    } else if (performance.now() - this.#lastPlain >= 1000) {
      // Plain output (a file, a pipe, CI): one line a second.
      this.#lastPlain = performance.now()
      this.#out.write(`${line}\n`)
    }
  }

  notice(text: string): void {
    if (this.#tty && this.#drawn) this.#out.write('\r\x1b[2K')
    this.#out.write(`${text}\n`)
    this.#drawn = false
  }

  end(): void {
    if (this.#tty && this.#drawn) this.#out.write('\n')
    this.#drawn = false
  }
}
