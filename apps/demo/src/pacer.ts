// Paces a producer at a rate: how many events are due since the last call.
export class Pacer {
  readonly #start = performance.now()
  #sent = 0
  constructor(readonly ratePerSec: number) {}

  due(): number {
    const target = Math.floor(((performance.now() - this.#start) / 1000) * this.ratePerSec)
    const n = Math.max(0, target - this.#sent)
    this.#sent += n
    return n
  }
}
