// A writer's id from its slot (slot = ring consumer id = metrics row): the one naming of writers,
// used by the pool, its events and logs, and the HTTP server's per-writer series.

/** `writer-1` for slot 0: ids count from 1, as people do. */
export const writerId = (slot: number): string => `writer-${slot + 1}`
