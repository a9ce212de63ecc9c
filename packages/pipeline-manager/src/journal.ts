// The exit journal: what the ring still holds unstored when the process goes away is appended to
// a file synchronously, and the next start replays it into the store before anything else. Each
// record is framed and checksummed, so a torn or corrupted file gives up only its bad records:
// the reader resynchronises on the next frame and reports what it skipped.
//
// Frame: magic u32 'RSJ1' | payload length u32 | crc32(payload) u32 | payload
// Payload: ring id (16 bytes) | seq f64 | capturedAt f64 | encoded event (the ring's own bytes)

import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs'
import { crc32 } from 'node:zlib'
import { decodeEvent, type PendingRecord } from '@ringside/core-ringbuffer'
import type { EventRecord } from '@ringside/storage'

const MAGIC = 0x314a5352 // 'RSJ1' little-endian
const FRAME = 12
const FIXED = 16 + 8 + 8

/** Appends records of one ring to the journal and syncs it to disk. Synchronous. Returns bytes written. */
export function appendJournal(path: string, ringId: string, records: readonly PendingRecord[]): number {
  if (records.length === 0) return 0
  let size = 0
  for (const r of records) size += FRAME + FIXED + r.data.length
  const buf = Buffer.allocUnsafe(size)
  const id = Buffer.from(ringId, 'hex')
  let at = 0
  for (const r of records) {
    const payloadLen = FIXED + r.data.length
    const p = at + FRAME
    id.copy(buf, p)
    buf.writeDoubleLE(r.seq, p + 16)
    buf.writeDoubleLE(r.capturedAt, p + 24)
    buf.set(r.data, p + FIXED)
    buf.writeUInt32LE(MAGIC, at)
    buf.writeUInt32LE(payloadLen, at + 4)
    buf.writeUInt32LE(crc32(buf.subarray(p, p + payloadLen)), at + 8)
    at = p + payloadLen
  }
  const fd = openSync(path, 'a')
  try {
    for (let off = 0; off < size; ) off += writeSync(fd, buf, off, size - off)
    fdatasyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return size
}

/** What reading a journal found. */
export interface JournalContents {
  readonly records: EventRecord[]
  /** Bytes that did not form a valid record (torn tail, corruption); they were skipped. */
  readonly corruptBytes: number
  /** Runs of bad bytes skipped (each one resynchronised on the next valid frame). */
  readonly corruptRegions: number
}

/** Reads every valid record of a journal (none if the file is absent). */
export function readJournal(path: string): JournalContents {
  if (!existsSync(path)) return { records: [], corruptBytes: 0, corruptRegions: 0 }
  const buf = readFileSync(path)
  const records: EventRecord[] = []
  let corruptBytes = 0
  let corruptRegions = 0
  let inBad = false
  let at = 0
  const valid = (o: number): number => {
    // The length of the frame at o if it is whole and its checksum holds, else -1.
    if (o + FRAME > buf.length || buf.readUInt32LE(o) !== MAGIC) return -1
    const len = buf.readUInt32LE(o + 4)
    if (len < FIXED || o + FRAME + len > buf.length) return -1
    return crc32(buf.subarray(o + FRAME, o + FRAME + len)) === buf.readUInt32LE(o + 8) ? len : -1
  }
  while (at < buf.length) {
    const len = valid(at)
    if (len === -1) {
      corruptBytes++
      if (!inBad) corruptRegions++
      inBad = true
      at++
      continue
    }
    inBad = false
    const p = at + FRAME
    const ringId = buf.toString('hex', p, p + 16)
    const seq = buf.readDoubleLE(p + 16)
    const capturedAt = buf.readDoubleLE(p + 24)
    try {
      const event = decodeEvent(buf, p + FIXED, p + len)
      records.push({ key: `${ringId}:${seq}`, ringId, seq, capturedAt, event })
    } catch {
      corruptBytes += FRAME + len
      corruptRegions++
    }
    at = p + len
  }
  return { records, corruptBytes, corruptRegions }
}
