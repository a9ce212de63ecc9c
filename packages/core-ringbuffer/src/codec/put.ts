// The encoder's leaf writers: a string or a number at a position, returning the position after it.
// Plain functions over (sink, position), so the generic encoder and the per-shape encoders that
// codec/shapes.ts generates share them and keep the position in a register between calls.

import { T_F64, T_INT, T_NULL, T_STR, T_WSTR } from './tags.js'

/** Where the encoder writes: the buffer, and the end it may not pass. */
export interface Sink {
  buf: Uint8Array
  /** A DataView of the same bytes: shape encoders write four bytes per store through it. */
  dv: DataView
  limit: number
}

/** Thrown (never escapes encodeEvent) when the event does not fit the byte budget. */
export class Overflow {}
export const OVERFLOW = new Overflow()

class Unserializable {}
/** Thrown (never escapes encodeEvent) for what JSON.stringify would throw on. */
export const UNSERIALIZABLE = new Unserializable()

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)

/** A number: int32 when it is one (-0 included, written as 0 as JSON does), float64, or null when not finite. */
export function putNumber(e: Sink, p: number, n: number): number {
  const b = e.buf
  if ((n | 0) === n) {
    if (p + 5 > e.limit) throw OVERFLOW
    b[p] = T_INT
    b[p + 1] = n & 0xff
    b[p + 2] = (n >>> 8) & 0xff
    b[p + 3] = (n >>> 16) & 0xff
    b[p + 4] = (n >>> 24) & 0xff
    return p + 5
  }
  if (n - n === 0) {
    // finite (NaN and ±Infinity give NaN here). Eight byte stores: TypedArray#set is a builtin call
    // that costs more than the whole loop for eight bytes.
    if (p + 9 > e.limit) throw OVERFLOW
    f64[0] = n
    b[p] = T_F64
    for (let i = 0; i < 8; i++) b[p + 1 + i] = f64Bytes[i] as number
    return p + 9
  }
  if (p >= e.limit) throw OVERFLOW
  b[p] = T_NULL
  return p + 1
}

/**
 * A string: tag, varint byte length, UTF-8 bytes. The length field is sized for the worst case
 * (three bytes per code unit) and padded, so the bytes are written once, straight after it. ASCII
 * takes a charCodeAt loop (cheaper than TextEncoder for the short strings events hold); the first
 * non-ASCII unit hands over to utf8Tail.
 */
export function putString(e: Sink, p: number, s: string): number {
  const n = s.length
  const worst = n * 3
  const lb = worst < 0x80 ? 1 : worst < 0x4000 ? 2 : worst < 0x200000 ? 3 : worst < 0x10000000 ? 4 : 5
  const start = p + 1 + lb
  if (start + n > e.limit) throw OVERFLOW
  const b = e.buf
  b[p] = T_STR
  let q = start
  let k = 0
  for (; k < n; k++) {
    const c = s.charCodeAt(k)
    if (c >= 0x80) break
    b[q++] = c
  }
  if (k < n) q = utf8Tail(e, s, k, q, p)
  let len = q - start
  if (lb === 1) {
    b[p + 1] = len
    return q
  }
  let r = p + 1
  for (let i = 1; i < lb; i++) {
    b[r++] = (len & 0x7f) | 0x80
    len >>>= 7
  }
  b[r] = len & 0x7f
  return q
}

/** UTF-8 from `from` on; a lone surrogate is written as WTF-8 and the string's tag (at `tagAt`) becomes T_WSTR. */
function utf8Tail(e: Sink, s: string, from: number, p: number, tagAt: number): number {
  const b = e.buf
  const limit = e.limit
  for (let k = from; k < s.length; k++) {
    let c = s.charCodeAt(k)
    if (p + 4 > limit) throw OVERFLOW
    if (c < 0x80) b[p++] = c
    else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6)
      b[p++] = 0x80 | (c & 0x3f)
    } else {
      if (c >= 0xd800 && c <= 0xdbff && k + 1 < s.length) {
        const d = s.charCodeAt(k + 1)
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
          k++
          b[p++] = 0xf0 | (c >> 18)
          b[p++] = 0x80 | ((c >> 12) & 0x3f)
          b[p++] = 0x80 | ((c >> 6) & 0x3f)
          b[p++] = 0x80 | (c & 0x3f)
          continue
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) b[tagAt] = T_WSTR
      b[p++] = 0xe0 | (c >> 12)
      b[p++] = 0x80 | ((c >> 6) & 0x3f)
      b[p++] = 0x80 | (c & 0x3f)
    }
  }
  return p
}
