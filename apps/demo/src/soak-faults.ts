// The soak's faults, on a schedule of their own: each one starts when it is due and is never
// queued behind another. A store fault heals on a timer read by `tick`; a writer fault is a call
// that may not settle, so each is timed by the watchdog. What cannot be injected now (no writer has
// recovered from its last fault, a store fault or its recovery is still running) is skipped and counted.

import type { RingStats } from '@ringside/core-ringbuffer'
import type { PipelineManager } from '@ringside/pipeline-manager'
import type { FaultyStoreControl } from '@ringside/storage/testing'
import type { Watchdog } from './soak-watch.js'

export const WRITER_FAULTS = ['terminate', 'exit', 'crash', 'hang'] as const
export const STORE_FAULTS = ['offline', 'transient', 'slow'] as const
/** Faults of the store's file itself: another connection holds its write lock for a moment. */
export const FILE_FAULTS = ['file_lock'] as const
/** Faults of the user's stage and the application (`--stage-faults`). */
export const STAGE_FAULTS = ['stage_throw', 'stage_hang', 'stage_exit', 'reentrant'] as const
export type FaultKind = (typeof WRITER_FAULTS)[number] | (typeof STORE_FAULTS)[number] | (typeof FILE_FAULTS)[number] | (typeof STAGE_FAULTS)[number]

/** Takes and releases the store file's write lock from a connection of the soak's own. */
export interface FileLock {
  take(): void
  release(): void
}

/** Longest a crash-drill call (killWriter, setWriterFault) may take before the soak calls it a hang. */
const CALL_LIMIT_MS = 10_000
/** A writer fault switch that has not fired by then is forgotten (its writer found nothing to do). */
const FORGET_SWITCH_MS = 30_000

export interface FaultDeps {
  readonly pipeline: PipelineManager
  readonly control: FaultyStoreControl
  readonly watchdog: Watchdog
  readonly rand: () => number
  readonly kinds: readonly FaultKind[]
  /** Writes the event(s) of a stage or application fault. */
  readonly writeFaultEvent: (kind: (typeof STAGE_FAULTS)[number]) => void
  /** How long a store may take to store the backlog it found on its return before the soak fails. */
  readonly recoveryLimitMs: number
  /** The store file's lock (file faults); without it, file faults are skipped. */
  readonly fileLock?: FileLock
}

export class FaultSchedule {
  readonly #d: FaultDeps
  readonly injected: Record<string, number>
  skipped = 0
  readonly writerRestartMs: number[] = []
  readonly storeOutageMs: number[] = []
  #storeFault: { kind: string; healAt: number } | undefined
  #recovery: { since: number; target: number } | undefined
  readonly #faulted = new Map<number, number>() // slot → when its fault was set
  // slot → its batch count when its replacement started. A writer is faulted again only once its
  // replacement has committed a batch: faults faster than a loaded machine restarts writers would
  // otherwise kill every heir before it stores the claim it took over, and nothing would move.
  readonly #restartedAt = new Map<number, number>()
  #calls = 0

  constructor(d: FaultDeps) {
    this.#d = d
    this.injected = Object.fromEntries(d.kinds.map((k) => [k, 0]))
    d.pipeline.on('writer_restarted', (e) => {
      const t = this.#faulted.get(e.slot)
      if (t !== undefined) this.writerRestartMs.push(performance.now() - t)
      this.#faulted.delete(e.slot)
      this.#restartedAt.set(e.slot, this.#batches().get(e.slot) ?? 0)
    })
  }

  /** The store fault in progress, or the recovery after it, for progress lines and dumps. */
  get activity(): string {
    if (this.#storeFault) return `store ${this.#storeFault.kind}`
    if (this.#recovery) return 'store back, backlog draining'
    return ''
  }

  /** A store fault is in progress: the ring may rightly stand still. */
  get storeFaultActive(): boolean {
    return this.#storeFault !== undefined
  }

  /** Starts one random fault now, without waiting for anything. */
  fire(now: number): void {
    const d = this.#d
    const kind = d.kinds[Math.floor(d.rand() * d.kinds.length)]!
    if ((WRITER_FAULTS as readonly string[]).includes(kind)) return this.#writerFault(kind as (typeof WRITER_FAULTS)[number], now)
    if ((STAGE_FAULTS as readonly string[]).includes(kind)) {
      this.injected[kind]!++
      return d.writeFaultEvent(kind as (typeof STAGE_FAULTS)[number])
    }
    if (this.#storeFault || this.#recovery) return void this.skipped++
    if (kind === 'file_lock') {
      if (!d.fileLock) return void this.skipped++
      this.injected[kind]!++
      // Short: writers wait the lock out in SQLite's busy handler, within one step of their batch deadline.
      d.fileLock.take()
      this.#storeFault = { kind, healAt: now + 100 + Math.floor(d.rand() * 500) }
      return
    }
    this.injected[kind]!++
    // Outages last long enough (1.5-3.5 s) to outweigh the successes in the breaker's window;
    // transient failures and slowness are shorter blips (0.2-1 s).
    const ms = kind === 'offline' ? 1500 + Math.floor(d.rand() * 2000) : 200 + Math.floor(d.rand() * 800)
    if (kind === 'slow') d.control.slowMs = 20 + Math.floor(d.rand() * 80)
    else d.control.mode = kind === 'offline' ? 'offline' : 'transient'
    this.#storeFault = { kind, healAt: now + ms }
  }

  /** Heals a store fault that is due, and ends the recovery once the backlog found on the store's return is stored. */
  tick(now: number, ring: RingStats): void {
    if (this.#storeFault && now >= this.#storeFault.healAt) {
      const { kind } = this.#storeFault
      this.#storeFault = undefined
      if (kind === 'file_lock') this.#d.fileLock?.release()
      else this.#d.control.heal()
      if (kind === 'offline') {
        this.#recovery = { since: now, target: ring.writePosition }
        this.#d.watchdog.begin('recovery', 'the backlog found on the store\'s return to be stored', this.#d.recoveryLimitMs, now)
      }
    }
    if (this.#recovery && ring.committedPosition >= this.#recovery.target) {
      this.storeOutageMs.push(now - this.#recovery.since)
      this.#recovery = undefined
      this.#d.watchdog.end('recovery')
    }
    for (const [slot, t] of this.#faulted) if (now - t > FORGET_SWITCH_MS) this.#faulted.delete(slot)
  }

  /** Ends every store fault at once (the end of the soak). */
  healAll(): void {
    this.#storeFault = undefined
    this.#d.fileLock?.release()
    this.#d.control.heal()
  }

  #writerFault(kind: (typeof WRITER_FAULTS)[number], now: number): void {
    const d = this.#d
    const batches = this.#batches()
    const recovered = (slot: number) => (batches.get(slot) ?? 0) > (this.#restartedAt.get(slot) ?? -1)
    const running = d.pipeline.getState().members.filter((m) => m.state === 'running' && !this.#faulted.has(m.slot) && recovered(m.slot))
    const target = running[Math.floor(d.rand() * running.length)]
    if (!target) return void this.skipped++
    this.injected[kind]!++
    this.#faulted.set(target.slot, now)
    const at = d.rand() < 0.5 ? 'before_store' : 'after_store'
    const call =
      kind === 'terminate'
        ? d.pipeline.killWriter(target.slot)
        : d.pipeline.setWriterFault(target.slot, { kind, at, code: kind === 'exit' ? 0 : 1 })
    const id = `call-${++this.#calls}`
    d.watchdog.begin(id, `${kind === 'terminate' ? 'killWriter' : 'setWriterFault'}(slot ${target.slot}) to settle`, CALL_LIMIT_MS, now)
    // The writer may have died on its own in the meantime: a refused drill is not a failure.
    call.catch(() => this.#faulted.delete(target.slot)).finally(() => d.watchdog.end(id))
  }

  #batches(): Map<number, number> {
    return new Map(this.#d.pipeline.getMetrics().writers.map((w) => [w.slot, w.batchesProcessed]))
  }
}
