// Entry of the `ringside` bin: runs the command on this process's arguments and streams, and exits
// with its code. A reader that goes away early (`ringside query db --json | head`) ends it quietly.

import { runCli } from './run.js'

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})
process.exitCode = await runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr })
