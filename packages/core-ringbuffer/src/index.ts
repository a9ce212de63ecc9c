// Public surface of @ringside/core-ringbuffer.
export { RingBuffer, type PendingRecord, type RingHandle, type RingStats, type WriteDropReason, type WriteResult } from './ring-buffer.js'
export { decodeEvent } from './codec.js'
export { RingConsumer, type Claim, type ConsumerOptions, type RingRecord } from './consumer.js'
export { RingDecodeError, RingError, RingOptionError, type RingErrorCode } from './errors.js'
export { RING_DEFAULTS, type RingBufferOptions, type ResolvedRingOptions } from './options.js'
export { DROP_REASONS, type DropReason, type OverflowStrategy } from './layout.js'
export { type ResolvedSamplingPolicy, type SamplingPolicy } from './sampling.js'
export { PRIORITIES, PriorityConsumer, PriorityRing, claimByPriority, victimOf, type Priority, type PriorityClaim, type PriorityOverflow, type PriorityRingHandle, type PriorityRingOptions, type PriorityRingStats } from './priority-ring.js'
