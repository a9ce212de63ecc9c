// The shop's catalogue: products by SKU, prices in cents.

export class UnknownProductError extends Error {
  constructor(sku) {
    super('no such product')
    this.name = 'UnknownProductError'
    this.sku = sku
  }
}

const PRODUCTS = new Map([
  ['tea', { sku: 'tea', name: 'Green tea, 100 g', priceCents: 650 }],
  ['mug', { sku: 'mug', name: 'Stoneware mug', priceCents: 1200 }],
  ['kettle', { sku: 'kettle', name: 'Kettle', priceCents: 3400 }],
  ['biscuits', { sku: 'biscuits', name: 'Oat biscuits', priceCents: 280 }],
  ['umbrella', { sku: 'umbrella', name: 'Umbrella (sold out)', priceCents: 1900 }],
])

export function listProducts() {
  return [...PRODUCTS.values()]
}

export function findProduct(sku) {
  const p = PRODUCTS.get(sku)
  if (p === undefined) throw new UnknownProductError(sku)
  return p
}
