// The decoder's shapes: a record's key block, met twice, gets a generated builder that makes the
// object with one object literal (V8 allocates it at its final shape, in-object, from a boilerplate)
// instead of a key decode and a property store per member. Found by the block's hash and always
// checked byte for byte, so a corrupted hash or a collision only costs a miss.

/** What Decoder.field returns for T_SKIP: the member is absent. */
export const SKIP: unknown = Object.freeze({ skip: true })

interface FieldReader {
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
  readonly build: BuildFn
}

class DecodeShape {
  seen = 1
  build: BuildFn | undefined = undefined
  constructor(
    readonly block: Uint8Array,
    readonly count: number,
  ) {}
  get blockLength(): number {
    return this.block.length
  }
}

const TABLE = 512
const table: (DecodeShape | undefined)[] = new Array(TABLE)
/** Builders are generated for records of up to this many members; larger ones are assembled. */
const MAX_GENERATED = 64
let codegen = true

function sameBytes(b: Uint8Array, start: number, end: number, block: Uint8Array): boolean {
  const n = block.length
  if (start + n > end) return false
  for (let i = 0; i < n; i++) if (b[start + i] !== block[i]) return false
  return true
}

/**
 * Without `keys`: the known shape whose key block starts at `b[start]` (within `end`), if any.
 * With `keys` (decoded from `b[start, end)`, exactly the block): records the block, and returns
 * its shape once it has a builder.
 */
export function recordShape(b: Uint8Array, start: number, end: number, hash: number, count: number, keys?: readonly string[]): KnownShape | undefined {
  const slot = hash & (TABLE - 1)
  const known = table[slot]
  if (keys === undefined) {
    return known !== undefined && known.build !== undefined && known.count === count && sameBytes(b, start, end, known.block) ? (known as KnownShape) : undefined
  }
  if (known !== undefined && known.count === count && end - start === known.block.length && sameBytes(b, start, end, known.block)) {
    if (known.build === undefined && ++known.seen >= 2) known.build = makeBuild(keys)
    return known.build === undefined ? undefined : (known as KnownShape)
  }
  table[slot] = new DecodeShape(b.slice(start, end), count)
  return undefined
}

function makeBuild(keys: readonly string[]): BuildFn {
  const assembled: BuildFn = (d, depth) => assemble(keys, d, depth - 1)
  if (!codegen || keys.length > MAX_GENERATED || keys.includes('__proto__')) return assembled
  const names = keys.map((_, i) => `a${i}`)
  const src = [
    'return function build(d, depth) {',
    ...names.map((a) => `const ${a} = d.field(depth)`),
    names.length === 0 ? '' : `if (${names.map((a) => `${a} === SKIP`).join(' || ')}) return assemble(keys, d, depth - 1, [${names.join(', ')}])`,
    // JSON.stringify makes a safe string literal of any key; "__proto__" never gets here
    `return { ${keys.map((k, i) => `${JSON.stringify(k)}: a${i}`).join(', ')} }`,
    '}',
  ]
  try {
    return new Function('SKIP', 'assemble', 'keys', src.join('\n'))(SKIP, assemble, keys) as BuildFn
  } catch {
    codegen = false // code generation from strings is disallowed in this process
    return assembled
  }
}
