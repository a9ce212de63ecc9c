// Carts by id: lines of (sku, qty, unit price); the total with a discount code applied.

import { findProduct } from './catalog.mjs'
import { reserve, release } from './inventory.mjs'

export class EmptyCartError extends Error {
  constructor() {
    super('the cart is empty')
    this.name = 'EmptyCartError'
  }
}

const carts = new Map()

export function getCart(id) {
  let cart = carts.get(id)
  if (cart === undefined) {
    cart = { id, lines: [] }
    carts.set(id, cart)
  }
  return cart
}

export function addItem(cartId, sku, qty) {
  const product = findProduct(sku)
  reserve(sku, qty)
  const cart = getCart(cartId)
  const line = cart.lines.find((l) => l.sku === sku)
  if (line) line.qty += qty
  else cart.lines.push({ sku, qty, unitCents: product.priceCents })
  return cart
}

export function cartTotal(cart, code) {
  const subtotal = cart.lines.reduce((sum, l) => sum + l.qty * l.unitCents, 0)
  return applyDiscount(subtotal, code)
}

export function applyDiscount(cents, code) {
  if (code === 'TEA10') return Math.round(cents * 0.9)
  return cents
}

/** Empties the cart after a checkout; gives the stock back when the payment failed. */
export function closeCart(cart, paid) {
  if (!paid) for (const l of cart.lines) release(l.sku, l.qty)
  carts.delete(cart.id)
}

export function takeForCheckout(cartId) {
  const cart = getCart(cartId)
  if (cart.lines.length === 0) throw new EmptyCartError()
  return cart
}
