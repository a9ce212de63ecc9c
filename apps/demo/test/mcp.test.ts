import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { RingBuffer } from '@ringside/core-ringbuffer'
import { PipelineManager } from '@ringside/pipeline-manager'
import { requestTree } from '../src/mcp.js'

// `ringside mcp` end to end: the SDK's own client spawns the command and talks to it over stdio,
// against a real SQLite store written by a real pipeline, and a running pipeline's HTTP address.

const dir = mkdtempSync(join(tmpdir(), 'ringside-mcp-'))
const db = join(dir, 'events.db')
const bin = fileURLToPath(new URL('../bin/ringside.mjs', import.meta.url))
let ringId = ''
let pipeline: PipelineManager | undefined

beforeAll(async () => {
  const ring = RingBuffer.create({ size: 1024 })
  ringId = ring.id
  for (let n = 0; n < 30; n++) ring.write({ type: 'call', pid: `<0.${n % 3}.0>`, module: 'Shop.Cart', function: 'add', arity: 2, n })
  // One request's calls: checkout -> pay -> charge (charge throws), as the instrument package records them.
  const req = [
    { type: 'call', callId: 1, parentId: 0, function: 'checkout' },
    { type: 'call', callId: 2, parentId: 1, function: 'pay' },
    { type: 'call', callId: 3, parentId: 2, function: 'charge' },
    { type: 'exception', callId: 3, parentId: 2, function: 'charge' },
    { type: 'return', callId: 2, parentId: 1, function: 'pay' },
    { type: 'return', callId: 1, parentId: 0, function: 'checkout' },
  ]
  for (const e of req) ring.write({ ...e, pid: '<1.0>', module: 'Shop', correlationId: 'req-1' })
  const writer = await PipelineManager.start({ ring, store: { kind: 'sqlite', path: db }, poolSize: 1 })
  await writer.stop()
  pipeline = await PipelineManager.start({ ring: RingBuffer.create({ size: 64 }), store: { kind: 'memory' }, poolSize: 1, http: { configToken: 'secret-token' } })
}, 60_000)

afterAll(async () => {
  await pipeline?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function connect(...args: string[]) {
  const client = new Client({ name: 'test', version: '1.0.0' })
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [bin, 'mcp', ...args], stderr: 'pipe' }))
  return client
}

const json = (r: unknown) => JSON.parse((r as { content: { text: string }[] }).content[0]!.text) as Record<string, unknown>

describe('ringside mcp <db>', () => {
  it('lists the store tools and answers queries by any filter', async () => {
    const client = await connect(db)
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name).sort()
      expect(tools).toEqual(['call_tree', 'get_event', 'query_events', 'store_stats'])
      const r = json(await client.callTool({ name: 'query_events', arguments: { pid: '<0.1.0>', module: 'Shop.Cart', function: 'add', arity: 2, limit: 100 } }))
      expect(r.count).toBe(10)
      const stats = json(await client.callTool({ name: 'store_stats', arguments: {} }))
      expect(stats.totalEvents).toBe(36)
      const one = json(await client.callTool({ name: 'get_event', arguments: { key: `${ringId}:5` } }))
      expect((one.event as { n: number }).n).toBe(5)
    } finally {
      await client.close()
    }
  }, 60_000)

  it('rebuilds a request call tree from its correlation id', async () => {
    const client = await connect(db)
    try {
      const r = json(await client.callTool({ name: 'call_tree', arguments: { correlationId: 'req-1' } }))
      type N = { call: { function: string }; outcome?: { type: string }; children: N[] }
      const shape = (n: N): unknown => [n.call.function, n.outcome?.type, n.children.map(shape)]
      expect((r.tree as N[]).map(shape)).toEqual([['checkout', 'return', [['pay', 'return', [['charge', 'exception', []]]]]]])
    } finally {
      await client.close()
    }
  }, 60_000)

  it('answers bad tool input with a clear error, not a crash', async () => {
    const client = await connect(db)
    try {
      const bad = (await client.callTool({ name: 'query_events', arguments: { limit: -1 } })) as { isError?: boolean; content: { text: string }[] }
      expect(bad.isError).toBe(true)
      expect(bad.content[0]!.text).toMatch(/limit/)
      const since = (await client.callTool({ name: 'query_events', arguments: { since: 'yesterday' } })) as { isError?: boolean; content: { text: string }[] }
      expect(since.isError).toBe(true)
      expect(since.content[0]!.text).toMatch(/'since' must be ms since the epoch or an ISO date/)
      const missing = (await client.callTool({ name: 'get_event', arguments: { key: 'nope:1' } })) as { isError?: boolean }
      expect(missing.isError).toBe(true)
    } finally {
      await client.close()
    }
  }, 60_000)
})

describe('ringside mcp <url>', () => {
  it('reads a running pipeline, read-only without the config token', async () => {
    const client = await connect(pipeline!.httpAddress!.url)
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name).sort()
      expect(tools).toEqual(['pipeline_config', 'pipeline_health', 'pipeline_metrics'])
      const health = json(await client.callTool({ name: 'pipeline_health', arguments: {} }))
      expect(health).toMatchObject({ status: 200, body: { ready: true } })
      const config = (await client.callTool({ name: 'pipeline_config', arguments: {} })) as { isError?: boolean }
      expect(config.isError).toBe(true)
    } finally {
      await client.close()
    }
  }, 60_000)

  it('changes live config only with the config token', async () => {
    const client = await connect(pipeline!.httpAddress!.url, '--config-token', 'secret-token')
    try {
      const r = json(await client.callTool({ name: 'update_config', arguments: { patch: { batchSize: 123 } } }))
      expect((r.config as { batchSize: number }).batchSize).toBe(123)
      expect(pipeline!.getState().config.batchSize).toBe(123)
      const refused = (await client.callTool({ name: 'update_config', arguments: { patch: { store: { kind: 'memory' } } } })) as { isError?: boolean; content: { text: string }[] }
      expect(refused.isError).toBe(true)
      expect(refused.content[0]!.text).toMatch(/422.*store/)
    } finally {
      await client.close()
    }
  }, 60_000)
})

describe('requestTree', () => {
  it('keeps events outside any call at the root, in the order given', () => {
    const r = (seq: number, event: Record<string, unknown>) => ({ key: `r:${seq}`, ringId: 'r', seq, capturedAt: seq, event })
    expect(requestTree([r(1, { type: 'state_change' }), r(2, { type: 'message' })])).toEqual([{ event: { type: 'state_change' } }, { event: { type: 'message' } }])
  })
})
