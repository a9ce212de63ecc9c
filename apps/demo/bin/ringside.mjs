#!/usr/bin/env node
// The `ringside` command. The workspace ships TypeScript sources, so register tsx first.
import { register } from 'tsx/esm/api'

register()
const { runCli } = await import('../src/cli.ts')
process.exitCode = await runCli(process.argv.slice(2), process.stdout, process.stderr)
