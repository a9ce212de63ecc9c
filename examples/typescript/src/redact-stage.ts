// A custom stage: runs in each writer thread, after validation and enrichment, on every event.
// It removes fields that must not be stored and drops health-check noise.
import type { Stage, StageFactory } from 'ringside'

export interface RedactOptions {
  /** Field names to remove from every event. */
  readonly fields: readonly string[]
}

export const createStage: StageFactory = (options) => {
  const { fields } = options as RedactOptions
  const stage: Stage = {
    name: 'redact',
    process(event) {
      if (event['path'] === '/healthz') return null // dropped: counted as filtered in the report
      const kept = { ...event }
      for (const f of fields) delete kept[f]
      return kept
    },
  }
  return stage
}
