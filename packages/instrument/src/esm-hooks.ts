// Node's module customization hooks (`module.register`), run in Node's loader thread: modules that
// the filter selects are rewritten by `instrumentSource` as they load. ES modules here; a CommonJS
// module whose source an earlier hook supplied is rewritten here too (the CommonJS hook skips code
// that is already instrumented).

import { fileURLToPath } from 'node:url'
import { fileFilter, type FilterOptions } from './filter.js'
import { instrumentSource, type FunctionSelection } from './transform.js'

let select: ((path: string) => string | undefined) | undefined
let functions: FunctionSelection = 'all'

/** Receives the filter from `module.register(..., { data })`. */
export function initialize(data: FilterOptions): void {
  select = fileFilter(data)
  functions = data.functions ?? 'all'
}

interface LoadResult {
  format?: string | null
  source?: string | ArrayBuffer | Uint8Array | null
  shortCircuit?: boolean
}

type NextLoad = (url: string, context: unknown) => Promise<LoadResult>

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const r = await nextLoad(url, context)
  if (!select || !url.startsWith('file:') || (r.format !== 'module' && r.format !== 'commonjs') || r.source === null || r.source === undefined) return r
  const path = fileURLToPath(url)
  const module = select(path)
  if (module === undefined) return r
  const source = typeof r.source === 'string' ? r.source : Buffer.from(r.source as Uint8Array).toString('utf8')
  try {
    const t = instrumentSource({ source, module, file: path, format: r.format, functions })
    return t.ok ? { ...r, source: t.code } : r
  } catch {
    // A rewrite that fails leaves the module as it was: the application must load either way.
    return r
  }
}
