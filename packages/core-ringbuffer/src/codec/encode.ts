// The producer's encoder: one walk of an event into the tagged binary form, with JSON.stringify's
// semantics exactly (SerializeJSONProperty in ECMA-262): toJSON(key) on any object or BigInt,
// boxed primitives unwrapped, undefined / functions / symbols skipped in objects and null in arrays
// (holes too), non-finite numbers null, lone surrogates kept. BigInt (without a toJSON), cycles and
// nesting deeper than MAX_DEPTH are refused. It is hand-written because JSON.stringify alone costs
// more than the producer's budget.

import { types } from 'node:util'
import { OVERFLOW, putNumber, putString, UNSERIALIZABLE, type Sink } from './put.js'
import { ROOT_SITE, type Site } from './shapes.js'
import { MAX_DEPTH, T_ARR, T_END, T_FALSE, T_NULL, T_OBJ, T_SKIP, T_TRUE } from './tags.js'

/** Encoder results below zero. */
export const ENC_TOO_LARGE = -1
export const ENC_NOT_SERIALIZABLE = -2
export const ENC_INVALID_EVENT = -3


const hasOwn = Object.prototype.hasOwnProperty

/**
 * Encodes an event into `buf[start, end)`: the event is what JSON.stringify would serialize (its
 * toJSON('') applied, boxed primitives unwrapped), and that must be a non-array object. Returns the
 * encoded length or one of the negative ENC_* codes. Never throws for bad input.
 */
export function encodeEvent(event: unknown, buf: Uint8Array, start: number, end: number, dv?: DataView): number {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return ENC_INVALID_EVENT
  // One encoder per thread, reused; a nested call (a toJSON that encodes) gets its own.
  const enc = shared.busy ? new Encoder() : shared
  enc.busy = true
  if (enc.buf !== buf) {
    enc.buf = buf
    enc.dv = dv ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  enc.pos = start
  enc.limit = end
  try {
    const root = withToJSON(event, '')
    if (root === null || typeof root !== 'object' || Array.isArray(root)) return ENC_INVALID_EVENT
    const proto: unknown = Object.getPrototypeOf(root)
    if (proto === Object.prototype || proto === null) enc.plain(root as Record<string, unknown>, 0, ROOT_SITE)
    else if (types.isBoxedPrimitive(root)) return ENC_INVALID_EVENT // JSON makes it a primitive
    else enc.object(root, 0, undefined)
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

export class Encoder implements Sink {
  pos = 0
  limit = 0
  busy = false
  buf: Uint8Array = new Uint8Array(0)
  dv: DataView = new DataView(this.buf.buffer)

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
    this.pos = putString(this, at, key)
    if (!this.value(item, key, depth + 1)) this.pos = at
  }

  /**
   * A record's value (codec/shapes.ts): as `value`, but where JSON skips the member, T_SKIP holds
   * its place, as the record's key was written already. `site` caches the shapes met here.
   */
  field(v: unknown, key: string, depth: number, site: Site): void {
    if (typeof v === 'object' && v !== null) {
      const toJSON = (v as { toJSON?: unknown }).toJSON
      if (typeof toJSON === 'function') {
        if (!this.resolved(toJSON.call(v, key), depth + 1)) this.byte(T_SKIP)
      } else this.object(v, depth + 1, site)
    } else if (!this.value(v, key, depth + 1)) this.byte(T_SKIP)
  }

  /**
   * JSON's SerializeJSONProperty: writes `v` (the member or item named `key`) and returns true, or
   * returns false where JSON would write nothing (undefined, a function, a symbol, after toJSON).
   */
  value(v: unknown, key: string | number, depth: number): boolean {
    switch (typeof v) {
      case 'string':
        this.pos = putString(this, this.pos, v)
        return true
      case 'number':
        this.pos = putNumber(this, this.pos, v)
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
        this.object(v, depth, undefined)
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
        this.pos = putString(this, this.pos, v)
        return true
      case 'number':
        this.pos = putNumber(this, this.pos, v)
        return true
      case 'boolean':
        this.byte(v ? T_TRUE : T_FALSE)
        return true
      case 'object':
        if (v === null) this.byte(T_NULL)
        else this.object(v, depth, undefined)
        return true
      case 'bigint':
        throw UNSERIALIZABLE // JSON.stringify throws a TypeError
      default:
        return false // undefined, a function, a symbol
    }
  }

  /** A plain object: written as a record by its shape's encoder when `site` knows its key list. */
  plain(rec: Record<string, unknown>, depth: number, site: Site | undefined): void {
    // Depth bounds recursion; it also stops a cycle, which encodeEvent then names (hasCycle).
    if (depth >= MAX_DEPTH) throw UNSERIALIZABLE
    if (site !== undefined) {
      const shape = site.find(rec)
      if (shape !== undefined) return shape.write(this, rec, depth)
    }
    this.walk(rec, depth)
  }

  /** A plain object member by member (T_OBJ), for key lists without a shape; `depth` is checked already. */
  walk(rec: Record<string, unknown>, depth: number): void {
    // for-in is the fast walk; the own check keeps out anything enumerable an application put on
    // Object.prototype (V8 folds it away for own keys).
    this.byte(T_OBJ)
    for (const key in rec) if (hasOwn.call(rec, key)) this.member(key, rec[key], depth)
    this.byte(T_END)
  }

  /** An object after toJSON. */
  object(o: object, depth: number, site: Site | undefined): void {
    const proto: unknown = Object.getPrototypeOf(o)
    const rec = o as Record<string, unknown>
    if (proto === Object.prototype || proto === null) return this.plain(rec, depth, site)
    // Depth bounds recursion; it also stops a cycle, which encodeEvent then names (hasCycle).
    if (depth >= MAX_DEPTH) throw UNSERIALIZABLE
    if (Array.isArray(o)) {
      this.byte(T_ARR)
      for (let i = 0; i < o.length; i++) if (!this.value(o[i], i, depth + 1)) this.byte(T_NULL)
      this.byte(T_END)
      return
    }
    if (types.isBoxedPrimitive(o)) {
      // JSON unwraps Number, String and Boolean objects (a BigInt object is refused; a Symbol object is an object).
      if (types.isNumberObject(o)) {
        this.pos = putNumber(this, this.pos, Number(o))
        return
      }
      if (types.isStringObject(o)) {
        this.pos = putString(this, this.pos, String(o))
        return
      }
      if (types.isBooleanObject(o)) return this.byte(Boolean.prototype.valueOf.call(o) ? T_TRUE : T_FALSE)
      if (types.isBigIntObject(o)) throw UNSERIALIZABLE
    }
    this.byte(T_OBJ)
    for (const key of Object.keys(rec)) this.member(key, rec[key], depth)
    this.byte(T_END)
  }
}

const shared = new Encoder()
