// Stock levels. The warehouse restocks a product when it runs low, except the umbrella, which is
// sold out: reserving it throws OutOfStockError (the request answers 409).

export class OutOfStockError extends Error {
  constructor(sku) {
    super(`${sku} is out of stock`)
    this.name = 'OutOfStockError'
    this.sku = sku
  }
}

const stock = new Map([['tea', 500], ['mug', 200], ['kettle', 50], ['biscuits', 800], ['umbrella', 0]])
const NEVER_RESTOCKED = new Set(['umbrella'])

export function available(sku) {
  return stock.get(sku) ?? 0
}

export function reserve(sku, qty) {
  const have = available(sku)
  if (have < qty) {
    if (NEVER_RESTOCKED.has(sku)) throw new OutOfStockError(sku)
    restock(sku, qty)
  }
  stock.set(sku, available(sku) - qty)
  return available(sku)
}

export function release(sku, qty) {
  stock.set(sku, available(sku) + qty)
}

function restock(sku, atLeast) {
  stock.set(sku, available(sku) + Math.max(atLeast, 100))
}
