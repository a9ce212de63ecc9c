// How full a ring is, as cheaply as it can be read from any thread: two Atomics loads and no
// allocation. What frees space is the sweep moving TAIL past committed slots, so fill is every
// position reserved (HEAD) and not yet freed (TAIL): ready, claimed, and committed-but-unswept.

import { H_HEAD, H_TAIL } from './layout.js'
import type { Views } from './internal/views.js'

/**
 * Slots in use, 0..size. TAIL is read before HEAD: HEAD only grows and TAIL never passes it, so the
 * difference is never negative; it can exceed size by the few slots a sweep freed (and producers
 * reused) before moving TAIL, which counts as full, not overfull (as stats() does).
 */
export function usedSlots(v: Views): number {
  const tail = Atomics.load(v.hdr, H_TAIL)
  const used = (Atomics.load(v.hdr, H_HEAD) - tail) | 0
  return used < 0 ? 0 : used > v.size ? v.size : used
}

/** Fill of the ring, 0..1: slots in use / size. */
export function pressureOf(v: Views): number {
  return usedSlots(v) / v.size
}
