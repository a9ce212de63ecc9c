// The exit journal's file format. A journal opens with a header saying it is one, which store it
// belongs to and who wrote it; what the ring still holds unstored when the process goes away is
// appended to it as frames, each checksummed, so a torn or corrupted file gives up only its bad
// records: the reader resynchronises on the next frame and reports what it skipped.
//
// Header: magic u32 'RSJH' | version u32 | JSON length u32 | crc32(JSON) u32 | JSON (JournalHeader)
// Frame:  magic u32 'RSJ1' | payload length u32 | crc32(payload) u32 | payload
// Payload: ring id (16 bytes) | seq f64 | capturedAt f64 | encoded event (the ring's own bytes)

import { closeSync, constants, fdatasyncSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { crc32 } from 'node:zlib'
import { decodeEvent, type PendingRecord } from '@ringside/core-ringbuffer'
import type { EventRecord } from '@ringside/storage'
import { JournalError } from './errors.js'

const HEADER_MAGIC = 0x484a5352 // 'RSJH' little-endian
const MAGIC = 0x314a5352 // 'RSJ1' little-endian
const FRAME = 12
const FIXED = 16 + 8 + 8
const HEADER_FIXED = 16
const HEADER_MAX = 64 * 1024

/** The journal format this code writes and reads. */
export const JOURNAL_VERSION = 2

/** Who a journal belongs to: the store its events are for, and the process and ring that opened it. */
export interface JournalHeader {
  /** The store's identity (see storeIdentity): a journal is replayed only into the same store. */
  readonly store: string
  readonly ringId: string
  readonly pid: number
  readonly host: string
  /** ms since the epoch. */
  readonly createdAt: number
}

function encodeHeader(h: JournalHeader): Buffer {
  const json = Buffer.from(JSON.stringify(h))
  const buf = Buffer.allocUnsafe(HEADER_FIXED + json.length)
  buf.writeUInt32LE(HEADER_MAGIC, 0)
  buf.writeUInt32LE(JOURNAL_VERSION, 4)
  buf.writeUInt32LE(json.length, 8)
  buf.writeUInt32LE(crc32(json), 12)
  json.copy(buf, HEADER_FIXED)
  return buf
}

/** The header at the start of `buf` and its length in bytes; undefined when there is no valid one. */
function decodeHeader(buf: Buffer): { header: JournalHeader; length: number } | undefined {
  if (buf.length < HEADER_FIXED || buf.readUInt32LE(0) !== HEADER_MAGIC || buf.readUInt32LE(4) !== JOURNAL_VERSION) return undefined
  const len = buf.readUInt32LE(8)
  if (len > HEADER_MAX || HEADER_FIXED + len > buf.length) return undefined
  const json = buf.subarray(HEADER_FIXED, HEADER_FIXED + len)
  if (crc32(json) !== buf.readUInt32LE(12)) return undefined
  try {
    const h = JSON.parse(json.toString('utf8')) as Partial<JournalHeader>
    if (typeof h.store !== 'string' || typeof h.ringId !== 'string' || typeof h.pid !== 'number') return undefined
    return { header: h as JournalHeader, length: HEADER_FIXED + len }
  } catch {
    return undefined
  }
}

function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off)
}

/**
 * Creates a journal holding only `header`, synced, in place of whatever is at `path`: written to
 * a private temporary file first and renamed over, so the path never holds half a header. The
 * caller has checked that what it replaces is a journal it may replace.
 */
export function createJournal(path: string, header: JournalHeader): void {
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'wx')
  try {
    writeAll(fd, encodeHeader(header))
    fdatasyncSync(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
  closeSync(fd)
  try {
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
}

/** Whether the file at `path` is exactly a journal holding only `header`: nothing was appended to it. */
export function holdsOnly(path: string, header: JournalHeader): boolean {
  const expected = encodeHeader(header)
  const st = statSync(path, { throwIfNoEntry: false })
  return st !== undefined && st.isFile() && st.size === expected.length && readFileSync(path).equals(expected)
}

/**
 * Appends records of one ring to the journal at `path` and syncs it. Synchronous. The journal
 * must exist (createJournal); if it was deleted meanwhile and `recreate` is given, a new one with
 * that header is created (never over a file that appeared in its place). Returns bytes appended.
 */
export function appendJournal(path: string, ringId: string, records: readonly PendingRecord[], recreate?: JournalHeader): number {
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
  let fd: number
  try {
    // No O_CREAT: appending frames to a file without a header would make it unreadable.
    fd = openSync(path, constants.O_RDWR | constants.O_APPEND)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || recreate === undefined) throw err
    fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL)
    try {
      writeAll(fd, encodeHeader(recreate))
    } catch (e) {
      closeSync(fd)
      throw e
    }
  }
  try {
    // Whatever is at the path now must still be a journal: never append to a file put in its place.
    const magic = Buffer.alloc(4)
    if (!fstatSync(fd).isFile() || readSync(fd, magic, 0, 4, 0) !== 4 || magic.readUInt32LE(0) !== HEADER_MAGIC) {
      throw new JournalError('not_a_journal', path, `${path} is no longer a Ringside journal; nothing was appended to it`)
    }
    writeAll(fd, buf)
    fdatasyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return size
}

/** What reading a journal found. */
export interface JournalContents {
  /** Undefined when there is no file at the path. */
  readonly header?: JournalHeader
  readonly records: EventRecord[]
  /** Bytes that did not form a valid record (torn tail, corruption); they were skipped. */
  readonly corruptBytes: number
  /** Runs of bad bytes skipped (each one resynchronised on the next valid frame). */
  readonly corruptRegions: number
}

/**
 * Reads every valid record of a journal; no records when the file is absent. Throws JournalError
 * `not_a_journal` when something else is at the path (no valid header): it is left untouched.
 */
export function readJournal(path: string): JournalContents {
  const st = statSync(path, { throwIfNoEntry: false })
  if (st === undefined) return { records: [], corruptBytes: 0, corruptRegions: 0 }
  if (!st.isFile()) throw new JournalError('not_a_journal', path, `${path} is not a file, so not a Ringside journal`)
  const buf = readFileSync(path)
  const head = decodeHeader(buf)
  if (head === undefined) {
    throw new JournalError('not_a_journal', path, `${path} is not a Ringside journal (no journal header in its ${buf.length} bytes); it is left as it is: choose another journal.path`)
  }
  const records: EventRecord[] = []
  let corruptBytes = 0
  let corruptRegions = 0
  let inBad = false
  let at = head.length
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
  return { header: head.header, records, corruptBytes, corruptRegions }
}
