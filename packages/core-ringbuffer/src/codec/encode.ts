// The producer's encoder: one walk of an event into the tagged binary form, with JSON.stringify's
// semantics exactly (SerializeJSONProperty in ECMA-262): toJSON(key) on any object or BigInt,
// boxed primitives unwrapped, undefined / functions / symbols skipped in objects and null in arrays
// (holes too), non-finite numbers null, lone surrogates kept. BigInt (without a toJSON), cycles and
// nesting deeper than MAX_DEPTH are refused. It is hand-written because JSON.stringify alone costs
// more than the producer's budget.

import { types } from 'node:util'
import { MAX_DEPTH, T_ARR, T_END, T_F64, T_FALSE, T_INT, T_NULL, T_OBJ, T_STR, T_TRUE, T_WSTR } from './tags.js'

/** Encoder results below zero. */
export const ENC_TOO_LARGE = -1
export const ENC_NOT_SERIALIZABLE = -2
export const ENC_INVALID_EVENT = -3

class Overflow {}
class Unserializable {}
const OVERFLOW = new Overflow()
const UNSERIALIZABLE = new Unserializable()

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const hasOwn = Object.prototype.hasOwnProperty

/**
 * Encodes an event into `buf[start, end)`: the event is what JSON.stringify would serialize (its
 * toJSON('') applied, boxed primitives unwrapped), and that must be a non-array object. Returns the
 * encoded length or one of the negative ENC_* codes. Never throws for bad input.
 */
export function encodeEvent(event: unknown, buf: Uint8Array, start: number, end: number): number {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return ENC_INVALID_EVENT
  // One encoder per thread, reused; a nested call (a toJSON that encodes) gets its own.
  const enc = shared.busy ? new Encoder() : shared
  enc.busy = true
  enc.buf = buf
  enc.pos = start
  enc.limit = end
  try {
    const root = withToJSON(event, '')
    if (root === null || typeof root !== 'object' || Array.isArray(root)) return ENC_INVALID_EVENT
    const proto: unknown = Object.getPrototypeOf(root)
    if (proto !== Object.prototype && proto !== null && types.isBoxedPrimitive(root)) return ENC_INVALID_EVENT // JSON makes it a primitive
    enc.object(root, 0)
    return enc.pos - start
  } catch (e) {
    // The fast path keeps no ancestor stack, so a cycle shows up as depth or size overflow: tell
    // which it was with a proper walk, off the hot path.
    if (e === OVERFLOW) return hasCycle(event) ? ENC_NOT_SERIALIZABLE : ENC_TOO_LARGE
    // UNSERIALIZABLE, or a getter / toJSON of the application threw (JSON.stringify would throw).
    return ENC_NOT_SERIALIZABLE
  } finally {
    enc.busy = false
  }
}

/** JSON's step 2: an object's or BigInt's toJSON, called with the key (a string, also for array indices). */
function withToJSON(v: unknown, key: string | number): unknown {
  const toJSON = (v as { toJSON?: unknown }).toJSON
  return typeof toJSON === 'function' ? toJSON.call(v, typeof key === 'number' ? String(key) : key) : v
}

/** True when `root` reaches itself through object members or array items (within MAX_DEPTH). */
function hasCycle(root: unknown): boolean {
  const path: unknown[] = []
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') return false
    if (path.includes(v)) return true
    if (path.length >= MAX_DEPTH) return false
    path.push(v)
    try {
      for (const item of Array.isArray(v) ? v : Object.values(v)) if (walk(item)) return true
    } catch {
      return false
    } finally {
      path.pop()
    }
    return false
  }
  return walk(root)
}

class Encoder {
  pos = 0
  limit = 0
  busy = false
  buf: Uint8Array = new Uint8Array(0)

  byte(b: number): void {
    if (this.pos >= this.limit) throw OVERFLOW
    this.buf[this.pos++] = b
  }

  /**
   * An object member, or nothing where JSON.stringify skips it. The key is written first and taken
   * back if the value turns out to be skipped: that keeps this, the hottest step, small enough to inline.
   */
  member(key: string, item: unknown, depth: number): void {
    if (item === undefined) return
    const at = this.pos
    this.byte(T_STR)
    this.string(key)
    if (!this.value(item, key, depth + 1)) this.pos = at
  }

  /**
   * JSON's SerializeJSONProperty: writes `v` (the member or item named `key`) and returns true, or
   * returns false where JSON would write nothing (undefined, a function, a symbol, after toJSON).
   */
  value(v: unknown, key: string | number, depth: number): boolean {
    switch (typeof v) {
      case 'string':
        this.byte(T_STR)
        this.string(v)
        return true
      case 'number':
        this.number(v)
        return true
      case 'boolean':
        this.byte(v ? T_TRUE : T_FALSE)
        return true
      case 'object':
        if (v === null) {
          this.byte(T_NULL)
          return true
        }
        {
          const toJSON = (v as { toJSON?: unknown }).toJSON
          if (typeof toJSON === 'function') return this.resolved(toJSON.call(v, typeof key === 'number' ? String(key) : key), depth)
        }
        this.object(v, depth)
        return true
      case 'function':
      case 'bigint':
        return this.resolved(withToJSON(v, key), depth)
      default:
        return false // undefined, symbol
    }
  }

  /** A value after toJSON (JSON's steps 4 onwards, with no further toJSON at this level). */
  resolved(v: unknown, depth: number): boolean {
    switch (typeof v) {
      case 'string':
        this.byte(T_STR)
        this.string(v)
        return true
      case 'number':
        this.number(v)
        return true
      case 'boolean':
        this.byte(v ? T_TRUE : T_FALSE)
        return true
      case 'object':
        if (v === null) this.byte(T_NULL)
        else this.object(v, depth)
        return true
      case 'bigint':
        throw UNSERIALIZABLE // JSON.stringify throws a TypeError
      default:
        return false // undefined, a function, a symbol
    }
  }

  object(o: object, depth: number): void {
    // Depth bounds recursion; it also stops a cycle, which encodeEvent then names (hasCycle).
    if (depth >= MAX_DEPTH) throw UNSERIALIZABLE
    const proto: unknown = Object.getPrototypeOf(o)
    const rec = o as Record<string, unknown>
    if (proto === Object.prototype || proto === null) {
      // Plain object, the common case. for-in is the fast walk; the own check keeps out anything
      // enumerable an application put on Object.prototype (V8 folds it away for own keys).
      this.byte(T_OBJ)
      for (const key in rec) if (hasOwn.call(rec, key)) this.member(key, rec[key], depth)
      this.byte(T_END)
      return
    }
    if (Array.isArray(o)) {
      this.byte(T_ARR)
      for (let i = 0; i < o.length; i++) if (!this.value(o[i], i, depth + 1)) this.byte(T_NULL)
      this.byte(T_END)
      return
    }
    if (types.isBoxedPrimitive(o)) {
      // JSON unwraps Number, String and Boolean objects (a BigInt object is refused; a Symbol object is an object).
      if (types.isNumberObject(o)) return this.number(Number(o))
      if (types.isStringObject(o)) {
        this.byte(T_STR)
        return this.string(String(o))
      }
      if (types.isBooleanObject(o)) return this.byte(Boolean.prototype.valueOf.call(o) ? T_TRUE : T_FALSE)
      if (types.isBigIntObject(o)) throw UNSERIALIZABLE
    }
    this.byte(T_OBJ)
    for (const key of Object.keys(rec)) this.member(key, rec[key], depth)
    this.byte(T_END)
  }

  number(n: number): void {
    if ((n | 0) === n) {
      // -0 lands here too and is written as 0, as JSON does
      if (this.pos + 5 > this.limit) throw OVERFLOW
      const b = this.buf
      let p = this.pos
      b[p++] = T_INT
      b[p++] = n & 0xff
      b[p++] = (n >>> 8) & 0xff
      b[p++] = (n >>> 16) & 0xff
      b[p++] = (n >>> 24) & 0xff
      this.pos = p
    } else if (Number.isFinite(n)) {
      if (this.pos + 9 > this.limit) throw OVERFLOW
      f64[0] = n
      this.buf[this.pos] = T_F64
      this.buf.set(f64Bytes, this.pos + 1)
      this.pos += 9
    } else {
      this.byte(T_NULL)
    }
  }

  /**
   * Writes a varint byte length then the bytes, right after the tag byte just written (T_STR); the
   * length field is sized for the worst case and padded.
   */
  string(s: string): void {
    const n = s.length
    const worst = n * 3
    const lb = worst < 0x80 ? 1 : worst < 0x4000 ? 2 : worst < 0x200000 ? 3 : worst < 0x10000000 ? 4 : 5
    const start = this.pos + lb
    if (start + n > this.limit) throw OVERFLOW
    const b = this.buf
    let p = start
    let k = 0
    for (; k < n; k++) {
      const c = s.charCodeAt(k)
      if (c >= 0x80) break
      b[p++] = c
    }
    if (k < n) p = this.utf8Tail(s, k, p, this.pos - 1)
    let len = p - start
    let q = this.pos
    for (let i = 1; i < lb; i++) {
      b[q++] = (len & 0x7f) | 0x80
      len >>>= 7
    }
    b[q] = len & 0x7f
    this.pos = p
  }

  /** UTF-8 from `from` on; a lone surrogate is written as WTF-8 and the string's tag (at `tagAt`) becomes T_WSTR. */
  utf8Tail(s: string, from: number, p: number, tagAt: number): number {
    const b = this.buf
    const limit = this.limit
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
}

const shared = new Encoder()
