// Who is running: the pid of this thread, the traced call that encloses the current code (for
// parent ids) and the correlation id of the request or unit of work it belongs to. Synchronous
// nesting uses a plain variable (cheap); async continuations find their frame in an
// AsyncLocalStorage, entered only by async calls, correlation scopes and incoming requests.

import { AsyncLocalStorage } from 'node:async_hooks'
import { randomFillSync } from 'node:crypto'
import { threadId } from 'node:worker_threads'

/** The innermost traced call (or correlation scope) around running code. */
export interface Frame {
  /** Call id of the enclosing recorded call; 0 for a correlation scope that is not a call. */
  readonly id: number
  /** Correlation id shared by every event under this frame. */
  readonly corr: string
}

/**
 * The pid of events captured in this thread: `<process id.thread id>`, e.g. `<4242.0>` for the
 * main thread and `<4242.3>` for worker thread 3, in the shape of an Erlang pid. One pid is one
 * JavaScript thread (one event loop); async work inside it is told apart by call and correlation
 * ids, not by pid.
 */
export const PID = `<${process.pid}.${threadId}>`

const als = new AsyncLocalStorage<Frame>()
let current: Frame | undefined

/** The frame of the running code: the synchronous caller first, else the async context's. */
export function currentFrame(): Frame | undefined {
  return current ?? als.getStore()
}

/** Sets the synchronous frame and returns the one it replaces (restore it in a `finally`). */
export function swapFrame(f: Frame | undefined): Frame | undefined {
  const prev = current
  current = f
  return prev
}

/** Runs `fn` with `frame` as its frame, for its synchronous part and every async continuation. */
export function runInFrame<T>(frame: Frame, fn: () => T): T {
  const prev = current
  current = frame
  try {
    return als.run(frame, fn)
  } finally {
    current = prev
  }
}

/**
 * Makes `frame` the frame of the rest of the current synchronous execution and its continuations,
 * without a callback. Used where Node gives no callback to wrap: a diagnostics-channel message
 * published just before a request's handler runs.
 */
export function enterFrame(frame: Frame): void {
  als.enterWith(frame)
}

/** The correlation id of the running code, if it runs inside a traced call or correlation scope. */
export function currentCorrelationId(): string | undefined {
  return currentFrame()?.corr
}

/**
 * Runs `fn` with every event it causes (synchronously or after any `await`, timer or callback)
 * carrying `correlationId`. Calls inside are children of the enclosing traced call, if any.
 */
export function withCorrelation<T>(correlationId: string, fn: () => T): T {
  return runInFrame({ id: currentFrame()?.id ?? 0, corr: String(correlationId) }, fn)
}

// Random bytes drawn 4 KiB at a time: one request to the system's generator per 256 ids instead
// of one per id (a request without traceparent needs a new id).
const POOL = Buffer.alloc(4096)
let poolAt = POOL.length

/** A new correlation id: 32 random hex digits, the shape of a W3C trace id. */
export function newCorrelationId(): string {
  if (poolAt === POOL.length) {
    randomFillSync(POOL)
    poolAt = 0
  }
  const id = POOL.toString('hex', poolAt, poolAt + 16)
  poolAt += 16
  return id
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * The trace id of a W3C `traceparent` header (`00-<trace id>-<parent id>-<flags>`), or undefined
 * when the header is missing or malformed (an all-zero id, version ff, or not hex) as the W3C
 * Trace Context rules say a receiver must treat it.
 */
export function traceIdFromTraceparent(header: unknown): string | undefined {
  const h = Array.isArray(header) ? header[0] : header
  if (typeof h !== 'string') return undefined
  const m = TRACEPARENT.exec(h.trim().toLowerCase())
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined
  return m[2]
}
