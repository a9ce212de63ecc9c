// The soak's user stage, loaded by every writer thread (`stages: [{ target: SOAK_STAGE_TARGET }]`):
// it passes events through, except those carrying the marker field, on which it fails the way a
// buggy stage would: `throw` throws, `hang` returns a promise that never settles, `exit` ends the
// writer thread with process.exit(7).

/** The `target` that names this stage in a pipeline's `stages`. */
// Built, this file is JavaScript beside its siblings; from sources (the tests) it is TypeScript.
export const SOAK_STAGE_TARGET = new URL(import.meta.url.endsWith('.ts') ? './soak-stage.ts' : './soak-stage.js', import.meta.url).href

/** The marker field, and what the stage does on an event carrying it. */
export const STAGE_FAULT_FIELD = 'soakStageFault'
export type StageFault = 'throw' | 'hang' | 'exit'

type Event = Record<string, unknown>

/** The stage factory a writer calls with `options` (unused: the marker field is fixed). */
export function createStage(): { name: string; process(event: Event): Event | Promise<Event> } {
  return {
    name: 'soak-faults',
    process(event) {
      const fault = event[STAGE_FAULT_FIELD] as StageFault | undefined
      if (fault === undefined) return event
      if (fault === 'throw') throw new Error(`soak stage: thrown on event n=${String(event.n)}`)
      if (fault === 'hang') return new Promise<Event>(() => undefined)
      if (fault === 'exit') process.exit(7)
      return event
    },
  }
}
