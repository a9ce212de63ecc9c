// Control calls to one writer over its comlink port (configure, introspect, fault switches). Each
// call gives up when the writer exits or does not answer in time, and once settled it leaves
// nothing behind: no reaction on a promise that lives as long as the writer, no pending timer.

/** The calls in flight to one writer; `close()` when its thread has exited. */
export class ControlCalls {
  readonly #giveUps = new Set<() => void>()
  #closed = false

  /**
   * Runs `f` (a comlink call) and resolves with its answer, or with undefined when the writer
   * exits first or `timeoutMs` passes (it may still apply the call later: messages on its port
   * are handled in order). Rejects when the writer answers with an error.
   */
  call<T>(f: () => Promise<T>, timeoutMs: number): Promise<T | undefined> {
    if (this.#closed) return Promise.resolve(undefined)
    return new Promise<T | undefined>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer)
        this.#giveUps.delete(giveUp)
      }
      const giveUp = () => {
        settle()
        resolve(undefined)
      }
      const timer = setTimeout(giveUp, timeoutMs)
      timer.unref()
      this.#giveUps.add(giveUp)
      f().then(
        (value) => {
          settle()
          resolve(value)
        },
        (err: unknown) => {
          settle()
          reject(err)
        },
      )
    })
  }

  /** The writer is gone: every call in flight resolves with undefined, and later calls at once. */
  close(): void {
    this.#closed = true
    for (const giveUp of [...this.#giveUps]) giveUp()
  }

  /** Calls in flight. */
  get pending(): number {
    return this.#giveUps.size
  }
}
