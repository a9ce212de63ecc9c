// The serializable names of stages (they cross into writer threads): a module stage, and the
// `when` / `parallel` combinators over other specs, each with an optional `timeoutMs`. Checked as
// plain data (the manager names the bad path before any writer starts), then loaded in a writer.

import { pathToFileURL } from 'node:url'
import { isAbsolute } from 'node:path'
import { StageLoadError } from './errors.js'
import { parallel, when, withTimeout, type EventPredicate } from './stage-compose.js'
import type { Stage, StageFactory } from './stages.js'

/** A module named by specifier, absolute path or file URL, and the export to call. */
export interface ModuleSpec {
  readonly target: string
  /** The factory's export name. Defaults to `createStage` (`createPredicate` for a predicate), then the default export. */
  readonly export?: string
  /** Passed to the factory. */
  readonly options?: unknown
}

interface Timed {
  /** An event that has not passed the stage within this many ms is a `stage_error` dead letter (StageTimeoutError). */
  readonly timeoutMs?: number
}

/** A user stage module: its factory returns a Stage. */
export interface ModuleStageSpec extends ModuleSpec, Timed {}
/** `stage` runs only on events the predicate module accepts (its factory returns `(event, ctx) => boolean`). */
export interface WhenStageSpec extends Timed {
  readonly when: ModuleSpec
  readonly stage: StageSpec
  readonly name?: string
}
/** The stages run side by side on each event; results merged as `parallel()` says. */
export interface ParallelStageSpec extends Timed {
  readonly parallel: readonly StageSpec[]
  readonly name?: string
}
/** A user stage named by a serializable spec, loaded inside the writer thread. */
export type StageSpec = ModuleStageSpec | WhenStageSpec | ParallelStageSpec

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const MODULE_KEYS = ['target', 'export', 'options']

function checkModule(v: Record<string, unknown>, at: string, extra: readonly string[]): { path: string; want: string; got: unknown } | undefined {
  for (const k of Object.keys(v)) if (!MODULE_KEYS.includes(k) && !extra.includes(k)) return { path: `${at}.${k}`, want: 'no such key (target, export, options, timeoutMs)', got: v[k] }
  if (typeof v.target !== 'string' || v.target === '') return { path: `${at}.target`, want: 'a non-empty module specifier or path', got: v.target }
  if (v.export !== undefined && (typeof v.export !== 'string' || v.export === '')) return { path: `${at}.export`, want: 'a non-empty export name', got: v.export }
  return undefined
}

/** The first malformed place of a spec (its path and what it must be), or undefined. */
export function checkStageSpec(v: unknown, at: string): { path: string; want: string; got: unknown } | undefined {
  if (!isObject(v)) return { path: at, want: 'a stage spec: { target }, { when, stage } or { parallel }', got: v }
  if (v.timeoutMs !== undefined && !(typeof v.timeoutMs === 'number' && Number.isInteger(v.timeoutMs) && v.timeoutMs >= 1 && v.timeoutMs <= 3_600_000)) {
    return { path: `${at}.timeoutMs`, want: 'an integer from 1 to 3600000', got: v.timeoutMs }
  }
  if (v.name !== undefined && (typeof v.name !== 'string' || v.name === '' || 'target' in v)) return { path: `${at}.name`, want: 'a non-empty string, on { when } and { parallel } only (a module stage names itself)', got: v.name }
  if ('when' in v || 'stage' in v) {
    for (const k of Object.keys(v)) if (!['when', 'stage', 'timeoutMs', 'name'].includes(k)) return { path: `${at}.${k}`, want: 'no such key (when, stage, timeoutMs, name)', got: v[k] }
    if (!isObject(v.when)) return { path: `${at}.when`, want: 'a predicate module { target, export?, options? }', got: v.when }
    return checkModule(v.when, `${at}.when`, []) ?? checkStageSpec(v.stage, `${at}.stage`)
  }
  if ('parallel' in v) {
    for (const k of Object.keys(v)) if (!['parallel', 'timeoutMs', 'name'].includes(k)) return { path: `${at}.${k}`, want: 'no such key (parallel, timeoutMs, name)', got: v[k] }
    if (!Array.isArray(v.parallel) || v.parallel.length === 0) return { path: `${at}.parallel`, want: 'a non-empty array of stage specs', got: v.parallel }
    for (const [i, s] of (v.parallel as unknown[]).entries()) {
      const p = checkStageSpec(s, `${at}.parallel[${i}]`)
      if (p) return p
    }
    return undefined
  }
  return checkModule(v, at, ['timeoutMs'])
}

/** Every module a list of specs names (stages and predicates), for the TypeScript loader. */
export function stageTargets(specs: readonly StageSpec[]): string[] {
  const out: string[] = []
  const walk = (s: StageSpec): void => {
    if ('parallel' in s) s.parallel.forEach(walk)
    else if ('when' in s) {
      out.push(s.when.target)
      walk(s.stage)
    } else out.push(s.target)
  }
  specs.forEach(walk)
  return out
}

async function factoryOf(m: ModuleSpec, fallback: string, fail: (why: string, cause?: unknown) => never): Promise<(options: unknown) => unknown> {
  const url = m.target.startsWith('file:') || !isAbsolute(m.target) ? m.target : pathToFileURL(m.target).href
  let mod: Record<string, unknown>
  try {
    mod = (await import(url)) as Record<string, unknown>
  } catch (cause) {
    return fail('cannot load the module', cause)
  }
  const name = m.export ?? (typeof mod[fallback] === 'function' ? fallback : 'default')
  const f = mod[name]
  if (typeof f !== 'function') return fail(m.export === undefined ? `exports no '${fallback}' or default function` : `exports no function '${m.export}'`)
  return f as (options: unknown) => unknown
}

/** Builds the stage a spec names; `index` and `at` locate it in the list for StageLoadError. */
export async function loadStageSpec(spec: StageSpec, index: number, at: string): Promise<Stage> {
  const failAt = (target: string, where: string) => (why: string, cause?: unknown): never => {
    throw new StageLoadError(index, target, `${where} (${target}): ${why}`, cause === undefined ? undefined : { cause })
  }
  let stage: Stage
  if ('parallel' in spec) {
    const branches: Stage[] = []
    for (const [i, s] of spec.parallel.entries()) branches.push(await loadStageSpec(s, index, `${at}.parallel[${i}]`))
    stage = spec.name === undefined ? parallel(branches) : parallel(branches, spec.name)
  } else if ('when' in spec) {
    const fail = failAt(spec.when.target, `${at}.when`)
    const factory = await factoryOf(spec.when, 'createPredicate', fail)
    let predicate: unknown
    try {
      predicate = await factory(spec.when.options)
    } catch (cause) {
      return fail('the factory threw', cause)
    }
    if (typeof predicate !== 'function') return fail('the factory did not return a predicate function (event, context) => boolean')
    const inner = await loadStageSpec(spec.stage, index, `${at}.stage`)
    stage = spec.name === undefined ? when(predicate as EventPredicate, inner) : when(predicate as EventPredicate, inner, spec.name)
  } else {
    const fail = failAt(spec.target, at)
    const factory = (await factoryOf(spec, 'createStage', fail)) as StageFactory
    try {
      stage = await factory(spec.options)
    } catch (cause) {
      return fail('the factory threw', cause)
    }
    if (stage === null || typeof stage !== 'object' || typeof stage.process !== 'function') return fail('the factory did not return an object with a process(event) method')
  }
  return spec.timeoutMs === undefined ? stage : withTimeout(stage, spec.timeoutMs)
}
