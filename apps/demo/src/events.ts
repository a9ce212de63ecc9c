// A traced application in miniature: processes (pids) calling functions of a few modules, the
// matching returns, messages between processes and state changes, each with an AST node id, the
// way an instrumentation layer would describe them.

const MODULES: readonly { module: string; functions: readonly [string, number][] }[] = [
  { module: 'Shop.Cart', functions: [['add', 2], ['remove', 2], ['total', 1]] },
  { module: 'Shop.Payment', functions: [['authorize', 3], ['capture', 2]] },
  { module: 'Shop.Inventory', functions: [['reserve', 2], ['release', 2], ['level', 1]] },
  { module: 'Shop.Web.Router', functions: [['handle_call', 3], ['dispatch', 2]] },
]

/** Generates events for one source (the main thread or a worker), deterministic per seed. */
export class TraceGenerator {
  #n = 0
  #seed: number
  readonly #source: string
  readonly #open: { pid: string; module: string; function: string; arity: number; correlationId: string; node: string }[] = []

  constructor(source: string, seed: number) {
    this.#source = source
    this.#seed = seed
  }

  #rand(): number {
    // xorshift32: cheap and reproducible
    let x = this.#seed
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#seed = x >>> 0
    return this.#seed / 2 ** 32
  }

  next(): Record<string, unknown> {
    const n = this.#n++
    const r = this.#rand()
    const pid = `<0.${100 + Math.floor(this.#rand() * 40)}.0>`
    if (this.#open.length > 0 && r < 0.4) {
      const call = this.#open.shift()!
      return { type: 'return', pid: call.pid, module: call.module, function: call.function, arity: call.arity, correlationId: call.correlationId, astNodeId: call.node, result: 'ok', source: this.#source }
    }
    if (r < 0.75) {
      const m = MODULES[Math.floor(this.#rand() * MODULES.length)]!
      const [fn, arity] = m.functions[Math.floor(this.#rand() * m.functions.length)]!
      const node = `${m.module}:${fn}:${1 + Math.floor(this.#rand() * 12)}`
      const correlationId = `${this.#source}-${n}`
      if (this.#open.length < 64) this.#open.push({ pid, module: m.module, function: fn, arity, correlationId, node })
      return { type: 'call', pid, module: m.module, function: fn, arity, astNodeId: node, correlationId, args: [n % 97, 'sku-' + (n % 31)], source: this.#source }
    }
    if (r < 0.9) {
      const to = `<0.${100 + Math.floor(this.#rand() * 40)}.0>`
      return { type: 'message', pid, from: pid, to, message: { tag: 'cart_updated', items: 1 + (n % 5) }, astNodeId: 'Shop.Cart:notify:3', source: this.#source }
    }
    return { type: 'state_change', pid, module: 'Shop.Cart', before: { items: n % 5 }, after: { items: (n % 5) + 1 }, astNodeId: 'Shop.Cart:handle_cast:7', source: this.#source }
  }
}
