// The ring a pipeline drains: a plain RingBuffer, or a PriorityRing (three sub-rings under one
// budget). Most of the pipeline reads it as one (pressure, stats added up, close, takeover); what
// is kept per ring id (the store's count by ring, the exit journal's records, the keys of leftover
// events) goes through its sub-rings, listed here with their priority.

import { PRIORITIES, PriorityRing, RingBuffer, type Priority } from '@ringside/core-ringbuffer'

/** What `PipelineManager.start` takes as `ring`. */
export type PipelineRing = RingBuffer | PriorityRing

/** One ring of the pipeline's: the ring itself, or a sub-ring of a priority ring with its priority. */
export interface SubRing {
  readonly priority: Priority | undefined
  readonly ring: RingBuffer
}

/** The rings events are kept in: the ring itself, or a priority ring's sub-rings, high first. */
export function subRingsOf(ring: PipelineRing): readonly SubRing[] {
  if (ring instanceof RingBuffer) return [{ priority: undefined, ring }]
  return [...PRIORITIES].reverse().map((priority) => ({ priority, ring: ring.rings[priority] }))
}

export function isPipelineRing(x: unknown): x is PipelineRing {
  return x instanceof RingBuffer || x instanceof PriorityRing
}
