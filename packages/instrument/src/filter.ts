// Which files the load hooks rewrite: files under the root (the working directory by default)
// matching an include glob and no exclude glob; `node_modules` only when asked.

import picomatch from 'picomatch'
import { relative, sep } from 'node:path'
import type { FunctionSelection } from './transform.js'

/** What the load hooks instrument. Plain data: it crosses into Node's loader thread. */
export interface FilterOptions {
  /** Directory that globs are relative to; files outside it are never instrumented. */
  readonly root: string
  /** Globs of files to instrument, relative to root. */
  readonly include: readonly string[]
  /** Globs of files to leave alone, relative to root. */
  readonly exclude: readonly string[]
  /** Instrument files inside `node_modules` too (when they match include). */
  readonly nodeModules: boolean
  /** Which functions of a selected file are traced: `all`, or only its `exported` ones. Defaults to `all`. */
  readonly functions?: FunctionSelection
}

/** Returns the module name of a file to instrument (its path relative to root, with `/`), or undefined to leave it alone. */
export function fileFilter(o: FilterOptions): (path: string) => string | undefined {
  const include = picomatch([...o.include], { dot: true })
  const exclude = o.exclude.length > 0 ? picomatch([...o.exclude], { dot: true }) : () => false
  return (path) => {
    const rel = relative(o.root, path).split(sep).join('/')
    if (rel === '' || rel.startsWith('../') || rel.startsWith('/')) return undefined
    if (!o.nodeModules && (rel.startsWith('node_modules/') || rel.includes('/node_modules/'))) return undefined
    return include(rel) && !exclude(rel) ? rel : undefined
  }
}
