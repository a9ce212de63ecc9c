// Runs a fixture app as a child process with `node --import <register>` (through a bootstrap that
// registers tsx first, since the workspace ships TypeScript), in a fresh copy of
// the fixture folder whose SQLite file the test then reads.

import { execFile, spawn } from 'node:child_process'
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createStore, type EventRecord, type QueryFilter } from '@ringside/storage'

/** The register hook behind the workspace's tsx bootstrap. */
export const REGISTER = new URL('./fixtures/register.mjs', import.meta.url).href
const APP = fileURLToPath(new URL('./fixtures/app', import.meta.url))

export interface AppRun {
  readonly dir: string
  readonly db: string
  readonly code: number | null
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
}

/** A fresh copy of the fixture app. */
export function appDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-instrument-'))
  cpSync(APP, dir, { recursive: true })
  return dir
}

/** Runs `entry` of a fixture copy under the register hook; resolves when it exits. */
export function runApp(entry: string, env: Record<string, string> = {}, dir = appDir()): Promise<AppRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', REGISTER, entry],
      { cwd: dir, env: { ...process.env, RINGSIDE_STORE: 'events.db', RINGSIDE_MAX_CALLS_PER_SECOND: '0', ...env }, timeout: 90_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string }) | null
        resolve({ dir, db: join(dir, 'events.db'), code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, signal: e?.signal ?? null, stdout, stderr })
      },
    )
  })
}

/** Every stored event matching `filter`, oldest first. */
export async function storedEvents(db: string, filter: QueryFilter = {}): Promise<Record<string, unknown>[]> {
  const store = await createStore({ kind: 'sqlite', path: db })
  try {
    return (await store.query(filter)).map((r: EventRecord) => r.event)
  } finally {
    await store.close()
  }
}

/** Starts `entry` under the register hook, waits for `ready` on its stdout, sends `signal`, and resolves when it exits. */
export function signalApp(entry: string, signal: NodeJS.Signals, env: Record<string, string> = {}): Promise<AppRun> {
  const dir = appDir()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', REGISTER, entry], { cwd: dir, env: { ...process.env, RINGSIDE_STORE: 'events.db', RINGSIDE_MAX_CALLS_PER_SECOND: '0', ...env } })
    let stdout = ''
    let stderr = ''
    let sent = false
    const limit = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`${entry} did not print ready and exit within 90 s`))), 90_000)
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
      if (!sent && stdout.includes('ready')) {
        sent = true
        child.kill(signal)
      }
    })
    child.on('exit', (code, sig) => {
      clearTimeout(limit)
      resolve({ dir, db: join(dir, 'events.db'), code, signal: sig, stdout, stderr })
    })
  })
}
