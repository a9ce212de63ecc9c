// The routed store's spec: named routes, each a condition (`when`) and a destination store, and the
// route that answers reads. Validation names the field path at fault (`routes[1].when.types`,
// `routes[0].store.path`), the way every other spec check in this package does.

import { StoreSpecError, describeValue } from '../errors.js'
import type { LeafStoreSpec } from '../create-store.js'

/** Events whose `type` is one of these strings. */
export interface RouteWhenTypes {
  readonly types: readonly string[]
}

/** Events whose top-level field `field` equals one of `values` (strict equality). */
export interface RouteWhenField {
  readonly field: string
  readonly values: readonly (string | number | boolean)[]
}

/** Which events a route takes; a route without `when` takes every event (a catch-all). */
export type RouteWhen = RouteWhenTypes | RouteWhenField

/** One destination of a routed store. */
export interface RouteSpec {
  /** Names the destination in errors and reports: 1 to 64 of `A-Z a-z 0-9 _ . -`, unique. */
  readonly name: string
  /** Which events go there. Absent: every event. */
  readonly when?: RouteWhen
  /** The destination: any store spec except another routed one. */
  readonly store: LeafStoreSpec
}

/**
 * Events split over several stores, each event written once to every route it matches. At least
 * one route must be a catch-all (no `when`), so that no event goes unrouted.
 */
export interface RoutedStoreSpec {
  readonly kind: 'routed'
  readonly routes: readonly RouteSpec[]
  /**
   * The route that answers getEvent, query, stats, countByRing and takes the dead letters; it must
   * be a catch-all. Defaults to the first catch-all route.
   */
  readonly queryRoute?: string
}

/** A route after validation: its condition compiled to a predicate over the event body. */
export interface ResolvedRoute {
  readonly name: string
  /** Undefined for a catch-all. */
  readonly when: RouteWhen | undefined
  readonly matches: (event: Record<string, unknown>) => boolean
  /** The destination's spec, as given (already validated). */
  readonly store: LeafStoreSpec
}

export interface ResolvedRoutedOptions {
  readonly routes: readonly ResolvedRoute[]
  readonly queryRoute: string
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/

const fail = (field: string, message: string): never => {
  throw new StoreSpecError('invalid_spec', field, message)
}

function nonEmptyArray(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v) || v.length === 0) fail(field, `'${field}' must be a non-empty array, got ${describeValue(v)}`)
  return v as unknown[]
}

function resolveWhen(v: unknown, at: string): { when: RouteWhen; matches: (e: Record<string, unknown>) => boolean } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(at, `'${at}' must be an object, got ${describeValue(v)}`)
  const w = v as Record<string, unknown>
  if (w.types !== undefined) {
    for (const key of Object.keys(w)) if (key !== 'types') fail(`${at}.${key}`, `unknown field '${key}' beside 'types' in '${at}'`)
    const types = nonEmptyArray(w.types, `${at}.types`)
    types.forEach((t, i) => {
      if (typeof t !== 'string' || t.length === 0) fail(`${at}.types[${i}]`, `'${at}.types[${i}]' must be a non-empty string, got ${describeValue(t)}`)
    })
    const set = new Set(types as string[])
    return { when: { types: [...set] }, matches: (e) => typeof e.type === 'string' && set.has(e.type) }
  }
  if (w.field !== undefined) {
    for (const key of Object.keys(w)) if (key !== 'field' && key !== 'values') fail(`${at}.${key}`, `unknown field '${key}' in '${at}'`)
    const field = w.field
    if (typeof field !== 'string' || field.length === 0) return fail(`${at}.field`, `'${at}.field' must be a non-empty string, got ${describeValue(field)}`)
    const values = nonEmptyArray(w.values, `${at}.values`)
    values.forEach((x, i) => {
      const ok = typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))
      if (!ok) fail(`${at}.values[${i}]`, `'${at}.values[${i}]' must be a string, a finite number or a boolean, got ${describeValue(x)}`)
    })
    const set = new Set(values as (string | number | boolean)[])
    // Own properties only: an event's prototype chain is not the event's data.
    return { when: { field, values: [...set] }, matches: (e) => Object.hasOwn(e, field) && set.has(e[field] as string) }
  }
  return fail(at, `'${at}' needs 'types' or 'field' and 'values'`)
}

/**
 * Validates a routed spec; `resolveInner` checks each destination's spec (it throws StoreSpecError
 * naming a field of that spec, which is prefixed here with the route's path).
 */
export function resolveRoutedOptions(s: Record<string, unknown>, resolveInner: (spec: unknown) => unknown): ResolvedRoutedOptions {
  for (const key of Object.keys(s)) {
    if (key !== 'kind' && key !== 'routes' && key !== 'queryRoute') fail(key, `unknown field '${key}' in a routed spec`)
  }
  const given = nonEmptyArray(s.routes, 'routes')
  const names = new Set<string>()
  const routes: ResolvedRoute[] = given.map((r, i) => {
    const at = `routes[${i}]`
    if (r === null || typeof r !== 'object' || Array.isArray(r)) return fail(at, `'${at}' must be an object, got ${describeValue(r)}`)
    const route = r as Record<string, unknown>
    for (const key of Object.keys(route)) {
      if (key !== 'name' && key !== 'when' && key !== 'store') fail(`${at}.${key}`, `unknown field '${key}' in '${at}'`)
    }
    const name = route.name
    if (typeof name !== 'string' || !NAME.test(name)) {
      fail(`${at}.name`, `'${at}.name' must be 1 to 64 of A-Z a-z 0-9 _ . -, got ${describeValue(name)}`)
    }
    if (names.has(name as string)) fail(`${at}.name`, `route name ${describeValue(name)} is used twice`)
    names.add(name as string)
    const inner = route.store
    if (inner !== null && typeof inner === 'object' && (inner as { kind?: unknown }).kind === 'routed') {
      fail(`${at}.store.kind`, `a route's store cannot itself be routed ('${at}.store.kind')`)
    }
    try {
      resolveInner(inner)
    } catch (err) {
      if (err instanceof StoreSpecError) throw new StoreSpecError(err.code as ConstructorParameters<typeof StoreSpecError>[0], `${at}.store.${err.field}`, `${at}.store: ${err.message}`, { cause: err })
      throw err
    }
    const when = route.when === undefined ? undefined : resolveWhen(route.when, `${at}.when`)
    return {
      name: name as string,
      when: when?.when,
      matches: when?.matches ?? (() => true),
      store: inner as LeafStoreSpec,
    }
  })
  const catchAll = routes.filter((r) => r.when === undefined)
  if (catchAll.length === 0) {
    fail('routes', "a routed store needs a catch-all route (one without 'when'), so that no event goes unrouted")
  }
  let queryRoute = s.queryRoute
  if (queryRoute === undefined) queryRoute = catchAll[0]!.name
  else if (typeof queryRoute !== 'string' || !names.has(queryRoute)) {
    fail('queryRoute', `'queryRoute' must name one of the routes (${[...names].join(', ')}), got ${describeValue(queryRoute)}`)
  } else if (!catchAll.some((r) => r.name === queryRoute)) {
    fail('queryRoute', `'queryRoute' must name a catch-all route (one without 'when'): it answers for every event; ${describeValue(queryRoute)} has a 'when'`)
  }
  return { routes, queryRoute: queryRoute as string }
}
