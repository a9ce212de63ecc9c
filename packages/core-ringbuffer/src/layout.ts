// The whole shared-memory layout of a ring in one place: header word indices, per-slot state
// encoding and the byte offsets of every region. Nothing else in the package hard-codes an offset;
// test/layout.test.ts pins these numbers so a change to them is a deliberate one.

/** Layout version written into the header; `attach` refuses a buffer of another version. */
export const LAYOUT_VERSION = 3
/** First header word of every ring: "RSRB" in ASCII, to reject a foreign SharedArrayBuffer. */
export const MAGIC = 0x52535242

/** Int32 words per 64-byte cache line. Hot words written by different parties sit on their own line. */
export const LINE = 16

// Header words (indices into an Int32Array over the header region).
// Line 0: immutable after create.
export const H_MAGIC = 0
export const H_VERSION = 1
export const H_SIZE = 2
export const H_MAX_EVENT_BYTES = 3
export const H_OVERFLOW = 4
export const H_BLOCK_TIMEOUT_MS = 5
export const H_MAX_CONSUMERS = 6
export const H_RING_ID = 8 // 4 words: 128-bit random ring id
// Line 1: producers' reservation cursor (compare-and-swap by every producer).
export const H_HEAD = LINE * 1
export const H_HEAD_WRAPS = LINE * 1 + 1 // times HEAD wrapped past 2^32
// Line 2: consumers' claim cursor and the claim lock (token = consumer id + 1), and what the
// lock holder's claim in progress started from: its first position and the low 32 bits of the
// read count before it, so a takeover can tell whether a claimer that died had counted its reads.
export const H_CLAIM = LINE * 2
export const H_LOCK = LINE * 2 + 1
export const H_CLAIM_FROM = LINE * 2 + 2
export const H_READS_BASE = LINE * 2 + 3
// Line 3: the free cursor: every position below TAIL is free for the next lap.
export const H_TAIL = LINE * 3
// Line 4: wake-ups. A producer only pays for notify when a consumer sleeps (DATA_WAITERS > 0).
export const H_DATA_SEQ = LINE * 4
export const H_DATA_WAITERS = LINE * 4 + 1
export const H_SPACE_SEQ = LINE * 4 + 2
export const H_SPACE_WAITERS = LINE * 4 + 3
// The position whose publication is worth waking a sleeping consumer for: a consumer gathering a
// batch sets it to the position that would fill the batch, an idle one to the next position, so a
// producer notifies once per batch and not once per event. The last waiter to set it wins; a
// waiter it overrides wakes at its own timeout, which every wait has.
export const H_WAKE_AT = LINE * 4 + 4
// Line 5: lifecycle.
export const H_CLOSED = LINE * 5
export const HEADER_WORDS = LINE * 6

/**
 * Per-slot state lives in `turn[slot]` as `8 * position + state` (32-bit wrapping), so a state is
 * always tied to the lap it belongs to and a stale compare-and-swap from an earlier lap fails
 * (no ABA). This is Vyukov's bounded-queue sequence trick with room for claim states.
 */
export const TURN_SHIFT = 8
export const S_FREE = 0 // free for the producer of this position
export const S_PUBLISHED = 2 // written, visible to consumers, unclaimed
export const S_CLAIMED = 3 // held by the consumer named in owner[slot]
export const S_DONE = 4 // committed: stored downstream
export const S_EVICTED = 5 // discarded by drop_oldest before any consumer claimed it
export const S_ABANDONED = 6 // reserved by a producer that never published it (it died, or its event was refused while encoding)
/** The largest ring whose turn values stay unambiguous in 32-bit wrapping arithmetic. */
export const MAX_SIZE = 1 << 24

/** Reasons an event is not stored, each with its own counter slot. */
export const DROP_REASONS = [
  'full',
  'too_large',
  'not_serializable',
  'invalid_event',
  'closed',
  'timeout',
  'evicted',
  'abandoned',
  'sampled', // refused by the sampling policy (sampling.ts); appended in layout version 3
] as const
export type DropReason = (typeof DROP_REASONS)[number]
// 64-bit counters (BigInt64Array indices): the first eight drop reasons, then consumer-side
// totals, then counters appended later (so no earlier index moved).
export const C_CLAIMED = 8
export const C_COMMITTED = 9
export const C_SAMPLED = 10
/** Reservations whose event was refused while encoding into the slot (counted under its reason, not as a write). */
export const C_VOIDED = 11
export const COUNTER_WORDS = 12
export const DROP_INDEX: Readonly<Record<DropReason, number>> = Object.freeze(
  Object.fromEntries(DROP_REASONS.map((r, i) => [r, r === 'sampled' ? C_SAMPLED : i])) as Record<DropReason, number>,
)

// The sampling policy (sampling.ts), in its own region after the slots' bytes: Int32 words, then
// the UTF-8 JSON list of always-kept types. Any thread may change it (setSampling); P_SEQ is a
// sequence lock (odd while a change is being written) and tells readers to refresh their copy.
export const P_SEQ = 0
export const P_EVERY = 1 // keep 1 in this many events of a type; 0 or 1: the policy is off
export const P_ABOVE = 2 // sample only while this many slots or more are in use
export const P_KEEP_LEN = 3 // bytes of the always-kept list
export const P_ABOVE_PPM = 4 // the level as given, in millionths (what `ring.sampling` reports)
export const POLICY_WORDS = 16
/** Room for the JSON list of always-kept types, bytes. */
export const MAX_KEEP_BYTES = 1024

export const OVERFLOW_CODES = { drop_newest: 0, drop_oldest: 1, block: 2 } as const
export type OverflowStrategy = keyof typeof OVERFLOW_CODES
export const OVERFLOW_NAMES: readonly OverflowStrategy[] = ['drop_newest', 'drop_oldest', 'block']

/** Byte offsets of each region for a ring of `size` slots. Every region starts 8-byte aligned. */
export interface Regions {
  readonly header: number
  readonly counters: number
  readonly turn: number
  readonly owner: number
  readonly ownerPos: number
  readonly lens: number
  readonly pending: number
  readonly seqs: number
  readonly times: number
  readonly data: number
  readonly policy: number
  readonly keep: number
  readonly totalBytes: number
}

const align8 = (n: number): number => (n + 7) & ~7

export function regionsFor(size: number, maxEventBytes: number, maxConsumers: number): Regions {
  let at = 0
  const take = (bytes: number): number => {
    const start = at
    at = align8(at + bytes)
    return start
  }
  const header = take(HEADER_WORDS * 4)
  const counters = take(COUNTER_WORDS * 8)
  const seqs = take(size * 8) // full 53-bit sequence of the record in the slot
  const times = take(size * 8) // capture time, ms since the epoch (fractional)
  const turn = take(size * 4)
  const owner = take(size * 4) // consumer id + 1 (claimed), -(id + 1) (handed over, not yet delivered)
  const ownerPos = take(size * 4) // the position the owner word belongs to
  const lens = take(size * 4) // encoded length in bytes
  const pending = take(maxConsumers * 4) // events handed to each consumer, not yet delivered
  const data = take(size * maxEventBytes)
  const policy = take(POLICY_WORDS * 4) // sampling policy words (layout version 3)
  const keep = take(MAX_KEEP_BYTES) // its always-kept types, UTF-8 JSON
  return { header, counters, turn, owner, ownerPos, lens, pending, seqs, times, data, policy, keep, totalBytes: at }
}
