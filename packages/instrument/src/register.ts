// `node --import @ringside/instrument/register app.mjs`: instruments the application with no code
// change (see register-main.ts). Worker threads inherit `--import`; in them it does nothing, so
// Ringside's writer threads and the application's own workers start as they would without it.

import { isMainThread } from 'node:worker_threads'

if (isMainThread) {
  const { startRegistered } = await import('./register-main.js')
  try {
    await startRegistered()
  } catch (e) {
    // A bad config must not stop the application; say why nothing is captured.
    process.stderr.write(`ringside: instrumentation is off: ${e instanceof Error ? e.message : String(e)}\n`)
  }
}
