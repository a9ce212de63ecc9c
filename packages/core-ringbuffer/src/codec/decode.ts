// The consumer's decoder of the tagged binary form (codec/encode.ts writes it). Malformed bytes
// (a corrupted slot or journal frame) raise RingDecodeError, never anything else.

import { RingDecodeError } from '../errors.js'
import { assemble, recordShape, SKIP, type KnownShape } from './decode-shapes.js'
import { MAX_DEPTH, T_ARR, T_END, T_F64, T_FALSE, T_INT, T_NULL, T_OBJ, T_REC, T_SKIP, T_STR, T_TRUE, T_WSTR } from './tags.js'

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)

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
export class Malformed {
  constructor(readonly reason: string) {}
}

/**
 * Decodes one event encoded by `encodeEvent` from `buf[start, end)`. Throws RingDecodeError (code
 * `malformed_record`, with a copy of the bytes) for anything that is not exactly one encoded event.
 */
export function decodeEvent(buf: Uint8Array, start: number, end: number): Record<string, unknown> {
  // One decoder, reused: decoding runs no application code, so it is never re-entered.
  const d = shared
  if (d.buf !== buf) {
    d.buf = buf
    d.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  d.pos = start
  d.end = end
  let v: unknown
  try {
    // Events of one shape follow each other: the last event's shape is tried first.
    const root = rootShape
    if (root !== undefined && buf[start] === T_REC && start + 6 <= end && buf[start + 5] === root.count && root.match(buf, d.dv, start + 6, end)) {
      d.pos = start + 6 + root.blockLength
      v = root.build(d, 1)
    } else {
      v = d.value(0)
      rootShape = buf[start] === T_REC ? d.lastShape : undefined
    }
    if (d.pos !== end) throw new Malformed(`${end - d.pos} trailing bytes`)
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Malformed('not an object')
  } catch (e) {
    const reason = e instanceof Malformed ? e.reason : `${String(e)}`
    throw new RingDecodeError(`malformed record: ${reason}`, buf.slice(start, end), e instanceof Malformed ? undefined : { cause: e })
  }
  return v as Record<string, unknown>
}

export class Decoder {
  buf: Uint8Array = new Uint8Array(0)
  /** The same bytes as a DataView: shape builders compare four bytes per load through it. */
  dv: DataView = new DataView(this.buf.buffer)
  pos = 0
  end = 0
  /** The shape that built the last record finished (see decode-shapes.ts), or undefined. */
  lastShape: KnownShape | undefined = undefined

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
      case T_F64: {
        const b = this.buf
        const p = this.pos
        if (p + 8 > this.end) throw new Malformed('truncated')
        for (let i = 0; i < 8; i++) f64Bytes[i] = b[p + i] as number
        this.pos = p + 8
        return f64[0]
      }
      case T_STR:
        return this.string(false, false)
      case T_WSTR:
        return this.string(false, true)
      case T_ARR: {
        if (depth >= MAX_DEPTH) throw new Malformed(`nested deeper than ${MAX_DEPTH}`)
        const out: unknown[] = []
        while (this.pos < this.end && this.buf[this.pos] !== T_END) out.push(this.value(depth + 1))
        this.u8() // T_END
        return out
      }
      case T_REC:
        if (depth >= MAX_DEPTH) throw new Malformed(`nested deeper than ${MAX_DEPTH}`)
        return this.record(depth)
      case T_OBJ: {
        if (depth >= MAX_DEPTH) throw new Malformed(`nested deeper than ${MAX_DEPTH}`)
        const out: Record<string, unknown> = {}
        for (;;) {
          const tag = this.u8()
          if (tag === T_END) break
          if (tag !== T_STR && tag !== T_WSTR) throw new Malformed(`key tag ${tag} at ${this.pos - 1}`)
          const key = this.string(true, tag === T_WSTR)
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

  /** A record's value: a value, or SKIP where the encoder wrote T_SKIP (JSON skipped the member). */
  field(depth: number): unknown {
    if (this.pos < this.end && this.buf[this.pos] === T_SKIP) {
      this.pos++
      return SKIP
    }
    return this.value(depth)
  }

  /** A record (after its tag): its shape, found by the block's hash and checked byte for byte, builds it. */
  record(depth: number): Record<string, unknown> {
    const b = this.buf
    const p = this.pos
    if (p + 5 > this.end) throw new Malformed('truncated')
    const hash = ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0
    const count = b[p + 4] as number
    this.pos = p + 5
    const keysAt = this.pos
    let shape = recordShape(b, this.dv, keysAt, this.end, hash, count)
    if (shape !== undefined) {
      this.pos = keysAt + shape.blockLength
    } else {
      const keys: string[] = new Array(count)
      for (let k = 0; k < count; k++) {
        const tag = this.u8()
        if (tag !== T_STR && tag !== T_WSTR) throw new Malformed(`key tag ${tag} at ${this.pos - 1}`)
        keys[k] = this.string(true, tag === T_WSTR)
      }
      shape = recordShape(b, this.dv, keysAt, this.pos, hash, count, keys)
      if (shape === undefined) {
        const out = assemble(keys, this, depth)
        this.lastShape = undefined
        return out
      }
    }
    const out = shape.build(this, depth + 1)
    this.lastShape = shape
    return out
  }

  string(key: boolean, wtf8: boolean): string {
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
    if (wtf8) return decodeWtf8(b, start, end)
    if (len <= SHORT) return shortString(b, start, len, key)
    return utf8.decode(b.subarray(start, end))
  }
}

/** WTF-8 (UTF-8 that may encode lone surrogates as three bytes): rare, so a plain loop over code units. */
function decodeWtf8(b: Uint8Array, start: number, end: number): string {
  const units: number[] = []
  const at = (i: number): number => (b[i] as number) & 0x3f
  for (let i = start; i < end; ) {
    const c = b[i] as number
    if (c < 0x80) {
      units.push(c)
      i += 1
    } else if (c >= 0xc0 && c < 0xe0 && i + 1 < end) {
      units.push(((c & 0x1f) << 6) | at(i + 1))
      i += 2
    } else if (c >= 0xe0 && c < 0xf0 && i + 2 < end) {
      units.push(((c & 0x0f) << 12) | (at(i + 1) << 6) | at(i + 2))
      i += 3
    } else if (c >= 0xf0 && c < 0xf8 && i + 3 < end) {
      const cp = (((c & 0x07) << 18) | (at(i + 1) << 12) | (at(i + 2) << 6) | at(i + 3)) - 0x10000
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff))
      i += 4
    } else {
      throw new Malformed(`invalid WTF-8 byte ${c} at ${i}`)
    }
  }
  let out = ''
  for (let k = 0; k < units.length; k += 4096) out += String.fromCharCode(...units.slice(k, k + 4096))
  return out
}

const shared = new Decoder()
/** The shape of the last event decoded, if a shape built it. */
let rootShape: KnownShape | undefined
