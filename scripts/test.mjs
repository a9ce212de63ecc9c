#!/usr/bin/env node
// The test command: build and type-check the whole workspace (scripts/build.mjs runs tsc -b, so the
// tests that run the packages as a user would find their dist/), install chromium for the dashboard
// test when it is missing, run every vitest suite, and print the closing line `N passed, N failed`
// from vitest's JSON report. Exits non-zero on any failure.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1

console.log('== build and type-check (tsc -b)')
const tsc = run(process.execPath, ['scripts/build.mjs'])
if (tsc !== 0) {
  console.log('type-check failed')
  console.log('0 passed, 1 failed')
  process.exit(1)
}

// The dashboard test drives Debian's chromium; a fresh machine gets it here (see ensure-chromium.sh).
// If that fails, the dashboard test fails and says why; the other suites still run.
if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) run('bash', ['scripts/ensure-chromium.sh'])

const report = '.vitest-results.json'
rmSync(report, { force: true })
console.log('== tests (vitest)')
const status = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)])
if (!existsSync(report)) {
  console.log('vitest wrote no report')
  console.log('0 passed, 1 failed')
  process.exit(1)
}
const r = JSON.parse(readFileSync(report, 'utf8'))
// A file that failed to load has no tests of its own: count it as one failure.
const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length
const failed = r.numFailedTests + brokenFiles
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
console.log(`${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(status === 0 && failed === 0 && r.numPassedTests > 0 ? 0 : 1)
