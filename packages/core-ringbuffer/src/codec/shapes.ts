// Per-shape encoders. Applications write the same few event shapes (the same key list) over and
// over; for a key list met twice, an encoder is generated that writes the record's constant key
// block with constant stores and reads each member by its name, so every property read has its own
// monomorphic inline cache and each member's type feedback its own site.

import type { Encoder } from './encode.js'
import { OVERFLOW, putNumber, putString, UNSERIALIZABLE } from './put.js'
import { MAX_DEPTH, T_FALSE, T_REC, T_SKIP, T_TRUE } from './tags.js'

/** Key lists longer than this are not given an encoder (the generic walk serves them). */
const MAX_KEYS = 32
/** Nor are key blocks longer than this many bytes. */
const MAX_BLOCK = 1024
/** Distinct key lists remembered per thread; past it the registry starts again (sites keep their shapes). */
const MAX_SHAPES = 1024
/** A site that misses this often without hits (key lists that never repeat, like a map keyed by ids) stops looking... */
const MAX_MISSES = 64
/** ...for this many objects, then tries again. */
const BACK_OFF = 4096

const hasOwn = Object.prototype.hasOwnProperty

/** Writes one record of its shape from `o` at `e.pos`; JSON order, each member read once. */
type WriteFn = (e: Encoder, o: Record<string, unknown>, depth: number) => void

export class Shape {
  constructor(
    readonly keys: readonly string[],
    readonly write: WriteFn,
  ) {}
}

/** True when `o`'s own enumerable keys are exactly `keys`, in order (JSON's EnumerableOwnProperties). */
function sameKeys(o: Record<string, unknown>, keys: readonly string[]): boolean {
  const n = keys.length
  let i = 0
  for (const k in o) {
    if (i === n || k !== keys[i] || !hasOwn.call(o, k)) return false
    i++
  }
  return i === n
}

/**
 * A place in the encoding where objects occur (the event itself, or one member of a shape): it
 * caches the shapes met there, so finding one is a walk of the object's keys, compared by identity
 * (property keys are internalized strings).
 */
export class Site {
  #a: Shape | undefined = undefined
  #b: Shape | undefined = undefined
  #c: Shape | undefined = undefined
  #d: Shape | undefined = undefined
  #next = 0
  #hits = 0
  #misses = 0
  #skip = 0

  find(o: Record<string, unknown>): Shape | undefined {
    const a = this.#a
    if (a !== undefined) {
      this.#hits++
      if (sameKeys(o, a.keys)) return a
      const b = this.#b
      if (b !== undefined) {
        if (sameKeys(o, b.keys)) return b
        const c = this.#c
        if (c !== undefined) {
          if (sameKeys(o, c.keys)) return c
          const d = this.#d
          if (d !== undefined && sameKeys(o, d.keys)) return d
        }
      }
      this.#hits--
    }
    return this.#miss(o)
  }

  #miss(o: Record<string, unknown>): Shape | undefined {
    if (this.#skip > 0) {
      this.#skip--
      return undefined
    }
    if (++this.#misses > MAX_MISSES && this.#misses * 16 > this.#hits) {
      this.#skip = BACK_OFF
      this.#misses = 0
      this.#hits = 0
      return undefined
    }
    const shape = shapeOf(o)
    if (shape === undefined) return undefined
    switch (this.#next) {
      case 0:
        this.#a = shape
        break
      case 1:
        this.#b = shape
        break
      case 2:
        this.#c = shape
        break
      default:
        this.#d = shape
    }
    this.#next = (this.#next + 1) & 3
    return shape
  }
}

/** Where every event starts. */
export const ROOT_SITE = new Site()

interface Entry {
  seen: number
  shape: Shape | undefined
}
const registry = new Map<string, Entry>()
let codegen = true

/** False once code generation failed in this thread (disallowed, or an encoder that did not compile): for tests. */
export function encoderCodegen(): boolean {
  return codegen
}

/** The shape of `o`'s key list once that list has been met twice (a one-off is not worth generating code for). */
function shapeOf(o: Record<string, unknown>): Shape | undefined {
  if (!codegen) return undefined
  const keys: string[] = []
  for (const k in o) {
    if (!hasOwn.call(o, k)) continue
    // "__proto__" read by name would be the accessor, not the member
    if (keys.length === MAX_KEYS || k === '__proto__') return undefined
    keys.push(k)
  }
  const id = JSON.stringify(keys)
  let entry = registry.get(id)
  if (entry === undefined) {
    if (registry.size >= MAX_SHAPES) registry.clear()
    entry = { seen: 0, shape: undefined }
    registry.set(id, entry)
  }
  if (entry.shape === undefined && ++entry.seen === 2) entry.shape = makeShape(keys)
  return entry.shape
}

/** The record's constant head: T_REC, hash, key count, the keys. */
export function keyBlock(keys: readonly string[]): Uint8Array | undefined {
  const buf = new Uint8Array(MAX_BLOCK)
  const sink = { buf, dv: new DataView(buf.buffer), limit: MAX_BLOCK }
  let p = 6
  try {
    for (const k of keys) p = putString(sink, p, k)
  } catch {
    return undefined
  }
  const block = sink.buf.slice(0, p)
  const h = blockHash(block, 6, p)
  block[0] = T_REC
  block[1] = h & 0xff
  block[2] = (h >>> 8) & 0xff
  block[3] = (h >>> 16) & 0xff
  block[4] = (h >>> 24) & 0xff
  block[5] = keys.length
  return block
}

/** FNV-1a of the key bytes: the decoder's cache index (a hint, always checked against the bytes). */
export function blockHash(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193)
  return h >>> 0
}

/** Longest encoded string (tag and length included) a member keeps for reuse. */
const CACHED_BYTES = 64

/**
 * The generated encoder of one key list. The key block goes out four bytes per store (a DataView
 * store costs about what a single byte store does). Each string member remembers the last string
 * it wrote and that string's bytes as 32-bit words: events repeat their type, module and function
 * names, so most string members are one comparison and a few word stores.
 */
function makeShape(keys: readonly string[]): Shape | undefined {
  const block = keyBlock(keys)
  if (block === undefined) return undefined
  const sites = keys.map(() => new Site())
  const words = (n: number): number => (n + 3) >>> 2
  const src: string[] = []
  keys.forEach((_, i) => src.push(`let s${i} = undefined, n${i} = 0`, `const w${i} = new Int32Array(${words(CACHED_BYTES)})`))
  keys.forEach((_, i) => src.push(`const site${i} = sites[${i}]`))
  src.push('return function write(e, o, depth) {', 'const b = e.buf, dv = e.dv, lim = e.limit', 'let p = e.pos, v, q, t, sh', `if (p + ${block.length} > lim) throw OVERFLOW`)
  const bdv = new DataView(block.buffer, block.byteOffset, block.byteLength)
  let k = 0
  for (; k + 4 <= block.length; k += 4) src.push(`dv.setInt32(p + ${k}, ${bdv.getInt32(k, true)}, true)`)
  for (; k < block.length; k++) src.push(`b[p + ${k}] = ${block[k]}`)
  src.push(`p += ${block.length}`)
  keys.forEach((key, i) => {
    const name = JSON.stringify(key) // a safe string literal for any key
    src.push(
      `v = o[${name}]`,
      `if (typeof v === 'string') {`,
      `  if (v === s${i} && p + ${words(CACHED_BYTES) * 4} <= lim) {`,
      `    for (let j = 0, m = (n${i} + 3) >>> 2; j < m; j++) dv.setInt32(p + 4 * j, w${i}[j], true)`,
      `    p += n${i}`,
      `  } else {`,
      `    q = putString(e, p, v)`,
      `    if (q - p <= ${CACHED_BYTES} && p + ${words(CACHED_BYTES) * 4} <= dv.byteLength) {`,
      `      s${i} = v`,
      `      n${i} = q - p`,
      `      for (let j = 0, m = (n${i} + 3) >>> 2; j < m; j++) w${i}[j] = dv.getInt32(p + 4 * j, true)`,
      `    }`,
      `    p = q`,
      `  }`,
      `} else if (typeof v === 'number') p = putNumber(e, p, v)`,
      // An object member: JSON's steps (toJSON read once, then a plain object by its shape)
      // inline, so this member's reads of toJSON and its shape lookups have their own caches.
      `else if (typeof v === 'object' && v !== null) {`,
      `  t = v.toJSON`,
      `  e.pos = p`,
      `  if (typeof t === 'function') { if (!e.resolved(t.call(v, ${name}), depth + 1)) e.byte(${T_SKIP}) }`,
      `  else if (getPrototypeOf(v) === OBJECT_PROTO) {`,
      `    if (depth + 1 >= ${MAX_DEPTH}) throw UNSERIALIZABLE`,
      `    sh = site${i}.find(v)`,
      `    if (sh !== undefined) sh.write(e, v, depth + 1); else e.walk(v, depth + 1)`,
      `  } else e.object(v, depth + 1, site${i})`,
      `  p = e.pos`,
      `} else if (typeof v === 'boolean') {`,
      `  if (p >= lim) throw OVERFLOW`,
      `  b[p++] = v ? ${T_TRUE} : ${T_FALSE}`,
      `} else if (v === undefined) {`,
      `  if (p >= lim) throw OVERFLOW`,
      `  b[p++] = ${T_SKIP}`,
      `} else { e.pos = p; e.field(v, ${name}, depth, site${i}); p = e.pos }`,
    )
  })
  src.push('e.pos = p', '}')
  let write: WriteFn
  try {
    write = new Function('OVERFLOW', 'UNSERIALIZABLE', 'putString', 'putNumber', 'getPrototypeOf', 'OBJECT_PROTO', 'sites', src.join('\n'))(
      OVERFLOW,
      UNSERIALIZABLE,
      putString,
      putNumber,
      Object.getPrototypeOf,
      Object.prototype,
      sites,
    ) as WriteFn
  } catch {
    codegen = false // code generation from strings is disallowed in this process: the generic walk serves
    return undefined
  }
  return new Shape(keys, write)
}
