import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { connect } from '@nats-io/transport-node'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { StoreSpec } from '@ringside/storage'
import { freshSchema, startNatsCluster, startPgServer, type NatsNode, type PgServer } from '@ringside/storage/testing'
import { until, untilAsync } from './fixtures/until.js'

// A fleet: three separate Node processes, each embedding its own pipeline with two writers, write
// into one shared engine on real servers while a writer of each process is killed. Afterwards every
// accepted event of every process is in the store exactly once. Against JetStream the engine is a
// three-node cluster with the stream replicated three times, and one node (the stream's leader) is
// killed and later restarted under the fleet; each pipeline's /readyz shows the outage while it lasts.

const APP = fileURLToPath(new URL('./fixtures/fleet-app.ts', import.meta.url))

interface Progress { accepted: number; refused: number; stored: number; restarts: number }
interface Done { accepted: number; refused: number; report: { accepted: number; stored: number; evicted: number; abandoned: number; inFlight: number; balanced: boolean; duplicates: number } }
interface HealthCheck { name: string; status: string; reason: string }

/** One fleet member: a child process running fixtures/fleet-app.ts, driven over IPC. */
class Member {
  readonly name: string
  readonly child: ChildProcess
  ringId = ''
  url = ''
  progress: Progress = { accepted: 0, refused: 0, stored: 0, restarts: 0 }
  done: Done | undefined
  output = ''
  #waiters: { kind: string; resolve: (m: Record<string, unknown>) => void }[] = []

  private constructor(name: string, child: ChildProcess) {
    this.name = name
    this.child = child
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()))
    child.on('message', (m: Record<string, unknown>) => {
      if (m.kind === 'progress') this.progress = m as unknown as Progress
      if (m.kind === 'ready') {
        this.ringId = m.ringId as string
        this.url = m.url as string
      }
      if (m.kind === 'done') this.done = m as unknown as Done
      for (const w of this.#waiters.filter((x) => x.kind === m.kind)) w.resolve(m)
      this.#waiters = this.#waiters.filter((x) => x.kind !== m.kind)
    })
  }

  static async start(name: string, store: StoreSpec, rate: number): Promise<Member> {
    const child = spawn(process.execPath, ['--import', 'tsx', APP], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, RINGSIDE_FLEET: JSON.stringify({ name, store, rate, storeProbeMs: 250 }) },
    })
    const m = new Member(name, child)
    await m.#next('ready', 120_000)
    return m
  }

  #next(kind: string, ms: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no '${kind}' within ${ms} ms; output:\n${this.output}`)), ms)
      const onExit = (code: number | null) => reject(new Error(`${this.name} exited (${code}) waiting for '${kind}'; output:\n${this.output}`))
      this.child.once('exit', onExit)
      this.#waiters.push({
        kind,
        resolve: (msg) => {
          clearTimeout(timer)
          this.child.off('exit', onExit)
          resolve(msg)
        },
      })
    })
  }

  async killWriter(slot: number): Promise<void> {
    const killed = this.#next('killed', 30_000)
    this.child.send({ cmd: 'kill-writer', slot })
    await killed
  }

  async stop(): Promise<Done> {
    const done = this.#next('done', 120_000)
    this.child.send({ cmd: 'stop' })
    await done
    await new Promise((r) => (this.child.exitCode !== null ? r(undefined) : this.child.once('exit', r)))
    return this.done!
  }

  /** The pipeline's store health check, as its /readyz tells it. */
  async storeCheck(): Promise<HealthCheck | undefined> {
    const body = (await (await fetch(`${this.url}readyz`)).json()) as { checks?: HealthCheck[] }
    return body.checks?.find((c) => c.name === 'store')
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}

/** Starts three members, lets them store, kills writer 0 of each, and waits until each restarted and stored more. */
async function runFleetWithWriterKills(store: StoreSpec, rate: number, fleet: Member[]): Promise<void> {
  fleet.push(...(await Promise.all(['a', 'b', 'c'].map((n) => Member.start(n, store, rate)))))
  expect(new Set(fleet.map((m) => m.ringId)).size).toBe(3)
  await until(() => fleet.every((m) => m.progress.stored >= rate), 60_000, 'every member stored its first events')
  const before = fleet.map((m) => m.progress.stored)
  await Promise.all(fleet.map((m) => m.killWriter(0)))
  await until(
    () => fleet.every((m, i) => m.progress.restarts >= 1 && m.progress.stored >= before[i]! + rate),
    60_000,
    'every member restarted its writer and stored more',
  )
}

/** Checks one process's events as found in the store: `ns` are the `n` of every event of its ring there. */
function expectExactlyOnce(member: Member, done: Done, ns: number[]): void {
  expect(done.report, `${member.name}: ${JSON.stringify(done.report)}`).toMatchObject({ accepted: done.accepted, evicted: 0, abandoned: 0, inFlight: 0, balanced: true })
  expect(done.accepted).toBeGreaterThan(0)
  const sorted = [...ns].sort((x, y) => x - y)
  expect(sorted.length, `${member.name}: events of ring ${member.ringId} in the store`).toBe(done.accepted)
  // Sorted, exactly 0 .. accepted - 1: nothing missing, nothing twice.
  const firstWrong = sorted.findIndex((n, i) => n !== i)
  expect(firstWrong, `${member.name}: first n out of place`).toBe(-1)
}

describe('a fleet of three processes into one PostgreSQL', () => {
  let server: PgServer
  const fleet: Member[] = []
  beforeAll(async () => {
    server = await startPgServer()
  }, 300_000)
  afterAll(async () => {
    for (const m of fleet) m.kill()
    await server?.stop()
  })

  it('stores every accepted event of every process exactly once while a writer of each is killed', async () => {
    const schema = freshSchema()
    await runFleetWithWriterKills({ kind: 'postgres', url: server.url, schema }, 3_000, fleet)
    const results = await Promise.all(fleet.map((m) => m.stop()))

    const client = new pg.Client({ connectionString: server.url })
    await client.connect()
    try {
      for (const [i, m] of fleet.entries()) {
        const { rows } = await client.query<{ n: number }>(`SELECT (body->>'n')::int AS n FROM "${schema}".events WHERE ring_id = $1`, [m.ringId])
        expectExactlyOnce(m, results[i]!, rows.map((r) => r.n))
        // The report's stored count comes from the store itself (countByRing).
        expect(results[i]!.report.stored).toBe(results[i]!.accepted)
      }
      const { rows } = await client.query<{ c: string }>(`SELECT count(*) AS c FROM "${schema}".events`)
      expect(Number(rows[0]!.c)).toBe(results.reduce((s, r) => s + r.accepted, 0))
      console.log(`fleet/postgres: ${results.map((r, i) => `${fleet[i]!.name} ${r.accepted}`).join(', ')} events, each stored once`)
    } finally {
      await client.end()
    }
  }, 240_000)
})

describe('a fleet of three processes into one JetStream stream on a three-node cluster', () => {
  let cluster: Awaited<ReturnType<typeof startNatsCluster>>
  const fleet: Member[] = []
  beforeAll(async () => {
    cluster = await startNatsCluster(3)
  }, 300_000)
  afterAll(async () => {
    for (const m of fleet) m.kill()
    await cluster?.stop()
  })

  it('keeps every accepted event once while a writer of each process and the stream leader are killed; health shows the outage', async () => {
    const stream = 'FLEET'
    const subject = 'fleet.events'
    const store: StoreSpec = { kind: 'jetstream', servers: cluster.urls, stream, subject, createStream: true, replicas: 3, ackTimeoutMs: 2_000 }
    await runFleetWithWriterKills(store, 1_000, fleet)

    const nc = await connect({ servers: cluster.urls })
    try {
      const jsm = await jetstreamManager(nc)
      const leader = (await jsm.streams.info(stream)).cluster?.leader
      const victim = cluster.nodes.find((n) => n.name === leader) as NatsNode
      expect(victim).toBeDefined()
      await untilAsync(async () => (await Promise.all(fleet.map((m) => m.storeCheck()))).every((c) => c?.status === 'healthy'), 30_000, 'every pipeline healthy before the outage')

      // The outage: every pipeline's readiness shows it (degraded: the ring absorbs, the app goes on).
      await victim.kill()
      const seen = new Map<string, HealthCheck>()
      await untilAsync(async () => {
        for (const m of fleet) {
          const c = await m.storeCheck()
          if (c && c.status !== 'healthy') seen.set(m.name, c)
        }
        return seen.size === fleet.length
      }, 30_000, 'every pipeline showed the outage')
      for (const [name, c] of seen) console.log(`fleet/jetstream: ${name} during the outage: ${c.status}: ${c.reason}`)
      const during = fleet.map((m) => m.progress.accepted)
      await until(() => fleet.every((m, i) => m.progress.accepted >= during[i]! + 2_000), 60_000, 'the fleet went on writing during the outage')

      // The node comes back; once it caught up every pipeline is healthy again.
      await victim.start()
      await untilAsync(async () => (await Promise.all(fleet.map((m) => m.storeCheck()))).every((c) => c?.status === 'healthy'), 60_000, 'every pipeline healthy again')
      const after = fleet.map((m) => m.progress.stored)
      await until(() => fleet.every((m, i) => m.progress.stored >= after[i]! + 1_000), 60_000, 'the fleet stored more after the restart')

      const results = await Promise.all(fleet.map((m) => m.stop()))
      const total = results.reduce((s, r) => s + r.accepted, 0)
      const held = (await jsm.streams.info(stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0
      expect(held, 'messages on the subject: one per accepted event').toBe(total)

      // Read the whole subject back in stream order and group it by ring.
      const byRing = new Map<string, number[]>()
      const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject })
      const messages = await consumer.consume()
      let read = 0
      for await (const msg of messages) {
        const record = msg.json<{ ringId: string; event: { n: number } }>()
        const ns = byRing.get(record.ringId) ?? []
        ns.push(record.event.n)
        byRing.set(record.ringId, ns)
        if (++read === held) break
      }
      expect(read).toBe(held)
      expect([...byRing.keys()].sort()).toEqual(fleet.map((m) => m.ringId).sort())
      for (const [i, m] of fleet.entries()) expectExactlyOnce(m, results[i]!, byRing.get(m.ringId) ?? [])
      console.log(`fleet/jetstream: killed ${victim.name} (leader); ${results.map((r, i) => `${fleet[i]!.name} ${r.accepted}`).join(', ')} events, each in the stream once`)
    } finally {
      await nc.close()
    }
  }, 300_000)
})
