// TypeScript user modules (stages, and stores named by `target`) in a built writer thread: plain
// JavaScript has no loader for them, so the writer registers tsx's ESM loader when a target is
// TypeScript. tsx is an optional peer dependency, imported only then; without it the writer fails
// to start with a TypeScriptLoaderError naming the module.

import { TypeScriptLoaderError } from './errors.js'

const TYPESCRIPT = /\.[cm]?tsx?$/
// Not a literal: a bundler must not try to include tsx in an application that never needs it.
const TSX_API = ['tsx', 'esm', 'api'].join('/')

let registered = false

/** True for a module specifier or file URL that names a TypeScript file. */
export function isTypeScriptTarget(target: string): boolean {
  return TYPESCRIPT.test(target.replace(/[?#].*$/, ''))
}

/**
 * Registers tsx in this thread when one of `targets` is TypeScript. A no-op when this code itself
 * runs from TypeScript sources (the workspace's tests), where a loader is already in place.
 */
export async function loaderForTargets(targets: readonly string[]): Promise<void> {
  const ts = targets.find(isTypeScriptTarget)
  if (ts === undefined || registered || import.meta.url.endsWith('.ts')) return
  let api: { register(): unknown }
  try {
    api = (await import(TSX_API)) as { register(): unknown }
  } catch (cause) {
    throw new TypeScriptLoaderError(ts, { cause })
  }
  api.register()
  registered = true
}
