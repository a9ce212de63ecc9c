// A small shop on node:http: products, carts, checkout (payment, then a receipt computed on a
// worker thread). Errors the client causes answer 4xx: an unknown product 404, a sold-out one 409,
// an empty cart 409, a declined card 402. `startShop({ port })` starts it; main.mjs runs it alone.

import { createServer } from 'node:http'
import { UnknownProductError, listProducts } from './catalog.mjs'
import { OutOfStockError } from './inventory.mjs'
import { EmptyCartError, addItem, cartTotal, closeCart, getCart, takeForCheckout } from './cart.mjs'
import { PaymentDeclinedError, charge } from './payment.mjs'
import { requestReceipt, startReceipts, stopReceipts } from './receipts.mjs'

let orders = 0

function send(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (c) => (text += c))
    req.on('end', () => {
      try {
        resolve(text === '' ? {} : JSON.parse(text))
      } catch (e) {
        reject(e)
      }
    })
    req.on('error', reject)
  })
}

function statusOf(err) {
  if (err instanceof UnknownProductError) return 404
  if (err instanceof OutOfStockError || err instanceof EmptyCartError) return 409
  if (err instanceof PaymentDeclinedError) return 402
  if (err instanceof SyntaxError) return 400
  return 500
}

async function addToCart(req, cartId) {
  const { sku, qty = 1 } = await readJson(req)
  const cart = addItem(cartId, sku, qty)
  return { cart: cart.id, lines: cart.lines.length, totalCents: cartTotal(cart) }
}

async function checkout(req, cartId) {
  const { card, code } = await readJson(req)
  const cart = takeForCheckout(cartId)
  const totalCents = cartTotal(cart, code)
  let authorization
  try {
    ;({ authorization } = await charge(card, totalCents))
  } catch (e) {
    closeCart(cart, false)
    throw e
  }
  closeCart(cart, true)
  return requestReceipt({ orderId: ++orders, lines: cart.lines, totalCents, authorization })
}

async function route(req, res) {
  const url = new URL(req.url, 'http://shop')
  const parts = url.pathname.split('/').filter((p) => p !== '')
  try {
    if (req.method === 'GET' && url.pathname === '/products') return send(res, 200, listProducts())
    if (parts[0] === 'carts' && parts.length >= 2) {
      if (req.method === 'GET' && parts.length === 2) return send(res, 200, getCart(parts[1]))
      if (req.method === 'POST' && parts[2] === 'items') return send(res, 200, await addToCart(req, parts[1]))
      if (req.method === 'POST' && parts[2] === 'checkout') return send(res, 200, await checkout(req, parts[1]))
    }
    send(res, 404, { error: 'no such route' })
  } catch (e) {
    send(res, statusOf(e), { error: e.message })
  }
}

/** Starts the shop on `port` (0: any free port); resolves with its address and a close function. */
export async function startShop({ port = 0, host = '127.0.0.1' } = {}) {
  startReceipts()
  const server = createServer((req, res) => void route(req, res))
  server.keepAliveTimeout = 30_000
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const address = server.address()
  return {
    url: `http://${host}:${address.port}`,
    async close() {
      server.closeIdleConnections?.()
      await new Promise((resolve) => server.close(() => resolve()))
      await stopReceipts()
    },
  }
}
