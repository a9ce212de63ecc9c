#!/usr/bin/env node
// The build: `tsc -b` compiles every package of the workspace to its dist/ (ESM JavaScript, .d.ts,
// source maps) and type-checks the tests, then the files tsc does not emit (the dashboard's HTML)
// are copied next to the modules that read them. Exits non-zero when the type-check fails.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const ASSET = /\.html$/

// tsc from the workspace's own typescript, not through npx (which, run under pnpm, warns about
// pnpm's settings on stderr).
const tscBin = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc')
const tsc = spawnSync(process.execPath, [tscBin, '-b'], { cwd: root, stdio: 'inherit' })
if (tsc.status !== 0) process.exit(tsc.status ?? 1)

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* files(join(dir, e.name))
    else yield join(dir, e.name)
  }
}

for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group))) {
    const src = join(root, group, name, 'src')
    const dist = join(root, group, name, 'dist')
    if (!existsSync(src) || !existsSync(dist)) continue
    for (const file of files(src)) {
      if (!ASSET.test(file)) continue
      // Only when changed: tests running beside a build may be reading the copy.
      const to = join(dist, relative(src, file))
      if (existsSync(to) && readFileSync(to).equals(readFileSync(file))) continue
      mkdirSync(dirname(to), { recursive: true })
      copyFileSync(file, to)
    }
  }
}
