#!/usr/bin/env node
// The repository's `ringside` command (demo, query, stats, soak, bench), run from the demo app's
// build: the root scripts (`npx -y pnpm@10.34.9 demo`, `... ringside`) build the workspace first.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0) // the reader went away (`| head`)
  throw err
})
let cli
try {
  cli = await import('../dist/cli.js')
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err
  console.error(`ringside: the workspace is not built (${err.message}); run 'npx -y pnpm@10.34.9 build' first.`)
  process.exit(1)
}
process.exitCode = await cli.runCli(process.argv.slice(2), process.stdout, process.stderr)
