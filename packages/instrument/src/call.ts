// One traced function (a Site: its names and sampling state) and one call in progress (a Call:
// the frame its children name as parent, and the methods the traced code calls to record its
// outcome). The Runtime writes the events; these hold what each call needs to say.

import type { RingBuffer } from '@ringside/core-ringbuffer'
import { runInFrame, swapFrame, type Frame } from './context.js'
import type { Runtime } from './runtime.js'

/** One traced function: what its events say about it, and its sampling state. */
export class Site {
  /** Calls seen, for 1-in-N sampling. */
  n = 0
  /** The second of `inSecond`, for the rate cap. */
  second = -1
  inSecond = 0
  /** A ring of this function's own (`trace(fn, { ring })`); else the runtime's. */
  ring: RingBuffer | undefined
  constructor(
    readonly rt: Runtime,
    readonly module: string,
    readonly fn: string,
    readonly arity: number,
    readonly astNodeId: string | undefined,
  ) {}

  ringOverride(ring: RingBuffer): void {
    this.ring = ring
  }

  /** Enters a call; `sync` calls become the synchronous frame of the code they run. */
  c(args: ArrayLike<unknown>, sync: 0 | 1): Call {
    return this.rt.enter(this, args, sync === 1)
  }

  /** Runs an async body (an async arrow) as one call, in its own async context; records on settle. */
  a<T>(args: ArrayLike<unknown>, body: () => Promise<T>): Promise<T> {
    const call = this.rt.enter(this, args, false)
    let p: Promise<T>
    try {
      p = runInFrame(call, body)
    } catch (e) {
      call.x(e)
      throw e
    }
    return call.settle(p)
  }
}

/** One call in progress. It is the frame of its children: `id` is what they name as parent. */
export class Call implements Frame {
  /** Parent id handed to children: this call's id when recorded, else its own parent's (sampled-out calls are transparent). */
  readonly id: number
  readonly corr: string
  readonly callId: number
  readonly parentId: number
  readonly t0: number
  /** 0 while running; 1 once its outcome is recorded (or being awaited). */
  done = 0
  /** The synchronous frame to restore when a sync call ends; undefined for calls that do not take it. */
  prev: Frame | undefined
  sync: boolean
  constructor(
    readonly site: Site,
    callId: number,
    parentId: number,
    corr: string,
    readonly recorded: boolean,
    /** Kept only for calls not recorded, so a later exception can still say what they were called with. */
    readonly args: ArrayLike<unknown> | undefined,
    sync: boolean,
    /** performance.now() when it began. */
    t0: number,
  ) {
    this.callId = callId
    this.parentId = parentId
    this.corr = corr
    this.id = recorded ? callId : parentId
    this.sync = sync
    this.t0 = t0
  }

  /** Records a synchronous return and passes the value through. */
  r<T>(v: T): T {
    if (this.done === 0) {
      this.done = 1
      if (this.recorded) this.site.rt.writeOutcome(this, 'return', v)
    }
    return v
  }

  /** Records the return of an async body: a native promise is recorded when it settles. */
  ra<T>(v: T): T {
    if (this.done !== 0) return v
    if (v instanceof Promise && v.constructor === Promise) return this.settle(v) as T
    return this.r(v)
  }

  /** Records an exception (also for calls sampled out: exceptions are always kept). */
  x(e: unknown): void {
    if (this.done !== 0) return
    this.done = 1
    this.site.rt.writeException(this, e)
  }

  /** Ends the call: records a return of undefined if nothing was recorded, and restores the caller's frame. */
  f(): void {
    if (this.done === 0) this.r(undefined)
    if (this.sync) swapFrame(this.prev)
  }

  /** Records `p`'s outcome when it settles and returns a promise of the same outcome. */
  settle<T>(p: Promise<T>): Promise<T> {
    this.done = 1
    // The derived promise is returned instead of observing `p`, so an unhandled rejection stays unhandled.
    return p.then(
      (v) => {
        if (this.recorded) this.site.rt.writeOutcome(this, 'return', v)
        return v
      },
      (e: unknown) => {
        this.site.rt.writeException(this, e)
        throw e
      },
    )
  }
}
