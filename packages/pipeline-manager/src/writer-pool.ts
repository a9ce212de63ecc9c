// AsyncWriterPool: the supervisor of the writer threads. It spawns writers into numbered slots
// (slot = ring consumer id = metrics row), watches their exits and batch deadlines, restarts them
// by OTP's rules with a jittered backoff, hands a dead writer's claims to its replacement (or to a
// live writer), records which claims kill writers (so a poison event is isolated instead of
// crash-looping the pool), scales at runtime, and escalates when restart intensity is exceeded.
// With `spares`, warm spare writers wait ready (claiming nothing) and take a dead writer's claims
// at once; with a store write lock (SQLite), it frees the lock of a writer that died holding it.

import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import { EventEmitter } from 'eventemitter3'
import type { Remote } from 'comlink'
import type { Logger } from 'pino'
import { serveStore, type EventStore, type ServedPort, type StoreSpec } from '@ringside/storage'
import { Comlink, nodeEndpoint } from '@ringside/async-writer/comlink'
import {
  ClaimVerdicts,
  RemoteWriterError,
  SharedBreaker,
  createVerdictBuffer,
  WriterMetrics,
  readWriterMetrics,
  type BatchReport,
  type FaultSwitch,
  type QuarantinedItem,
  type StageSpec,
  type WriterApi,
  type WriterConfig,
  type WriterInit,
  type WriterEntry,
  type WriterMessage,
  describeSerialized,
  releaseStoreLockOf,
  writerEntry,
} from '@ringside/async-writer/protocol'
import { ControlCalls } from './control-calls.js'
import type { PipelineRing } from './ring-set.js'
import { writerId } from './writer-id.js'
import { PipelineError, WriterStartError } from './errors.js'
import {
  childrenToRestart,
  registerRestart,
  restartDelay,
  restartsInWindow,
  shouldRestart,
  type ExitReason,
  type RestartType,
  type Strategy,
} from './supervisor/restart-policy.js'

/** Supervision settings the pool reads live. */
export interface PoolSupervision {
  strategy: Strategy
  restart: RestartType
  shutdown: number | 'brutal_kill'
  maxRestarts: number
  maxSeconds: number
  restartBackoffMs: number
  restartBackoffMaxMs: number
}

export interface PoolOptions {
  /** A plain ring, or a priority ring: a dead writer's claims on each of its sub-rings go to the heir. */
  readonly ring: PipelineRing
  readonly store: StoreSpec
  /** A store held in this thread and served to every writer over a port (the memory store). */
  readonly hostedStore?: EventStore
  readonly stages: readonly StageSpec[]
  readonly writerConfig: WriterConfig
  readonly supervision: PoolSupervision
  readonly metricsBuffer: SharedArrayBuffer
  readonly breakerBuffer: SharedArrayBuffer
  readonly maxPoolSize: number
  readonly abandonAfterMs: number
  /** Per-stage metrics, `maxPoolSize` slots × the stage count. */
  readonly stageMetricsBuffer?: SharedArrayBuffer
  /** V8 old-generation limit of each writer thread, MB (a stage out of memory kills its writer, not the app). */
  readonly writerMaxHeapMb: number
  /** The write lock of the store's file (SQLite), passed to every writer; undefined: writers do not take turns. */
  readonly storeLock?: SharedArrayBuffer
  /** Warm spare writers kept ready beside the pool (one_for_one only); slots count against maxPoolSize. Defaults to 0. */
  readonly spares?: number
  readonly logger: Logger
}

export type MemberState = 'starting' | 'running' | 'stopping' | 'exited'

/** What getState reports per pool member. */
export interface MemberInfo {
  readonly id: string
  readonly slot: number
  readonly state: MemberState
  readonly threadId: number
  readonly restarts: number
  readonly startedAt: number
}

export interface PoolEvents {
  writer_started: [{ id: string; slot: number; threadId: number }]
  writer_exited: [{ id: string; slot: number; reason: ExitReason; code: number; detail?: string }]
  /** A writer took a dead writer's place: after `delayMs` of backoff, or at once (`spare`) when a warm spare took over. */
  writer_restarted: [{ id: string; slot: number; restarts: number; delayMs: number; spare?: boolean }]
  /** A warm spare is ready (it claims nothing until a writer dies). */
  spare_started: [{ id: string; slot: number; threadId: number }]
  writer_hung: [{ id: string; slot: number; busyMs: number; heldEvents: number }]
  /** An event that killed (or hung) its writer when processed alone; its heir quarantines it. */
  writer_killer_found: [{ id: string; slot: number; seq: number; reason: 'crashed_writer' | 'timeout' }]
  claims_handed_over: [{ from: number; to: number; events: number }]
  pool_scaled: [{ from: number; to: number }]
  escalated: [{ reason: string; restartsInWindow: number }]
  batch: [{ id: string; report: BatchReport }]
  /** Events a writer just sent to the dead letters (the first QUARANTINE_REPORT_MAX of a batch; `more` counts the rest). */
  quarantined: [{ id: string; items: readonly QuarantinedItem[]; more: number }]
  error: [Error]
}

interface Member {
  readonly id: string
  readonly slot: number
  readonly worker: Worker
  /** The thread's id, kept: it owns the store lock while storing, and `worker.threadId` is -1 after exit. */
  readonly threadId: number
  readonly api: Remote<WriterApi>
  readonly control: MessagePort
  readonly served: ServedPort | undefined
  readonly startedAt: number
  readonly ready: Promise<void>
  readonly exited: Promise<number>
  /** Control calls in flight to this writer; settled when it exits. */
  readonly calls: ControlCalls
  /** The writer config this writer was started with or last given. */
  config: WriterConfig
  /** A warm spare: ready, claiming nothing, not counted as a member until it takes a dead writer's place. */
  spare: boolean
  state: MemberState
  expectedExit: boolean
  hung: boolean
  /** A crash drill was aimed at it (killWriter, a fault switch): its death is the drill's, not its event's. */
  drilled: boolean
  lastError: string | undefined
}

const idOf = writerId
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())
/**
 * Young generation of each writer thread, MB. V8's default (up to 3 x 16 MB semi-spaces) let each
 * writer's heap grow to about 44 MB while 11-17 MB were in use; at 8 MB it stays near 20 MB
 * (BENCHMARKS.md, memory). A writer's garbage is short-lived per batch, so scavenges stay cheap.
 */
const WRITER_YOUNG_GENERATION_MB = 8
/** How often batch deadlines are checked; a hung writer is caught within this much of its deadline. */
const MONITOR_EVERY_MS = 100
/** Longest wait for a control call (configure, introspect) to a live writer. */
const CONTROL_TIMEOUT_MS = 5_000
/** What a writer's introspection returns. */
export type WriterIntrospection = ReturnType<WriterApi['introspect']>

export class AsyncWriterPool extends EventEmitter<PoolEvents> {
  readonly #o: PoolOptions
  #sup: PoolSupervision
  #writerConfig: WriterConfig
  readonly #members = new Map<number, Member>()
  /** Warm spares by slot: started, claiming nothing, not members. */
  readonly #spares = new Map<number, Member>()
  /** Slots whose writer is dead and whose claims wait for an heir. */
  readonly #orphans = new Set<number>()
  /** Slots scheduled for a restart. */
  readonly #restarting = new Set<number>()
  readonly #restartsBySlot = new Map<number, number>()
  #restartTotal = 0
  #history: number[] = []
  #target = 0
  #stopping = false
  #escalated = false
  #monitor: NodeJS.Timeout | undefined
  #entry: WriterEntry | undefined
  #stageNames: readonly string[] | undefined
  /** The stage list in force and its metrics rows (replaced whole by swapStages). */
  #stages: readonly StageSpec[]
  #stageMetricsBuffer: SharedArrayBuffer | undefined
  readonly #verdictBuffer = createVerdictBuffer()
  readonly #verdicts = new ClaimVerdicts(this.#verdictBuffer)

  constructor(options: PoolOptions) {
    super()
    this.#o = options
    this.#sup = { ...options.supervision }
    this.#writerConfig = options.writerConfig
    this.#stages = options.stages
    this.#stageMetricsBuffer = options.stageMetricsBuffer
  }

  /**
   * Replaces every writer's stages, all or nothing: each running writer loads `specs` first
   * (prepareStages); if any cannot, every writer forgets them and this rejects with that writer's
   * error (a RemoteWriterError, code `stage_load_failed`), the old stages running on. Otherwise
   * every writer switches from its next batch, and writers started from now on load `specs`.
   */
  async swapStages(specs: readonly StageSpec[], stageMetricsBuffer: SharedArrayBuffer | undefined): Promise<void> {
    this.#assertSupervising()
    // Ready spares switch too: one that took over later would otherwise run the old list.
    const running = [...this.#members.values(), ...this.#spares.values()].filter((m) => m.state === 'running')
    if (running.length === 0) throw new PipelineError('no_such_writer', 'no running writer to load the new stages in')
    const loaded = await Promise.allSettled(running.map((m) => m.api.prepareStages(specs, stageMetricsBuffer)))
    const failed = loaded.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) {
      await Promise.allSettled(running.map((m) => m.api.discardStages()))
      throw failed.reason
    }
    this.#stages = specs
    this.#stageMetricsBuffer = stageMetricsBuffer
    this.#stageNames = (loaded[0] as PromiseFulfilledResult<string[]>).value
    await Promise.all(running.map((m) => this.#call(m, () => m.api.commitStages())))
  }

  /** Starts `n` writers; rejects with WriterStartError (and stops the rest) if one fails before ready. */
  async start(n: number): Promise<void> {
    this.#entry = await writerEntry()
    this.#target = n
    this.#escalated = false
    this.#stopping = false
    const spawned = Array.from({ length: n }, (_, slot) => this.#spawn(slot))
    spawned.push(...this.#spawnSpares())
    const results = await Promise.allSettled(spawned.map((m) => m.ready))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) {
      await this.stopAll(1_000)
      throw failed.reason
    }
    this.#startMonitor()
  }

  get size(): number {
    return this.#target
  }

  get escalated(): boolean {
    return this.#escalated
  }

  /** Restart timestamps in the intensity window. */
  restartsInWindow(now = Date.now()): number {
    return restartsInWindow(this.#history, now, this.#sup.maxSeconds)
  }

  get supervision(): Readonly<PoolSupervision> {
    return this.#sup
  }

  members(): MemberInfo[] {
    return [...this.#members.values()]
      .sort((a, b) => a.slot - b.slot)
      .map((m) => ({ id: m.id, slot: m.slot, state: m.state, threadId: m.worker.threadId, restarts: this.#restartsBySlot.get(m.slot) ?? 0, startedAt: m.startedAt }))
  }

  /** The user stages' names as the writers loaded them (their `name`, or `stages[i]`); undefined before the first writer is ready. */
  get stageNames(): readonly string[] | undefined {
    return this.#stageNames
  }

  /** Total restarts since start (a spare taking a dead writer's place is one). */
  get totalRestarts(): number {
    return this.#restartTotal
  }

  /** The warm spares (ready ones are `running`). */
  spares(): MemberInfo[] {
    return [...this.#spares.values()]
      .sort((a, b) => a.slot - b.slot)
      .map((m) => ({ id: m.id, slot: m.slot, state: m.state, threadId: m.threadId, restarts: 0, startedAt: m.startedAt }))
  }

  setSupervision(patch: Partial<PoolSupervision>): void {
    this.#sup = { ...this.#sup, ...patch }
  }

  /**
   * Makes `patch` part of the writer config in force and gives the whole config to every running
   * writer. A writer still starting gets it once ready (see #spawn), one that exits meanwhile is
   * replaced by a writer started with it, and one that does not answer in time still handles the
   * call later (its control port is ordered): so every writer ends up running the config in force.
   * Rejects only when a writer refuses the config.
   */
  async configure(patch: Partial<WriterConfig>): Promise<void> {
    this.#writerConfig = Object.freeze({ ...this.#writerConfig, ...patch })
    await Promise.all([...this.#members.values(), ...this.#spares.values()].filter((m) => m.state === 'running').map((m) => this.#push(m)))
  }

  /** Gives `m` the writer config in force, unless it already runs it. */
  async #push(m: Member): Promise<void> {
    const config = this.#writerConfig
    if (m.config === config) return
    m.config = config
    await this.#call(m, () => m.api.configure(config))
  }

  /** Sets (or clears) a fault switch on the writer in `slot` (crash drills). */
  async setFault(slot: number, fault: FaultSwitch | undefined): Promise<void> {
    const m = this.#members.get(slot)
    if (!m || m.state !== 'running') throw new PipelineError('no_such_writer', `no running writer in slot ${slot}`)
    m.drilled = fault !== undefined
    await this.#call(m, () => m.api.setFault(fault))
  }

  /** Each running writer's own view of itself (config and metrics), asked over its control port, by slot. */
  async introspect(): Promise<WriterIntrospection[]> {
    const running = [...this.#members.values()].filter((m) => m.state === 'running').sort((a, b) => a.slot - b.slot)
    const all = await Promise.all(running.map((m) => this.#call(m, () => m.api.introspect())))
    return all.filter((x): x is WriterIntrospection => x !== undefined)
  }

  /** Terminates the writer thread in `slot` as a crash would (worker.terminate). */
  async kill(slot: number): Promise<void> {
    const m = this.#members.get(slot) ?? this.#spares.get(slot)
    if (!m) throw new PipelineError('no_such_writer', `no writer in slot ${slot}`)
    m.drilled = true
    await m.worker.terminate()
  }

  /**
   * Brings the pool to `n` writers, counting those running or starting. Slots waiting for a
   * restart come back by themselves, so they are awaited first. Growing starts writers in free
   * slots; shrinking retires the highest slots (each finishes and commits its batch first). Calls
   * must not overlap (the manager queues them). All or nothing: if a new writer fails before ready,
   * the writers this call started are stopped, the target is restored, and it rejects with that
   * WriterStartError. A writer that fails to start is not restarted: it never became a child (OTP's
   * start_child hands the error to its caller).
   */
  async scale(n: number): Promise<void> {
    this.#assertSupervising()
    const from = this.#target
    this.#target = n
    await this.#settleRestarts()
    this.#assertSupervising()
    const live = [...this.#members.values()].filter((m) => m.state === 'running' || m.state === 'starting')
    if (n > live.length) {
      const free: number[] = []
      for (let s = 0; free.length < n - live.length && s < this.#o.maxPoolSize; s++) if (this.#isFree(s)) free.push(s)
      const started = free.map((s) => this.#spawn(s, { forCaller: true }))
      const failed = (await Promise.allSettled(started.map((m) => m.ready))).find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) {
        this.#target = from
        await Promise.all(started.map((m) => this.#stopMember(m, this.#sup.shutdown)))
        throw failed.reason
      }
    } else if (n < live.length) {
      const retiring = live.sort((a, b) => b.slot - a.slot).slice(0, live.length - n)
      await Promise.all(retiring.map((m) => this.#stopMember(m, this.#sup.shutdown)))
    }
    this.emit('pool_scaled', { from, to: n })
  }

  #assertSupervising(): void {
    if (this.#stopping) throw new PipelineError('stopped', 'the writer pool is stopping')
    if (this.#escalated) throw new PipelineError('escalated', 'the writer pool escalated; it is restarted by its manager')
  }

  /** Waits (bounded by the longest backoff) until no slot is between a crash and its restart. */
  async #settleRestarts(): Promise<void> {
    const end = Date.now() + this.#sup.restartBackoffMaxMs + CONTROL_TIMEOUT_MS
    while (this.#restarting.size > 0 && !this.#stopping && !this.#escalated && Date.now() < end) await delay(10)
  }

  /** Stops every writer (two-phase, within `timeoutMs`). No restarts happen from here on. */
  async stopAll(timeoutMs: number): Promise<void> {
    this.#stopping = true
    if (this.#monitor) clearInterval(this.#monitor)
    const shutdown = this.#sup.shutdown === 'brutal_kill' ? 'brutal_kill' : Math.min(this.#sup.shutdown, timeoutMs)
    await Promise.all([...this.#members.values(), ...this.#spares.values()].map((m) => this.#stopMember(m, shutdown)))
  }

  /** After an escalation: starts a fresh set of writers (the manager's restart of its child). */
  async restartAll(): Promise<void> {
    this.#history = []
    await this.start(this.#target)
  }

  /** Writers that are running (ready and not stopping). */
  get running(): number {
    let n = 0
    for (const m of this.#members.values()) if (m.state === 'running') n++
    return n
  }

  /** `forCaller`: the writer is started for a caller that gets its start failure (scale): it is not restarted if it fails before ready. */
  #spawn(slot: number, opts: { forCaller?: boolean; spare?: boolean } = {}): Member {
    const o = this.#o
    const id = idOf(slot)
    const { port1: control, port2: controlRemote } = new MessageChannel()
    let store: WriterInit['store'] = o.store
    let served: ServedPort | undefined
    const transfer: MessagePort[] = [controlRemote]
    if (o.hostedStore) {
      const ch = new MessageChannel()
      served = serveStore(o.hostedStore, ch.port1)
      ch.port1.unref()
      store = { kind: 'port', port: ch.port2 }
      transfer.push(ch.port2)
    }
    new WriterMetrics(o.metricsBuffer, slot).add('incarnation')
    const entry = this.#entry!
    const init: WriterInit & { entry?: string } = {
      ...(entry.entry ? { entry: entry.entry } : {}),
      writerId: id,
      consumerId: slot,
      ring: o.ring.handle,
      store,
      stages: this.#stages,
      config: this.#writerConfig,
      metrics: { buffer: o.metricsBuffer, slot },
      breaker: o.breakerBuffer,
      verdicts: this.#verdictBuffer,
      ...(this.#stageMetricsBuffer ? { stageMetrics: this.#stageMetricsBuffer } : {}),
      control: controlRemote,
      abandonAfterMs: o.abandonAfterMs,
      ...(o.storeLock ? { storeLock: o.storeLock } : {}),
      ...(opts.spare ? { spare: true } : {}),
    }
    const worker = new Worker(entry.script, { workerData: init, transferList: transfer, resourceLimits: { maxOldGenerationSizeMb: o.writerMaxHeapMb, maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB } })
    let onReady!: () => void
    let onStartFailed!: (e: Error) => void
    const ready = new Promise<void>((resolve, reject) => {
      onReady = resolve
      onStartFailed = reject
    })
    ready.catch(() => {}) // observed by start()/scale()/restart; never unhandled
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve))
    const member: Member = {
      id,
      slot,
      worker,
      threadId: worker.threadId,
      api: Comlink.wrap<WriterApi>(nodeEndpoint(control)),
      control,
      served,
      startedAt: Date.now(),
      ready,
      exited,
      calls: new ControlCalls(),
      config: this.#writerConfig,
      spare: opts.spare === true,
      state: 'starting',
      expectedExit: false,
      hung: false,
      drilled: false,
      lastError: undefined,
    }
    control.unref()
    if (opts.spare) {
      // A spare claims nothing: it takes no claims until it takes a dead writer's place.
      this.#spares.set(slot, member)
    } else {
      this.#members.set(slot, member)
      // A replacement takes its predecessor's claims first; it also adopts claims of dead slots nobody took.
      this.#handOver(slot, slot)
      for (const orphan of this.#orphans) this.#handOver(orphan, slot)
    }

    worker.on('message', (m: WriterMessage) => {
      switch (m.kind) {
        case 'ready':
          if (m.stageNames) this.#stageNames = m.stageNames
          member.state = 'running'
          // Started before the last configure reached the running writers: give it the config in force.
          void this.#push(member).catch((err: unknown) => o.logger.error({ writer: id, err }, 'writer refused the config in force'))
          onReady()
          if (member.spare) this.emit('spare_started', { id, slot, threadId: worker.threadId })
          else this.emit('writer_started', { id, slot, threadId: worker.threadId })
          break
        case 'start_failed':
          member.lastError = describeSerialized(m.error)
          onStartFailed(new WriterStartError(id, `${id} failed before ready: ${member.lastError}`, { cause: new RemoteWriterError(m.error) }))
          break
        case 'batch':
          this.emit('batch', { id, report: m.report })
          break
        case 'quarantined':
          this.emit('quarantined', { id, items: m.items, more: m.more })
          break
        case 'stopped':
          break
        default: {
          const err = new PipelineError('writer_protocol_error', `unknown message from ${id}: ${JSON.stringify(m)}`)
          o.logger.error({ err }, 'writer protocol error')
          this.emit('error', err)
        }
      }
    })
    worker.on('error', (err) => {
      member.lastError = `${err.name}: ${err.message}`
      o.logger.warn({ writer: id, err }, 'writer thread error')
    })
    worker.once('exit', (code) => {
      member.calls.close()
      // Its start failure is its caller's: the pool gives it up instead of restarting it.
      if (opts.forCaller && member.state === 'starting') member.expectedExit = true
      this.#onExit(member, code, onStartFailed)
    })
    // Writers do not hold the process open (an application need not call stop() to exit); the
    // manager holds it while anything awaits them. Last: adding a 'message' listener refs again.
    worker.unref()
    return member
  }

  #onExit(m: Member, code: number, onStartFailed: (e: Error) => void): void {
    const wasStarting = m.state === 'starting'
    m.state = 'exited'
    m.control.close()
    m.served?.close()
    // A writer that died while probing the store must not hold the breaker half-open.
    new SharedBreaker(this.#o.breakerBuffer).releaseProbe(m.slot)
    // Nor the store's write lock: a thread terminated inside a transaction cannot release it (SQLite
    // rolled that transaction back when the thread's connection closed, before this exit).
    if (this.#o.storeLock && releaseStoreLockOf(this.#o.storeLock, m.threadId)) this.#o.logger.warn({ writer: m.id }, 'writer died holding the store write lock; released')
    if (this.#spares.get(m.slot) === m) {
      this.#spares.delete(m.slot)
      this.#onSpareExit(m, code, wasStarting)
      return
    }
    if (this.#members.get(m.slot) === m) this.#members.delete(m.slot)
    const reason: ExitReason = m.expectedExit ? 'shutdown' : m.hung || code !== 0 ? 'crash' : 'normal'
    const detail = m.hung ? `a step of its work outlived batchTimeoutMs (${this.#writerConfig.batchTimeoutMs} ms)` : m.lastError
    // A death the pool caused on purpose (a shutdown, a drill) says nothing about the event in hand.
    const isolating = m.expectedExit || m.drilled ? false : this.#judgeDeath(m)
    if (wasStarting) onStartFailed(new WriterStartError(m.id, `${m.id} exited with code ${code} before ready${detail ? `: ${detail}` : ''}`))
    this.emit('writer_exited', { id: m.id, slot: m.slot, reason, code, ...(detail ? { detail } : {}) })
    this.#o.logger.info({ writer: m.id, reason, code, detail }, 'writer exited')

    if (this.#stopping || this.#escalated || !shouldRestart(this.#sup.restart, reason)) {
      this.#orphans.add(m.slot)
      // A child that is not restarted (transient after a normal exit, temporary) leaves the pool
      // below its target until scalePool or a config change fills it again; health shows it.
      this.#adoptOrphans()
      return
    }
    if (isolating) {
      // The death that names a killer event is the event's fault, found on purpose: it does not
      // spend the restart budget, or k poison events in one claim would escalate the pool.
      if (!this.#promoteSpare(m.slot)) void this.#restart(m.slot, this.restartsInWindow())
      return
    }
    const { history, exceeded } = registerRestart(this.#history, Date.now(), this.#sup.maxRestarts, this.#sup.maxSeconds)
    this.#history = history
    if (exceeded) {
      void this.#escalate(`restart intensity exceeded: ${history.length} restarts within ${this.#sup.maxSeconds}s (maxRestarts ${this.#sup.maxRestarts})`)
      return
    }
    if (!this.#promoteSpare(m.slot)) void this.#restart(m.slot, history.length)
  }

  /** Whether slot `s` holds nobody: no member, no spare, no restart pending. */
  #isFree(s: number): boolean {
    return !this.#members.has(s) && !this.#spares.has(s) && !this.#restarting.has(s)
  }

  /** Starts spares in free slots until `spares` are kept (or no slot is free). */
  #spawnSpares(): Member[] {
    const started: Member[] = []
    const want = this.#o.spares ?? 0
    for (let s = 0; this.#spares.size < want && s < this.#o.maxPoolSize; s++) {
      if (!this.#isFree(s)) continue
      const m = this.#spawn(s, { spare: true })
      m.ready.catch((err: unknown) => this.#o.logger.warn({ writer: m.id, err }, 'spare writer failed to start'))
      started.push(m)
    }
    return started
  }

  /**
   * A writer in `deadSlot` died and is to be restarted: a ready spare takes its place at once. It
   * gets the dead writer's claims (and any orphans) and starts claiming; the restart is counted
   * (budget already registered by the caller, totals, the slot's restarts) as if the writer had been
   * restarted, and a new spare is started in the background. Only under one_for_one: the other
   * strategies restart siblings too, which the usual path does. Returns false when no spare is ready.
   */
  #promoteSpare(deadSlot: number): boolean {
    if (this.#sup.strategy !== 'one_for_one') return false
    const spare = [...this.#spares.values()].find((m) => m.state === 'running')
    if (!spare) return false
    this.#spares.delete(spare.slot)
    spare.spare = false
    this.#members.set(spare.slot, spare)
    this.#handOver(deadSlot, spare.slot)
    for (const orphan of this.#orphans) this.#handOver(orphan, spare.slot)
    const restarts = (this.#restartsBySlot.get(deadSlot) ?? 0) + 1
    this.#restartsBySlot.delete(deadSlot)
    this.#restartsBySlot.set(spare.slot, restarts)
    this.#restartTotal++
    void this.#call(spare, () => spare.api.activate())
    this.#o.logger.info({ from: idOf(deadSlot), to: spare.id }, 'spare writer took a dead writer\'s place')
    this.emit('writer_restarted', { id: spare.id, slot: spare.slot, restarts, delayMs: 0, spare: true })
    this.#spawnSpares()
    return true
  }

  /**
   * A spare exited. Asked to (a shutdown): nothing. Crashed once ready: it is a child like the
   * writers, so it spends the restart budget and is replaced after the same jittered backoff.
   * Failed before ready: given up (logged) until the next promotion starts another.
   */
  #onSpareExit(m: Member, code: number, wasStarting: boolean): void {
    const reason: ExitReason = m.expectedExit ? 'shutdown' : code !== 0 ? 'crash' : 'normal'
    this.emit('writer_exited', { id: m.id, slot: m.slot, reason, code, ...(m.lastError ? { detail: m.lastError } : {}) })
    this.#o.logger.info({ writer: m.id, reason, code, spare: true }, 'spare writer exited')
    if (m.expectedExit || wasStarting || this.#stopping || this.#escalated) return
    const { history, exceeded } = registerRestart(this.#history, Date.now(), this.#sup.maxRestarts, this.#sup.maxSeconds)
    this.#history = history
    if (exceeded) {
      void this.#escalate(`restart intensity exceeded: ${history.length} restarts within ${this.#sup.maxSeconds}s (maxRestarts ${this.#sup.maxRestarts})`)
      return
    }
    this.#restartTotal++
    const wait = restartDelay(history.length, this.#sup.restartBackoffMs, this.#sup.restartBackoffMaxMs, Math.random())
    void delay(wait).then(() => {
      if (!this.#stopping && !this.#escalated) this.#spawnSpares()
    })
  }

  /**
   * A writer died without being asked to while holding a claim: records the claim's death (two
   * deaths make its heir process it one event at a time) and, if it was processing one event alone,
   * that event as the killer. Returns true for a death while isolating.
   */
  #judgeDeath(m: Member): boolean {
    const row = readWriterMetrics(this.#o.metricsBuffer, m.slot)
    if (row.heldEvents <= 0 || row.heldFirstSeq < 0) return false
    const deaths = this.#verdicts.recordDeath(row.heldFirstSeq, row.heldLastSeq)
    this.#o.logger.warn({ writer: m.id, from: row.heldFirstSeq, to: row.heldLastSeq, deaths }, 'writer died holding a claim')
    if (row.isolating !== 1 || row.currentSeq < 0) return false
    const reason = m.hung ? 'timeout' : 'crashed_writer'
    this.#verdicts.recordKiller(row.currentSeq, reason)
    this.#o.logger.warn({ writer: m.id, seq: row.currentSeq, reason }, 'event killed its writer when processed alone; it goes to the dead letters')
    this.emit('writer_killer_found', { id: m.id, slot: m.slot, seq: row.currentSeq, reason })
    return true
  }

  /** Restarts the failed slot and, by strategy, its siblings (stopped first, in reverse start order). */
  async #restart(failedSlot: number, nInWindow: number): Promise<void> {
    const order = [...this.#members.keys(), failedSlot].sort((a, b) => a - b).map(idOf)
    const ids = childrenToRestart(this.#sup.strategy, order, idOf(failedSlot))
    const slots = ids.map((id) => Number(id.slice('writer-'.length)) - 1)
    for (const s of slots) this.#restarting.add(s)
    const siblings = slots.filter((s) => s !== failedSlot).map((s) => this.#members.get(s)).filter((m): m is Member => m !== undefined)
    await Promise.all(siblings.reverse().map((m) => this.#stopMember(m, this.#sup.shutdown)))
    const wait = restartDelay(nInWindow, this.#sup.restartBackoffMs, this.#sup.restartBackoffMaxMs, Math.random())
    await delay(wait)
    for (const s of slots) {
      this.#restarting.delete(s)
      if (this.#stopping || this.#escalated || this.#members.has(s)) continue
      const restarts = (this.#restartsBySlot.get(s) ?? 0) + 1
      this.#restartsBySlot.set(s, restarts)
      this.#restartTotal++
      const m = this.#spawn(s)
      m.ready.then(
        () => this.emit('writer_restarted', { id: m.id, slot: s, restarts, delayMs: wait }),
        (err: Error) => this.#o.logger.warn({ writer: m.id, err }, 'restarted writer failed to start'),
      )
    }
  }

  async #escalate(reason: string): Promise<void> {
    this.#escalated = true
    if (this.#monitor) clearInterval(this.#monitor)
    this.#o.logger.error({ reason }, 'writer pool escalates')
    await Promise.all([...this.#members.values(), ...this.#spares.values()].map((m) => this.#stopMember(m, 'brutal_kill')))
    this.emit('escalated', { reason, restartsInWindow: this.#history.length })
  }

  /** Two-phase shutdown: ask, wait up to `shutdown` ms, then terminate. */
  async #stopMember(m: Member, shutdown: number | 'brutal_kill'): Promise<void> {
    if (m.state === 'exited') return
    m.expectedExit = true
    m.state = 'stopping'
    if (shutdown !== 'brutal_kill') {
      const asked = m.api.stop().catch(() => {})
      const exitedInTime = await Promise.race([m.exited.then(() => true), asked.then(() => m.exited).then(() => true), delay(shutdown).then(() => false)])
      if (exitedInTime) return
      this.#o.logger.warn({ writer: m.id, shutdown }, 'writer did not stop in time; terminating')
    }
    await m.worker.terminate()
    await m.exited
  }

  /** Moves the claims of `from` (dead) to `to`; the writer in `to` claims them before new events. */
  #handOver(from: number, to: number): void {
    const events = this.#o.ring.takeOver(from, to)
    if (from !== to) this.#orphans.delete(from)
    if (events > 0) {
      this.#o.logger.info({ from: idOf(from), to: idOf(to), events }, 'claims handed over')
      this.emit('claims_handed_over', { from, to, events })
    }
  }

  #adoptOrphans(): void {
    const heir = [...this.#members.values()].find((m) => m.state === 'running' || m.state === 'starting')
    if (!heir) return
    for (const orphan of this.#orphans) this.#handOver(orphan, heir.slot)
  }

  /**
   * Watches batch deadlines: a writer whose current step of work on a held claim is older than
   * batchTimeoutMs is terminated as crashed. Judged by the writer's own progress marks, not by a
   * timer's punctuality: a writer that is slow but moving, or starved of CPU between steps, starts
   * a new step (and a new deadline) each time it moves; a writer waiting on purpose has no deadline.
   */
  #startMonitor(): void {
    if (this.#monitor) clearInterval(this.#monitor)
    this.#monitor = setInterval(() => {
      const now = performance.timeOrigin + performance.now()
      const limit = this.#writerConfig.batchTimeoutMs
      for (const m of this.#members.values()) {
        if (m.state !== 'running' || m.hung) continue
        const row = readWriterMetrics(this.#o.metricsBuffer, m.slot)
        const busyMs = row.busySince > 0 ? now - row.busySince : 0
        if (row.heldEvents > 0 && busyMs > limit) {
          m.hung = true
          this.#o.logger.warn({ writer: m.id, busyMs: Math.round(busyMs), heldEvents: row.heldEvents }, 'writer hung holding a claim; terminating')
          this.emit('writer_hung', { id: m.id, slot: m.slot, busyMs, heldEvents: row.heldEvents })
          void m.worker.terminate()
        }
      }
    }, MONITOR_EVERY_MS)
    this.#monitor.unref()
  }

  /** A control call that gives up (undefined) when the writer exits or does not answer in time; see ControlCalls. */
  #call<T>(m: Member, f: () => Promise<T>): Promise<T | undefined> {
    return m.calls.call(f, CONTROL_TIMEOUT_MS)
  }
}
