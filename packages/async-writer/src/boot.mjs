// Workspace-only bootstrap of a writer that runs from its TypeScript sources (under vitest, where
// no built writer-main.js exists beside entry.ts). Worker threads cannot take tsx through execArgv
// on Node 20, so this registers it here; and it makes `@ringside/*` imports resolve to sources too
// (the `@ringside/source` export condition), so the writer runs the same code as the test.
// Built packages never load this file.
import { register } from 'node:module'
import { workerData } from 'node:worker_threads'
import { register as registerTsx } from 'tsx/esm/api'

register('data:text/javascript,export function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, "@ringside/source"] }) }')
registerTsx()
await import(workerData.entry)
