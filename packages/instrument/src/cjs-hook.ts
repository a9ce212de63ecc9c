// The CommonJS side of the load hook: `require()` compiles through `Module.prototype._compile`,
// which Node's ESM hooks do not see on Node 20, so the selected files are rewritten there.

import Module from 'node:module'
import { fileFilter, type FilterOptions } from './filter.js'
import { instrumentSource } from './transform.js'

type Compile = (this: unknown, content: string, filename: string, ...rest: unknown[]) => unknown

let original: Compile | undefined

/** Rewrites CommonJS modules the filter selects as they are compiled. Installing it again replaces the filter. */
export function installCjsHook(options: FilterOptions): void {
  const select = fileFilter(options)
  const proto = (Module as unknown as { prototype: { _compile: Compile } }).prototype
  original ??= proto._compile
  const compile = original
  proto._compile = function (this: unknown, content: string, filename: string, ...rest: unknown[]) {
    const module = typeof content === 'string' ? select(filename) : undefined
    if (module !== undefined) {
      try {
        const t = instrumentSource({ source: content, module, file: filename, format: 'commonjs', functions: options.functions ?? 'all' })
        if (t.ok) content = t.code
      } catch {
        // Leave the module as it was.
      }
    }
    return compile.call(this, content, filename, ...rest)
  }
}

/** Puts back Node's own `_compile`. */
export function uninstallCjsHook(): void {
  if (original) (Module as unknown as { prototype: { _compile: Compile } }).prototype._compile = original
  original = undefined
}
