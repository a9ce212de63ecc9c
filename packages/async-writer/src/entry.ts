// How a writer thread is started. Packages ship TypeScript sources, and loading them through tsx
// in every new worker costs 300-500 ms (measured: tsx registration and on-the-fly transforms) on
// each start and restart. So the writer's entry is bundled once per process with esbuild into
// plain ESM (about 25 ms), with native and optional drivers kept external at their absolute
// paths; workers then start in tens of ms. If bundling is impossible, the tsx bootstrap is used.

import { createRequire } from 'node:module'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** What the pool needs to start a writer thread. */
export interface WriterEntry {
  /** The script given to `new Worker`. */
  readonly script: URL
  /** Set with the tsx bootstrap: the TypeScript module it imports. */
  readonly entry?: string
  /** True for the bundle: the writer registers tsx itself only if a user module is TypeScript. */
  readonly bundled: boolean
}

/** Bare imports the bundle must not inline: native addons, optional drivers, tsx itself. */
const EXTERNAL = ['better-sqlite3', 'pg', 'pg-copy-streams', 'nats', '@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/nats-core', 'tsx', 'tsx/esm/api']

const here = fileURLToPath(new URL('.', import.meta.url))
const source = fileURLToPath(new URL('./writer-main.ts', import.meta.url))
let built: Promise<WriterEntry> | undefined

const fallback: WriterEntry = {
  script: new URL('./boot.mjs', import.meta.url),
  entry: new URL('./writer-main.ts', import.meta.url).href,
  bundled: false,
}

/** Builds (once per process) and returns the writer's entry. Never throws: falls back to tsx. */
export function writerEntry(): Promise<WriterEntry> {
  built ??= bundle().catch(() => fallback)
  return built
}

/**
 * Where `import(specifier)` would land, seen from a package: the ESM ("import") entry of its
 * exports map when it has one (tsx's api has separate CommonJS and ESM builds), else require's answer.
 */
function resolveImport(req: NodeRequire, specifier: string): string {
  const [scopeOrName = '', maybeName = ''] = specifier.split('/')
  const name = scopeOrName.startsWith('@') ? `${scopeOrName}/${maybeName}` : scopeOrName
  const sub = '.' + specifier.slice(name.length)
  // Find the package's directory the way Node walks node_modules (its exports map may not list
  // ./package.json, so require.resolve of that cannot be relied on).
  const dir = (req.resolve.paths(name) ?? []).map((p) => join(p, name)).find((d) => existsSync(join(d, 'package.json')))
  if (dir === undefined) return req.resolve(specifier)
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown; main?: string }
  const exportsMap = typeof pkg.exports === 'string' ? { '.': pkg.exports } : (pkg.exports as Record<string, unknown> | undefined)
  const target = exportsMap?.[sub] as string | { import?: string | { default?: string }; default?: string } | undefined
  const entry =
    typeof target === 'string'
      ? target
      : typeof target?.import === 'string'
        ? target.import
        : (target?.import as { default?: string } | undefined)?.default ?? target?.default
  return entry ? join(dir, entry) : req.resolve(specifier)
}

async function bundle(): Promise<WriterEntry> {
  if (process.env.RINGSIDE_WRITER_BUNDLE === '0') return fallback
  const { build } = await import('esbuild')
  // Resolve each external from the package that depends on it, so the bundle can live anywhere.
  const resolvers = [here, join(here, '../../storage/src/')].map((dir) => createRequire(join(dir, 'noop.js')))
  const outdir = join(tmpdir(), `ringside-writer-${process.pid}`)
  mkdirSync(outdir, { recursive: true })
  process.once('exit', () => rmSync(outdir, { recursive: true, force: true }))
  await build({
    entryPoints: [source],
    outdir,
    outExtension: { '.js': '.mjs' },
    // Code splitting keeps the stores' dynamic imports lazy: the pg and NATS clients load only in a
    // writer whose store needs them, not at every writer's start.
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    // CommonJS dependencies (comlink's UMD build) need a require inside the ESM bundle.
    banner: { js: "import { createRequire as __ringsideRequire } from 'node:module'; const require = __ringsideRequire(import.meta.url);" },
    plugins: [
      {
        name: 'ringside-externals',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            if (!EXTERNAL.some((e) => args.path === e || args.path.startsWith(`${e}/`))) return undefined
            for (const r of resolvers) {
              try {
                return { path: pathToFileURL(resolveImport(r, args.path)).href, external: true }
              } catch {
                // not a dependency of this package; try the next
              }
            }
            return { path: args.path, external: true } // optional driver not installed: fails only if used
          })
        },
      },
    ],
  })
  return { script: pathToFileURL(join(outdir, 'writer-main.mjs')), bundled: true }
}
