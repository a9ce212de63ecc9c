// The decoder's shapes: a record's key block, met twice, gets a generated builder that makes the
// object with one object literal (V8 allocates it at its final shape, in-object, from a boilerplate)
// instead of a key decode and a property store per member. Found by the block's hash and always
// checked byte for byte, so a corrupted hash or a collision only costs a miss.

import { MAX_DEPTH, T_INT, T_REC } from './tags.js'

/** What Decoder.field returns for T_SKIP: the member is absent. */
export const SKIP: unknown = Object.freeze({ skip: true })

interface FieldReader {
  readonly buf: Uint8Array
  readonly dv: DataView
  pos: number
  readonly end: number
  /** The shape that built the last record this reader finished (undefined when none did). */
  lastShape: KnownShape | undefined
  field(depth: number): unknown
}

/** A record's object read member by member: for shapes without a builder, and records with skipped members. */
export function assemble(keys: readonly string[], d: FieldReader, depth: number, values?: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let k = 0; k < keys.length; k++) {
    const v = values === undefined ? d.field(depth + 1) : values[k]
    if (v === SKIP) continue
    const key = keys[k] as string
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
    else out[key] = v
  }
  return out
}

type BuildFn = (d: FieldReader, depth: number) => Record<string, unknown>

/** A shape with its builder: the key block's length to skip, and the builder reading the values. */
export interface KnownShape {
  readonly blockLength: number
  readonly count: number
  readonly build: BuildFn
  /** True when the key block at `b[p]` (within `end`) is this shape's. */
  readonly match: MatchFn
}

type MatchFn = (b: Uint8Array, dv: DataView, p: number, end: number) => boolean

class DecodeShape {
  seen = 1
  build: BuildFn | undefined = undefined
  match: MatchFn
  constructor(
    readonly block: Uint8Array,
    readonly count: number,
  ) {
    this.match = (b, _dv, p, end) => sameBytes(b, p, end, block)
  }
  get blockLength(): number {
    return this.block.length
  }
}

const TABLE = 512
const table: (DecodeShape | undefined)[] = new Array(TABLE)
/** Builders are generated for records of up to this many members; larger ones are assembled. */
const MAX_GENERATED = 64
/** Longest encoded string (tag and length included) a member of a generated builder keeps for reuse. */
const CACHED_BYTES = 64
let codegen = true

/** False once code generation failed in this thread (disallowed, or a builder that did not compile): for tests. */
export function decoderCodegen(): boolean {
  return codegen
}

function sameBytes(b: Uint8Array, start: number, end: number, block: Uint8Array): boolean {
  const n = block.length
  if (start + n > end) return false
  for (let i = 0; i < n; i++) if (b[start + i] !== block[i]) return false
  return true
}

/** True when `b[p, p + n)` holds the bytes cached in `u` (and, as little-endian words, in `w`). */
function cachedAt(b: Uint8Array, dv: DataView, p: number, end: number, n: number, w: Int32Array, u: Uint8Array): boolean {
  if (n === 0 || p + n > end) return false
  const m = n >>> 2
  for (let j = 0; j < m; j++) if (dv.getInt32(p + 4 * j, true) !== w[j]) return false
  for (let j = m * 4; j < n; j++) if (b[p + j] !== u[j]) return false
  return true
}

/** Keeps `b[p, q)` in `u` and `w` (see cachedAt); returns its length. */
function cache(b: Uint8Array, p: number, q: number, w: Int32Array, u: Uint8Array): number {
  const n = q - p
  for (let j = 0; j < n; j++) u[j] = b[p + j] as number
  for (let j = 0; j < n >>> 2; j++) w[j] = (u[4 * j] as number) | ((u[4 * j + 1] as number) << 8) | ((u[4 * j + 2] as number) << 16) | ((u[4 * j + 3] as number) << 24)
  return n
}

/**
 * Without `keys`: the known shape whose key block starts at `b[start]` (within `end`), if any.
 * With `keys` (decoded from `b[start, end)`, exactly the block): records the block, and returns
 * its shape once it has a builder.
 */
export function recordShape(b: Uint8Array, dv: DataView, start: number, end: number, hash: number, count: number, keys?: readonly string[]): KnownShape | undefined {
  const slot = hash & (TABLE - 1)
  const known = table[slot]
  if (keys === undefined) {
    return known !== undefined && known.build !== undefined && known.count === count && known.match(b, dv, start, end) ? (known as KnownShape) : undefined
  }
  if (known !== undefined && known.count === count && end - start === known.block.length && sameBytes(b, start, end, known.block)) {
    if (known.build === undefined && ++known.seen >= 2) {
      known.build = makeBuild(keys)
      known.match = makeMatch(known.block) ?? known.match
    }
    return known.build === undefined ? undefined : (known as KnownShape)
  }
  table[slot] = new DecodeShape(b.slice(start, end), count)
  return undefined
}

/** The key block compared as constants, four bytes per load. */
function makeMatch(block: Uint8Array): MatchFn | undefined {
  if (!codegen) return undefined
  const bdv = new DataView(block.buffer, block.byteOffset, block.byteLength)
  const tests = [`p + ${block.length} <= end`]
  let k = 0
  for (; k + 4 <= block.length; k += 4) tests.push(`dv.getInt32(p + ${k}, true) === ${bdv.getInt32(k, true)}`)
  for (; k < block.length; k++) tests.push(`b[p + ${k}] === ${block[k]}`)
  try {
    return new Function(`return function match(b, dv, p, end) { return ${tests.join(' && ')} }`)() as MatchFn
  } catch {
    codegen = false
    return undefined
  }
}

/**
 * The builder: reads the values in order and returns one object literal. Each member remembers the
 * bytes of the last string it decoded (events repeat their type, module and function names), so a
 * repeated string is a few word comparisons instead of a hash and a string-cache probe; an int32
 * is read in place; a member that held a record remembers that record's shape and builds the
 * next one of the same key block directly.
 */
function makeBuild(keys: readonly string[]): BuildFn {
  const assembled: BuildFn = (d, depth) => assemble(keys, d, depth - 1)
  if (!codegen || keys.length > MAX_GENERATED || keys.includes('__proto__')) return assembled
  const names = keys.map((_, i) => `a${i}`)
  const src: string[] = []
  keys.forEach((_, i) => src.push(`let s${i}, n${i} = 0, r${i}`, `const u${i} = new Uint8Array(${CACHED_BYTES}), w${i} = new Int32Array(${CACHED_BYTES / 4})`))
  // (with no members, a trailing comma here would declare the next line's `d`: that turned code
  // generation off for the whole thread the first time a record of no keys was decoded twice)
  src.push('return function build(d, depth) {', 'const b = d.buf, dv = d.dv, end = d.end', `let ${['p = d.pos', 'q', 't', ...names].join(', ')}`)
  keys.forEach((_, i) => {
    src.push(
      `t = b[p]`,
      `if (t === ${T_INT} && p + 5 <= end) { a${i} = b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16) | (b[p + 4] << 24); p += 5 }`,
      `else if (cachedAt(b, dv, p, end, n${i}, w${i}, u${i})) { a${i} = s${i}; p += n${i} }`,
      `else if (t === ${T_REC} && r${i} !== undefined && depth < ${MAX_DEPTH} && p + 6 <= end && b[p + 5] === r${i}.count && r${i}.match(b, dv, p + 6, end)) {`,
      `  d.pos = p + 6 + r${i}.blockLength; a${i} = r${i}.build(d, depth + 1); d.lastShape = r${i}; p = d.pos`,
      `} else {`,
      `  d.pos = p; a${i} = d.field(depth); q = d.pos`,
      `  if (typeof a${i} === 'string') { if (q - p <= ${CACHED_BYTES}) { n${i} = cache(b, p, q, w${i}, u${i}); s${i} = a${i} } }`,
      `  else if (t === ${T_REC}) r${i} = d.lastShape`,
      `  p = q`,
      `}`,
    )
  })
  src.push(
    'd.pos = p',
    names.length === 0 ? '' : `if (${names.map((a) => `${a} === SKIP`).join(' || ')}) return assemble(keys, d, depth - 1, [${names.join(', ')}])`,
    // JSON.stringify makes a safe string literal of any key; "__proto__" never gets here
    `return { ${keys.map((k, i) => `${JSON.stringify(k)}: a${i}`).join(', ')} }`,
    '}',
  )
  try {
    return new Function('SKIP', 'assemble', 'keys', 'cachedAt', 'cache', src.join('\n'))(SKIP, assemble, keys, cachedAt, cache) as BuildFn
  } catch {
    codegen = false // code generation from strings is disallowed in this process
    return assembled
  }
}
