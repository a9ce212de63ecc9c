// Names a store for the exit journal's header, and finds the files a store owns, so that a journal
// is replayed only into the store it was written for and is never one of the store's own files.

import { realpathSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { resolveStoreSpec, type StoreSpec } from '@ringside/storage'

/** An absolute path with symbolic links resolved as far as the path exists. */
export function canonicalPath(path: string): string {
  const abs = resolve(path)
  try {
    return realpathSync(abs)
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs))
    } catch {
      return abs
    }
  }
}

/** JSON with object keys sorted, so equal options give equal text whatever their key order. */
function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return '{}'
  const o = v as Record<string, unknown>
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`
}

/**
 * A user module's name without where it was loaded from: its file name without the extension
 * (`faulty-store` for `file:///app/dist/faulty-store.js` and `/app/src/faulty-store.ts`), or a
 * bare specifier as given. The same store module built, moved or run from its sources is the
 * same store; its options still tell two stores of one module apart.
 */
function moduleName(target: string): string {
  if (!target.startsWith('file:') && !target.startsWith('/') && !target.startsWith('.')) return target
  const file = basename(target.startsWith('file:') ? new URL(target).pathname : target)
  return file.replace(/\.[cm]?[jt]sx?$/, '')
}

/**
 * Which store a spec names, as text: SQLite by its file's canonical path, PostgreSQL by server,
 * database and schema (never the password), JetStream by servers and stream, a user's module by
 * its name (see moduleName) and options.
 */
export function storeIdentity(spec: StoreSpec): string {
  const r = resolveStoreSpec(spec)
  switch (r.kind) {
    case 'memory':
      return 'memory'
    case 'sqlite':
      return r.options.path === ':memory:' ? 'sqlite::memory:' : `sqlite:${canonicalPath(r.options.path)}`
    case 'postgres': {
      try {
        const u = new URL(r.options.url)
        return `postgres://${u.hostname}:${u.port || '5432'}${u.pathname}#${r.options.schema}`
      } catch {
        return `postgres:#${r.options.schema}`
      }
    }
    case 'jetstream':
      return `jetstream:${[...r.options.servers].sort().join(',')}/${r.options.stream}`
    case 'target':
      return `target:${moduleName(r.target)}:${stableJson(r.options)}`
    case 'routed':
      // Every destination, by name, and which one answers reads: a journal replays into them all.
      return `routed:${r.options.queryRoute}[${r.options.routes.map((x) => `${x.name}=${storeIdentity(x.store)}`).join(',')}]`
  }
}

/**
 * The files a store spec writes: a SQLite database with its WAL, shared-memory and rollback
 * journal files, also when a wrapper store names it as its `inner` store (as the fault-injection
 * store does) or a routed store as a destination.
 */
export function storeFiles(spec: unknown): string[] {
  if (spec === null || typeof spec !== 'object') return []
  const s = spec as { kind?: unknown; path?: unknown; options?: { inner?: unknown }; routes?: unknown }
  // A routed store writes the files of each of its destinations.
  if (s.kind === 'routed' && Array.isArray(s.routes)) return s.routes.flatMap((r: { store?: unknown } | null) => storeFiles(r?.store))
  if (s.kind === 'sqlite' && typeof s.path === 'string' && s.path !== ':memory:' && s.path !== '') {
    return ['', '-wal', '-shm', '-journal'].map((suffix) => `${s.path as string}${suffix}`)
  }
  return s.options && typeof s.options === 'object' ? storeFiles(s.options.inner) : []
}

/** Whether two paths name one file: the same canonical path, or the same device and inode. */
export function sameFile(a: string, b: string): boolean {
  if (canonicalPath(a) === canonicalPath(b)) return true
  const sa = statSync(a, { bigint: true, throwIfNoEntry: false })
  const sb = statSync(b, { bigint: true, throwIfNoEntry: false })
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino
}
