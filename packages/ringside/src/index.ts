// Public surface of `ringside`, the one package an application installs: the ring, the pipeline
// manager, store specs and adapters, stage types, every typed error and the types of options,
// state, metrics, health and reports, re-exported from the four packages it is made of.
export * from '@ringside/core-ringbuffer'
export * from '@ringside/storage'
export * from '@ringside/async-writer'
export * from '@ringside/pipeline-manager'
// Both the ring's package and the manager's export RingBuffer and PriorityRing; name the one binding explicitly.
export { PriorityRing, RingBuffer } from '@ringside/core-ringbuffer'
