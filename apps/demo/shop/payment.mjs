// The payment gateway, simulated: a card number is checked (Luhn), the gateway answers after a
// short wait, and one test card is always declined (the request answers 402).

export class PaymentDeclinedError extends Error {
  constructor(reason) {
    super(`payment declined: ${reason}`)
    this.name = 'PaymentDeclinedError'
  }
}

const DECLINED = '4000000000000002'

export function luhnValid(card) {
  let sum = 0
  for (let i = 0; i < card.length; i++) {
    let d = card.charCodeAt(card.length - 1 - i) - 48
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2
    sum += d
  }
  return sum % 10 === 0
}

export async function charge(card, amountCents) {
  if (typeof card !== 'string' || !/^\d{12,19}$/.test(card) || !luhnValid(card)) throw new PaymentDeclinedError('invalid card number')
  await gatewayRoundTrip()
  if (card === DECLINED) throw new PaymentDeclinedError('insufficient funds')
  return { authorization: `auth-${amountCents}-${card.slice(-4)}`, amountCents }
}

function gatewayRoundTrip() {
  return new Promise((resolve) => setTimeout(resolve, 1))
}
