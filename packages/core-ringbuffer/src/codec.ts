// A compact tagged binary encoding of JSON-shaped values, written straight into a byte buffer.
// It exists because JSON.stringify of a small event costs several times the producer's budget:
// walking the object once and copying ASCII strings byte by byte is cheaper, and it lets us
// refuse what JSON cannot carry (BigInt, functions, symbols, cycles) instead of mangling it.
// Semantics follow JSON: toJSON() is honoured, undefined object members are skipped, undefined in
// arrays and non-finite numbers become null.

import { RingDecodeError } from './errors.js'

const T_NULL = 0
const T_FALSE = 1
const T_TRUE = 2
const T_INT = 3 // int32, little-endian
const T_F64 = 4 // float64, little-endian
const T_STR = 5 // varint byte length (possibly padded), UTF-8 bytes
const T_ARR = 6 // values ..., T_END
const T_OBJ = 7 // (T_STR key, value) ..., T_END: keys carry a tag so a key's length byte is never read as T_END
const T_END = 8

/** Encoder results below zero. */
export const ENC_TOO_LARGE = -1
export const ENC_NOT_SERIALIZABLE = -2
export const ENC_INVALID_EVENT = -3

/** Deepest nesting accepted; deeper values (and cycles) are not serializable. */
export const MAX_DEPTH = 64

class Overflow {}
class Unserializable {}
const OVERFLOW = new Overflow()
const UNSERIALIZABLE = new Unserializable()

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)

/**
 * Encodes an event (a non-array object) into `buf[start, end)`. Returns the encoded length or one
 * of the negative ENC_* codes. Never throws for bad input.
 */
export function encodeEvent(event: unknown, buf: Uint8Array, start: number, end: number): number {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return ENC_INVALID_EVENT
  // One encoder per thread, reused; a nested call (a toJSON that writes to the ring) gets its own.
  const enc = shared.busy ? new Encoder() : shared
  enc.busy = true
  enc.buf = buf
  enc.pos = start
  enc.limit = end
  try {
    enc.value(event, 0)
    return enc.pos - start
  } catch (e) {
    // The fast path keeps no ancestor stack, so a cycle shows up as depth or size overflow: tell
    // which it was with a proper walk, off the hot path.
    if (e === OVERFLOW) return hasCycle(event) ? ENC_NOT_SERIALIZABLE : ENC_TOO_LARGE
    // UNSERIALIZABLE, or a getter / toJSON of the application threw.
    return ENC_NOT_SERIALIZABLE
  } finally {
    enc.busy = false
  }
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

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'string':
        this.byte(T_STR)
        this.string(v)
        return
      case 'number':
        this.number(v)
        return
      case 'boolean':
        this.byte(v ? T_TRUE : T_FALSE)
        return
      case 'object':
        if (v === null) this.byte(T_NULL)
        else this.object(v, depth)
        return
      default:
        // bigint, function, symbol (undefined members are skipped by the caller)
        throw UNSERIALIZABLE
    }
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

  object(o: object, depth: number): void {
    // Depth bounds recursion; it also stops a cycle, which encodeEvent then names (hasCycle).
    if (depth >= MAX_DEPTH) throw UNSERIALIZABLE
    const proto: unknown = Object.getPrototypeOf(o)
    if (proto === Object.prototype || proto === null) {
      // Plain object, the common case: no toJSON to look up, and for-in yields own keys only
      // (Object.prototype has no enumerable members).
      this.byte(T_OBJ)
      const rec = o as Record<string, unknown>
      for (const key in rec) this.member(key, rec[key], depth)
      this.byte(T_END)
      return
    }
    if (Array.isArray(o)) {
      this.byte(T_ARR)
      for (let i = 0; i < o.length; i++) {
        const item: unknown = o[i]
        if (item === undefined) this.byte(T_NULL)
        else this.value(item, depth + 1)
      }
      this.byte(T_END)
      return
    }
    const toJSON = (o as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function') {
      this.value(toJSON.call(o), depth + 1)
      return
    }
    this.byte(T_OBJ)
    const rec = o as Record<string, unknown>
    for (const key of Object.keys(rec)) this.member(key, rec[key], depth)
    this.byte(T_END)
  }

  member(key: string, item: unknown, depth: number): void {
    if (item === undefined) return
    this.byte(T_STR)
    this.string(key)
    this.value(item, depth + 1)
  }

  /** Writes a varint byte length then the UTF-8 bytes; the length field is sized for the worst case and padded. */
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
    if (k < n) p = this.utf8Tail(s, k, p)
    let len = p - start
    let q = this.pos
    for (let i = 1; i < lb; i++) {
      b[q++] = (len & 0x7f) | 0x80
      len >>>= 7
    }
    b[q] = len & 0x7f
    this.pos = p
  }

  utf8Tail(s: string, from: number, p: number): number {
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
        if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd // lone surrogate: what TextEncoder writes
        b[p++] = 0xe0 | (c >> 12)
        b[p++] = 0x80 | ((c >> 6) & 0x3f)
        b[p++] = 0x80 | (c & 0x3f)
      }
    }
    return p
  }
}

const shared = new Encoder()
const utf8 = new TextDecoder()

// Short strings (keys, event types, module names) repeat from event to event. Decoding them
// through a small hash-indexed cache of (bytes -> string) turns most of them into one hash and one
// compare, where building each string anew costs several times more (msgpackr does the same).
const SHORT = 24
const CACHE_SIZE = 4096
const cacheBytes: (Uint8Array | undefined)[] = new Array(CACHE_SIZE)
const cacheStrings: string[] = new Array(CACHE_SIZE)

function shortString(b: Uint8Array, start: number, len: number, key: boolean): string {
  if (len === 0) return ''
  const end = start + len
  let h = len
  for (let i = start; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193)
  const slot = (h ^ (h >>> 16)) & (CACHE_SIZE - 1)
  const hit = cacheBytes[slot]
  if (hit !== undefined && hit.length === len) {
    let same = true
    for (let i = 0; i < len; i++) {
      if (hit[i] !== b[start + i]) {
        same = false
        break
      }
    }
    if (same) return cacheStrings[slot] as string
  }
  const bytes = b.slice(start, end)
  let ascii = 0
  for (let i = 0; i < len; i++) ascii |= bytes[i] as number
  const built = ascii < 0x80 ? String.fromCharCode.apply(null, bytes as unknown as number[]) : utf8.decode(bytes)
  // Internalize keys (a property key comes back internalized): decoded objects then take them
  // without a string-table lookup per store and keep fast (non-dictionary) shapes.
  const s = key ? (Object.keys({ [built]: 0 })[0] as string) : built
  cacheBytes[slot] = bytes
  cacheStrings[slot] = s
  return s
}

/** A malformed record, before decodeEvent names its bytes. */
class Malformed {
  constructor(readonly reason: string) {}
}

/**
 * Decodes one event encoded by `encodeEvent` from `buf[start, end)`. Throws RingDecodeError (code
 * `malformed_record`, with a copy of the bytes) for anything that is not exactly one encoded event.
 */
export function decodeEvent(buf: Uint8Array, start: number, end: number): Record<string, unknown> {
  const d = new Decoder(buf, start, end)
  let v: unknown
  try {
    v = d.value(0)
    if (d.pos !== end) throw new Malformed(`${end - d.pos} trailing bytes`)
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Malformed('not an object')
  } catch (e) {
    const reason = e instanceof Malformed ? e.reason : `${String(e)}`
    throw new RingDecodeError(`malformed record: ${reason}`, buf.slice(start, end), e instanceof Malformed ? undefined : { cause: e })
  }
  return v as Record<string, unknown>
}

class Decoder {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  u8(): number {
    if (this.pos >= this.end) throw new Malformed('truncated')
    return this.buf[this.pos++] as number
  }

  value(depth: number): unknown {
    const tag = this.u8()
    switch (tag) {
      case T_NULL:
        return null
      case T_FALSE:
        return false
      case T_TRUE:
        return true
      case T_INT: {
        const b = this.buf
        const p = this.pos
        if (p + 4 > this.end) throw new Malformed('truncated')
        this.pos = p + 4
        return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24))
      }
      case T_F64:
        for (let i = 0; i < 8; i++) f64Bytes[i] = this.u8()
        return f64[0]
      case T_STR:
        return this.string(false)
      case T_ARR: {
        if (depth >= MAX_DEPTH) throw new Malformed(`nested deeper than ${MAX_DEPTH}`)
        const out: unknown[] = []
        while (this.pos < this.end && this.buf[this.pos] !== T_END) out.push(this.value(depth + 1))
        this.u8() // T_END
        return out
      }
      case T_OBJ: {
        if (depth >= MAX_DEPTH) throw new Malformed(`nested deeper than ${MAX_DEPTH}`)
        const out: Record<string, unknown> = {}
        for (;;) {
          const tag = this.u8()
          if (tag === T_END) break
          if (tag !== T_STR) throw new Malformed(`key tag ${tag} at ${this.pos - 1}`)
          const key = this.string(true)
          // JSON.parse makes "__proto__" an own property; plain assignment would set the prototype.
          if (key === '__proto__') Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true })
          else out[key] = this.value(depth + 1)
        }
        return out
      }
      default:
        throw new Malformed(`unknown tag ${tag} at ${this.pos - 1}`)
    }
  }

  string(key: boolean): string {
    let b0 = this.u8()
    let len = b0 & 0x7f
    // Padded varint (length field sized for the worst case): continue while the high bit is set.
    for (let mul = 0x80; b0 >= 0x80; mul *= 0x80) {
      b0 = this.u8()
      len += (b0 & 0x7f) * mul
    }
    const start = this.pos
    const end = start + len
    if (end > this.end) throw new Malformed('string past the end')
    this.pos = end
    const b = this.buf
    if (len <= SHORT) return shortString(b, start, len, key)
    return utf8.decode(b.subarray(start, end))
  }
}
