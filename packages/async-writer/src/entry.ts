// How a writer thread is started. The package is built to plain ESM, and the writer's entry is the
// built `writer-main.js` beside this module, found relative to the package itself: from
// node_modules, from the workspace's build, or from a bundle that keeps `new URL(..., import.meta.url)`
// assets. Only in the workspace, when this module runs from its TypeScript source (vitest), is there
// no `.js` beside it: the writer then starts through `boot.mjs`, which registers tsx (a devDependency).

import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** What the pool needs to start a writer thread. */
export interface WriterEntry {
  /** The script given to `new Worker`. */
  readonly script: URL
  /** Set only with the workspace's TypeScript bootstrap: the module it imports. */
  readonly entry?: string
}

let found: WriterEntry | undefined

/** The writer's entry: the built `writer-main.js` of this package (resolved once per process). */
export function writerEntry(): WriterEntry {
  found ??= locate()
  return found
}

function locate(): WriterEntry {
  // Written literally so that bundlers which follow `new URL('...', import.meta.url)` ship the file.
  const built = new URL('./writer-main.js', import.meta.url)
  if (built.protocol !== 'file:' || existsSync(fileURLToPath(built))) return { script: built }
  return { script: new URL('./boot.mjs', import.meta.url), entry: new URL('./writer-main.ts', import.meta.url).href }
}
