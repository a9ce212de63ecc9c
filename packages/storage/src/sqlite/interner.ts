// The `strings` dictionary of one connection: string -> id for writes, id -> string for reads.
// Several connections (one per writer thread) may intern the same string at once; each does so
// inside its IMMEDIATE write transaction (INSERT ... ON CONFLICT DO NOTHING, then SELECT), and an
// id enters this connection's cache only after the transaction that saw it committed, because a
// rolled-back id may be given to another string. Rows of `strings` are never changed or deleted,
// so a committed id means the same string forever and the caches need no invalidation.

import type Database from 'better-sqlite3'
import { shapeOf, type Shape } from './row-codec.js'

type Statement = Database.Statement<unknown[], unknown>

// Past this many entries a cache starts over (ids stay valid; misses cost one indexed lookup).
// Correlation ids can be countless; the common strings come back within one batch.
const CACHE_LIMIT = 100_000

// Ids below this are named from an array instead of the map: the strings an event repeats (its
// type, pid, module, function, writer and shape) are interned first and so get the low ids, and
// a query names six of them per event (an array read is several times cheaper than a map lookup).
const LOW_IDS = 65_536

/** Interns strings through the `strings` table of one connection. */
export class StringInterner {
  readonly #ids = new Map<string, number>()
  readonly #fresh = new Map<string, number>()
  readonly #names = new Map<number, string>()
  readonly #low: (string | undefined)[] = []
  readonly #shapes = new Map<number, Shape>()
  readonly #insert: Statement
  readonly #select: Statement
  readonly #name: Statement
  readonly #namesOf: Statement

  constructor(db: Database.Database) {
    this.#insert = db.prepare('INSERT INTO strings (s) VALUES (?) ON CONFLICT (s) DO NOTHING RETURNING id').pluck()
    this.#select = db.prepare('SELECT id FROM strings WHERE s = ?').pluck()
    this.#name = db.prepare('SELECT s FROM strings WHERE id = ?').pluck()
    this.#namesOf = db.prepare('SELECT id, s FROM strings WHERE id IN (SELECT value FROM json_each(?))').raw()
  }

  /** The id of `s`, interning it; only inside a write transaction, followed by commit() or rollback(). */
  idOf(s: string): number {
    const known = this.#ids.get(s) ?? this.#fresh.get(s)
    if (known !== undefined) return known
    const id = (this.#insert.get(s) ?? this.#select.get(s)) as number
    this.#fresh.set(s, id)
    return id
  }

  /** The transaction that interned the fresh ids committed: they may be trusted from now on. */
  commit(): void {
    if (this.#fresh.size === 0) return
    if (this.#ids.size + this.#fresh.size > CACHE_LIMIT) this.#ids.clear()
    for (const [s, id] of this.#fresh) this.#ids.set(s, id)
    this.#fresh.clear()
  }

  /** The transaction rolled back: its fresh ids may not exist. */
  rollback(): void {
    this.#fresh.clear()
  }

  /**
   * Loads into the cache, in one statement, the names of every id in `columns` of `rows` that it
   * lacks, so reading many rows costs no lookup per row.
   */
  prefetch(rows: readonly (readonly unknown[])[], columns: readonly number[]): void {
    const missing = new Set<number>()
    const low = this.#low
    for (const row of rows) {
      for (const c of columns) {
        const id = row[c]
        if (typeof id === 'number' && id > 0 && (id < LOW_IDS ? low[id] === undefined : !this.#names.has(id))) missing.add(id)
      }
    }
    if (missing.size === 0) return
    // Cleared once, before: every name this query needs stays until it is built, however many.
    if (this.#names.size + missing.size > CACHE_LIMIT) this.#names.clear()
    for (const [id, s] of this.#namesOf.all(JSON.stringify([...missing])) as [number, string][]) this.#remember(id, s, false)
  }

  /** The string of a committed id (reads see committed rows only). */
  nameOf(id: number): string {
    const s = id < LOW_IDS ? this.#low[id] : this.#names.get(id)
    if (s !== undefined) return s
    const read = this.#name.get(id) as string | undefined
    if (read === undefined) throw new Error(`strings holds no id ${id}`)
    this.#remember(id, read, true)
    return read
  }

  #remember(id: number, s: string, bounded: boolean): void {
    if (id < LOW_IDS) {
      const low = this.#low
      // Grown one element at a time, so the array keeps V8's fast (non-dictionary) elements.
      while (low.length <= id) low.push(undefined)
      low[id] = s
      return
    }
    if (bounded && this.#names.size >= CACHE_LIMIT) this.#names.clear()
    this.#names.set(id, s)
  }

  /** The shape (key list and read plan) of a shape id. */
  shapeOf(id: number): Shape {
    let shape = this.#shapes.get(id)
    if (shape === undefined) {
      shape = shapeOf(JSON.parse(this.nameOf(id)) as string[])
      if (this.#shapes.size >= CACHE_LIMIT) this.#shapes.clear()
      this.#shapes.set(id, shape)
    }
    return shape
  }
}
