// The capture runtime shared by `trace()`, the code the load hook writes and the runtime watchers:
// one per thread, kept on globalThis so instrumented modules find it without importing anything.
// It turns a call into a `call` event and then a `return` or `exception` event, decides sampling
// and rate caps per function, and counts every event it could not write. It never throws into
// the application: a full ring, a closed ring or a value it cannot summarise is counted.

import type { RingBuffer } from '@ringside/core-ringbuffer'
import { Call, Site } from './call.js'
import { PID, currentFrame, swapFrame } from './context.js'
import { INSTRUMENT_DEFAULTS, resolveOptions, type InstrumentOptions, type ResolvedInstrumentOptions } from './options.js'
import { Counters } from './stats.js'
import { summarizer, type Summarizer } from './summary.js'

const KEY = Symbol.for('ringside.instrument')

// One event object per kind, refilled for every call: ring.write encodes it synchronously and keeps
// nothing, and no application code runs between filling and writing (summaries are taken first,
// and they are plain data), so reuse is safe and spares two objects per call (and their garbage).
// Every field is always set, so the objects keep one shape. A `late` call event is the rare case
// and gets an object of its own.
const CALL = { type: 'call', pid: PID, module: '', function: '', arity: 0, astNodeId: undefined as string | undefined, callId: 0, parentId: 0, correlationId: '', args: undefined as unknown }
const RETURN = { type: 'return', pid: PID, module: '', function: '', arity: 0, astNodeId: undefined as string | undefined, callId: 0, correlationId: '', durationMs: 0, result: undefined as unknown }
const ROOT_PREFIX = `${process.pid}.${PID.slice(PID.indexOf('.') + 1, -1)}.`
const TOO_LARGE = '[too large]'

/** The per-thread capture runtime. Get it with `runtime()`. */
export class Runtime {
  ring: RingBuffer | undefined
  options: ResolvedInstrumentOptions = INSTRUMENT_DEFAULTS
  readonly counters = new Counters()
  #summary: Summarizer = summarizer(INSTRUMENT_DEFAULTS.summary)
  #seq = 0
  /**
   * Descriptions of thrown objects already described: an error that leaves several traced calls
   * is recorded by each, and reading and cutting its stack once is enough (the stack is formatted
   * when first read, and the result is the same object for each frame's event).
   */
  #described = new WeakMap<object, { from: unknown; out: { name: string; message: string; stack?: string } }>()

  /** Applies options (validated); a `ring` replaces the current one. */
  configure(o: InstrumentOptions): void {
    const resolved = resolveOptions(o, this.options)
    if (o.ring !== undefined) this.ring = o.ring
    if (resolved.summary !== this.options.summary) this.#summary = summarizer(resolved.summary)
    this.options = resolved
    this.#described = new WeakMap()
  }

  /** A site for one function. */
  site(module: string, fn: string, arity: number, astNodeId?: string): Site {
    return new Site(this, module, fn, arity, astNodeId)
  }

  /** The sites of one instrumented file, from the table the load hook wrote: [function, arity, astNodeId]. */
  sites(module: string, table: readonly (readonly [string, number, string])[]): Site[] {
    return table.map(([fn, arity, id]) => new Site(this, module, fn, arity, id))
  }

  enter(site: Site, args: ArrayLike<unknown>, sync: boolean): Call {
    const c = this.counters
    c.calls++
    const frame = currentFrame()
    const id = ++this.#seq
    const parent = frame === undefined ? 0 : frame.id
    const corr = frame === undefined ? ROOT_PREFIX + id : frame.corr
    let keep = true
    const o = this.options
    // One clock read per call: the rate cap's second and the call's start time.
    const t0 = performance.now()
    if (o.sampleEvery > 1 && site.n++ % o.sampleEvery !== 0) {
      keep = false
      c.sampledOut++
    } else if (o.maxCallsPerSecond > 0) {
      const second = Math.floor(t0 / 1000)
      if (second !== site.second) {
        site.second = second
        site.inSecond = 0
      }
      if (++site.inSecond > o.maxCallsPerSecond) {
        keep = false
        c.rateLimited++
      }
    }
    const call = new Call(site, id, parent, corr, keep, keep ? undefined : args, sync, t0)
    if (keep) {
      c.recorded++
      this.writeCall(call, args, false)
    }
    if (sync) call.prev = swapFrame(call)
    return call
  }

  writeCall(call: Call, args: ArrayLike<unknown>, late: boolean): void {
    const s = call.site
    let summary: unknown
    try {
      summary = this.#summary.args(args)
    } catch {
      this.counters.summaryErrors++
      summary = '[unsummarisable]'
    }
    const event: Record<string, unknown> = late ? { ...CALL, late: true } : CALL
    event.module = s.module
    event.function = s.fn
    event.arity = s.arity
    event.astNodeId = s.astNodeId
    event.callId = call.callId
    event.parentId = call.parentId
    event.correlationId = call.corr
    event.args = summary
    // Stamped with the call's start: the clock read for its duration serves as its capture time.
    this.write(event, 'args', s.ring, call.t0)
  }

  writeOutcome(call: Call, type: 'return', v: unknown): void {
    let summary: unknown
    try {
      summary = this.#summary.value(v)
    } catch {
      this.counters.summaryErrors++
      summary = '[unsummarisable]'
    }
    const s = call.site
    const event = RETURN as Record<string, unknown>
    event.type = type
    event.module = s.module
    event.function = s.fn
    event.arity = s.arity
    event.astNodeId = s.astNodeId
    event.callId = call.callId
    event.correlationId = call.corr
    const t1 = performance.now()
    event.durationMs = t1 - call.t0
    event.result = summary
    this.write(event, 'result', s.ring, t1)
  }

  writeException(call: Call, e: unknown): void {
    // A call sampled out still gets its exception, preceded by its call event, so trees stay whole.
    if (!call.recorded) this.writeCall(call, call.args ?? [], true)
    const s = call.site
    const t1 = performance.now()
    this.write(
      {
        type: 'exception',
        pid: PID,
        module: s.module,
        function: s.fn,
        arity: s.arity,
        astNodeId: s.astNodeId,
        callId: call.callId,
        correlationId: call.corr,
        durationMs: t1 - call.t0,
        error: this.describeError(e),
      },
      'error',
      s.ring,
      t1,
    )
  }

  /** `{ name, message, stack }` of a thrown value; the stack cut to `stackLines` frames. */
  describeError(e: unknown): { name: string; message: string; stack?: string } {
    try {
      if (e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e)) {
        const err = e as Error
        const max = this.options.summary.maxStringLength * 4
        const out: { name: string; message: string; stack?: string } = { name: String(err.name ?? 'Error'), message: String(err.message).slice(0, max) }
        const stack = err.stack
        // Described before with the same name, message and stack: the same description.
        const known = this.#described.get(err)
        if (known !== undefined && known.from === stack && known.out.name === out.name && known.out.message === out.message) return known.out
        if (typeof stack === 'string') {
          const lines = stack.split('\n')
          const first = lines.findIndex((l) => l.trimStart().startsWith('at '))
          if (first >= 0) out.stack = lines.slice(first, first + this.options.stackLines).map((l) => l.trim()).join('\n')
        }
        this.#described.set(err, { from: stack, out })
        return out
      }
      return { name: typeof e, message: String(this.#summary.value(e)) }
    } catch {
      this.counters.summaryErrors++
      return { name: 'unknown', message: '[unsummarisable]' }
    }
  }

  /**
   * Writes one event and counts the outcome. An event too large for the ring is written again with
   * its summary field (`field`) replaced by a marker, so the call itself is not lost. `at` is a
   * `performance.now()` reading just taken, stamped as the capture time (else the ring reads the clock).
   */
  write(event: Record<string, unknown>, field?: string, own?: RingBuffer, at?: number): boolean {
    const c = this.counters
    c.attempted++
    const ring = own ?? this.ring
    if (ring === undefined) {
      c.noRing++
      return false
    }
    let r
    try {
      r = ring.write(event, at)
    } catch {
      // The ring promises not to throw; if it ever does, the application must not notice.
      c.reject('invalid_event')
      return false
    }
    if (r.ok) {
      c.accepted++
      return true
    }
    if (r.reason === 'too_large' && field !== undefined && event[field] !== TOO_LARGE) {
      event[field] = TOO_LARGE
      const again = ring.write(event, at)
      if (again.ok) {
        c.accepted++
        c.truncated++
        return true
      }
      c.reject(again.reason)
      return false
    }
    c.reject(r.reason)
    return false
  }

  /** Writes an event of a runtime watcher (HTTP, fetch, messages, process errors) with pid and correlation. */
  emit(event: Record<string, unknown>, field?: string, at?: number): boolean {
    this.counters.runtimeEvents++
    event.pid ??= PID
    if (event.correlationId === undefined) {
      const corr = currentFrame()?.corr
      if (corr !== undefined) event.correlationId = corr
    }
    return this.write(event, field, undefined, at)
  }

  /** Summarises one value with the configured limits and redaction. */
  summarize(v: unknown): unknown {
    try {
      return this.#summary.value(v)
    } catch {
      this.counters.summaryErrors++
      return '[unsummarisable]'
    }
  }
}

/** The runtime of this thread, created on first use. */
export function runtime(): Runtime {
  const g = globalThis as { [KEY]?: Runtime }
  return (g[KEY] ??= new Runtime())
}
