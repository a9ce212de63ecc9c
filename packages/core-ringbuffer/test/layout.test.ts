import { describe, expect, it } from 'vitest'
import * as L from '../src/layout.js'

// Pins the shared-memory layout: a change here changes what every attached thread reads.
describe('layout', () => {
  it('keeps every header word inside the header and each hot cursor on its own cache line', () => {
    const hot = [L.H_HEAD, L.H_CLAIM, L.H_TAIL, L.H_DATA_SEQ, L.H_CLOSED]
    for (const w of hot) expect(w % L.LINE).toBe(0)
    expect(new Set(hot.map((w) => Math.floor(w / L.LINE))).size).toBe(hot.length)
    const all = Object.entries(L).filter(([k]) => k.startsWith('H_')).map(([, v]) => v as number)
    for (const w of all) expect(w).toBeLessThan(L.HEADER_WORDS)
    expect(new Set(all).size).toBe(all.length)
  })

  it('pins the header word indices and the layout version', () => {
    expect({
      version: L.LAYOUT_VERSION,
      magic: L.MAGIC,
      head: L.H_HEAD,
      wraps: L.H_HEAD_WRAPS,
      claim: L.H_CLAIM,
      lock: L.H_LOCK,
      claimFrom: L.H_CLAIM_FROM,
      readsBase: L.H_READS_BASE,
      tail: L.H_TAIL,
      dataSeq: L.H_DATA_SEQ,
      dataWaiters: L.H_DATA_WAITERS,
      spaceSeq: L.H_SPACE_SEQ,
      spaceWaiters: L.H_SPACE_WAITERS,
      closed: L.H_CLOSED,
      headerWords: L.HEADER_WORDS,
    }).toEqual({
      version: 3,
      magic: 0x52535242,
      head: 16,
      wraps: 17,
      claim: 32,
      lock: 33,
      claimFrom: 34,
      readsBase: 35,
      tail: 48,
      dataSeq: 64,
      dataWaiters: 65,
      spaceSeq: 66,
      spaceWaiters: 67,
      closed: 80,
      headerWords: 96,
    })
  })

  it('pins the slot states, which must fit below the turn shift', () => {
    const states = [L.S_FREE, L.S_PUBLISHED, L.S_CLAIMED, L.S_DONE, L.S_EVICTED, L.S_ABANDONED]
    expect(states).toEqual([0, 2, 3, 4, 5, 6])
    for (const s of states) expect(s).toBeLessThan(L.TURN_SHIFT)
    // 8 * size must stay far below 2^31 for wrapping comparisons to be unambiguous
    expect(L.TURN_SHIFT * L.MAX_SIZE * 2).toBeLessThan(2 ** 31)
  })

  it('aligns every region to 8 bytes so Float64 and BigInt64 views are valid', () => {
    for (const [size, bytes, consumers] of [[1, 64, 1], [8, 100, 3], [1024, 512, 64], [1 << 16, 513, 7]] as const) {
      const r = L.regionsFor(size, bytes, consumers)
      const starts = [r.header, r.counters, r.seqs, r.times, r.turn, r.owner, r.ownerPos, r.lens, r.pending, r.data, r.policy, r.keep]
      for (const s of starts) expect(s % 8).toBe(0)
      expect([...starts].sort((a, b) => a - b)).toEqual(starts)
      expect(r.totalBytes).toBeGreaterThanOrEqual(r.data + size * bytes)
    }
  })

  it('pins the drop reasons and their counter slots', () => {
    expect(L.DROP_REASONS).toEqual(['full', 'too_large', 'not_serializable', 'invalid_event', 'closed', 'timeout', 'evicted', 'abandoned', 'sampled'])
    expect(L.C_CLAIMED).toBe(8)
    expect(L.C_COMMITTED).toBe(9)
    expect(L.C_SAMPLED).toBe(10)
    expect(L.C_VOIDED).toBe(11)
    expect(L.COUNTER_WORDS).toBe(12)
    // every reason has its own counter, none shared with the consumer totals
    const slots = L.DROP_REASONS.map((r) => L.DROP_INDEX[r])
    expect(new Set([...slots, L.C_CLAIMED, L.C_COMMITTED, L.C_VOIDED]).size).toBe(slots.length + 3)
    for (const s of slots) expect(s).toBeLessThan(L.COUNTER_WORDS)
  })

  it('pins the sampling policy words, appended after the slots so no earlier region moved', () => {
    expect([L.P_SEQ, L.P_EVERY, L.P_ABOVE, L.P_KEEP_LEN, L.P_ABOVE_PPM, L.POLICY_WORDS, L.MAX_KEEP_BYTES]).toEqual([0, 1, 2, 3, 4, 16, 1024])
    const r = L.regionsFor(1024, 512, 64)
    expect(r.policy).toBeGreaterThanOrEqual(r.data + 1024 * 512)
    expect(r.keep).toBe(r.policy + L.POLICY_WORDS * 4)
    expect(r.totalBytes).toBeGreaterThanOrEqual(r.keep + L.MAX_KEEP_BYTES)
  })
})
