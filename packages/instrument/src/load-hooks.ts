// Installs the load hooks without the register hook's pipeline: the ESM hook (`module.register`)
// and the CommonJS hook, rewriting the files a filter selects. For a program that owns its ring and
// pipeline (call `instrument({ ring })` first) and then imports the code to instrument.

import { register } from 'node:module'
import { installCjsHook } from './cjs-hook.js'
import { InstrumentOptionError } from './errors.js'
import type { FilterOptions } from './filter.js'

/**
 * Rewrites, as they load from now on, the modules that `filter` selects (files under `root`
 * matching an include glob and no exclude glob), ES modules and CommonJS alike. Modules already
 * loaded stay as they are. With `functions: 'exported'` only the functions each module exports
 * are traced. ESM hooks cannot be removed; installing again adds a filter (a module
 * is never rewritten twice).
 */
export function installLoadHooks(filter: FilterOptions): void {
  const functions = filter.functions ?? 'all'
  if (functions !== 'all' && functions !== 'exported') throw new InstrumentOptionError('functions', `functions must be all or exported, got ${String(functions)}`)
  const data: FilterOptions = { root: filter.root, include: [...filter.include], exclude: [...filter.exclude], nodeModules: filter.nodeModules, functions }
  register(new URL('./esm-hooks.js', import.meta.url), { data })
  installCjsHook(data)
}
