// A seam for testing the cursor protocol: the points where a thread that reads the ring's shared
// cursors could lose the CPU while other threads move them. Nothing sets it in production (each
// site costs one check of a module variable); tests set it to run other parties' steps right
// there (producers writing and evicting, commits, stats), which is how a preemption interleaves them.

/**
 * `cursor`: between two reads of shared cursors (HEAD, TAIL, CLAIM). `slot`: at each step of a scan
 * over positions. `sweep`: between freeing a slot and moving TAIL past it. `step`: between two
 * writes of a claim (a slot marked claimed, its owner, the claim cursor, the read count), where a
 * thread that dies leaves the others to finish or undo its work.
 */
export type PreemptionSite = 'cursor' | 'slot' | 'sweep' | 'step'

/** The hook run at every preemption site, or undefined (production). */
export let preemption: ((site: PreemptionSite) => void) | undefined

/** Sets (or clears, with undefined) the hook run at every preemption site of this thread. */
export function setPreemption(hook: ((site: PreemptionSite) => void) | undefined): void {
  preemption = hook
}
