// `ringside mcp`: a Model Context Protocol server over stdio (the official SDK) that lets an
// assistant ask what a captured execution did: query a store's events by every filter, fetch one
// event, rebuild a request's call tree, read the store's stats, and, given a running pipeline's
// address, read its health, metrics and config. Read-only unless given the pipeline's config token.

import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { z } from 'zod'
import { createStore, type EventRecord, type EventStore, type QueryFilter } from '@ringside/storage'
import { callTree } from '@ringside/pipeline-manager'

export interface McpOptions {
  /** A Ringside SQLite store to answer questions from. */
  readonly db?: string
  /** A running pipeline's HTTP address (its `httpAddress.url`). */
  readonly pipeline?: string
  /** The pipeline's config token: enables `update_config`. */
  readonly configToken?: string
  readonly stdin?: Readable
  readonly stdout?: Writable
}

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean }
const text = (value: unknown): ToolResult => ({ content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }] })
const failure = (message: string): ToolResult => ({ content: [{ type: 'text', text: message }], isError: true })
const MAX_EVENTS = 1_000

/** A call with its outcome (return or exception) and the calls it made; or an event outside any call. */
export type TreeNode = { readonly call: Record<string, unknown>; readonly outcome?: Record<string, unknown>; readonly children: TreeNode[] } | { readonly event: Record<string, unknown> }

/** The events of one request as the call tree `ringside trace` prints (calls under their parent call). */
export function requestTree(events: readonly EventRecord[]): TreeNode[] {
  const convert = (items: ReturnType<typeof callTree>): TreeNode[] =>
    items.map((i) => ('node' in i ? { call: i.node.call, ...(i.node.outcome ? { outcome: i.node.outcome } : {}), children: convert(i.node.children) } : { event: i.event }))
  return convert(callTree(events.map((r) => r.event)))
}

const filterShape = {
  pid: z.string().optional().describe("events of one process, e.g. '<0.107.0>'"),
  type: z.string().optional().describe('call, return, exception, message, state_change, ...'),
  since: z.union([z.number(), z.string()]).optional().describe('capture time from: ms since the epoch or an ISO date, inclusive'),
  until: z.union([z.number(), z.string()]).optional().describe('capture time to, inclusive'),
  correlationId: z.string().optional(),
  astNodeId: z.string().optional(),
  module: z.string().optional(),
  function: z.string().optional(),
  arity: z.number().int().min(0).optional(),
  limit: z.number().int().min(0).max(MAX_EVENTS).optional().describe(`at most this many events (default 50, at most ${MAX_EVENTS})`),
  order: z.enum(['asc', 'desc']).optional().describe('by capture time (default asc)'),
}

function timeOf(v: number | string | undefined, name: string): number | undefined {
  if (v === undefined || typeof v === 'number') return v
  const t = Date.parse(v)
  if (Number.isNaN(t)) throw new Error(`'${name}' must be ms since the epoch or an ISO date, got ${JSON.stringify(v)}`)
  return t
}

async function getJson(base: string, path: string, token?: string): Promise<unknown> {
  const res = await fetch(new URL(path, base), token ? { headers: { authorization: `Bearer ${token}` } } : {})
  const body = (await res.json().catch(() => ({}))) as unknown
  return { status: res.status, body }
}

/** Builds the server with its tools (exported for tests); `connect` it to a transport. */
export async function createMcpServer(o: McpOptions): Promise<{ server: McpServer; close: () => Promise<void> }> {
  const server = new McpServer({ name: 'ringside', version: '0.1.0' })
  let store: EventStore | undefined
  if (o.db !== undefined) {
    const path = resolve(o.db)
    if (!existsSync(path)) throw new Error(`no store at ${path}`)
    store = await createStore({ kind: 'sqlite', path, readOnly: true })
    const s = store
    server.registerTool(
      'query_events',
      { description: 'Events from the store, by any filter (pid, type, time range, correlation id, AST node id, module/function/arity), with limit and order.', inputSchema: filterShape },
      async (args) => {
        try {
          const filter: QueryFilter = { ...args, limit: args.limit ?? 50 } as QueryFilter
          const since = timeOf(args.since, 'since')
          const until = timeOf(args.until, 'until')
          const events = await s.query({ ...filter, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) })
          return text({ count: events.length, events })
        } catch (err) {
          return failure((err as Error).message)
        }
      },
    )
    server.registerTool('get_event', { description: "One event by its key ('<ring id>:<seq>').", inputSchema: { key: z.string().min(3) } }, async ({ key }) => {
      try {
        const e = await s.getEvent(key)
        return e ? text(e) : failure(`no event with key ${key}`)
      } catch (err) {
        return failure((err as Error).message)
      }
    })
    server.registerTool('store_stats', { description: "The store's totals: events, time range, per type, dead letters." }, async () => text(await s.stats()))
    server.registerTool(
      'call_tree',
      {
        description: 'The call tree of one request (the events sharing a correlation id), as captured by @ringside/instrument: each call with its outcome (return or exception) and the calls it made.',
        inputSchema: { correlationId: z.string().min(1) },
      },
      async ({ correlationId }) => {
        const events = await s.query({ correlationId, limit: MAX_EVENTS, order: 'asc' })
        if (events.length === 0) return failure(`no events with correlation id ${correlationId}`)
        return text({ correlationId, events: events.length, tree: requestTree(events) })
      },
    )
  }
  if (o.pipeline !== undefined) {
    const base = o.pipeline
    server.registerTool('pipeline_health', { description: "The running pipeline's readiness and health checks with reasons (GET /readyz)." }, async () => text(await getJson(base, '/readyz')))
    server.registerTool('pipeline_metrics', { description: "The running pipeline's metrics: rates, totals, writers, stages, latency, ring, breaker (GET /stats)." }, async () => text(await getJson(base, '/stats')))
    server.registerTool('pipeline_config', { description: "The running pipeline's effective config and version (GET /config; needs the config token)." }, async () => {
      if (!o.configToken) return failure('reading the config needs the pipeline\'s config token (ringside mcp --config-token)')
      return text(await getJson(base, '/config', o.configToken))
    })
    if (o.configToken) {
      const token = o.configToken
      server.registerTool(
        'update_config',
        { description: 'Changes live settings of the running pipeline (POST /config); the pipeline validates the patch and answers the effective config.', inputSchema: { patch: z.record(z.string(), z.unknown()) } },
        async ({ patch }) => {
          const res = await fetch(new URL('/config', base), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(patch) })
          const body = (await res.json().catch(() => ({}))) as unknown
          return res.ok ? text(body) : failure(`the pipeline refused the patch (${res.status}): ${JSON.stringify(body)}`)
        },
      )
    }
  }
  return { server, close: async () => void (await store?.close()) }
}

/** Runs the server on stdio until the client disconnects. */
export async function runMcp(o: McpOptions): Promise<void> {
  const { server, close } = await createMcpServer(o)
  const stdin = o.stdin ?? process.stdin
  const transport = new StdioServerTransport(stdin, o.stdout)
  await server.connect(transport)
  // The client hangs up by closing our stdin.
  await new Promise<void>((done) => {
    server.server.onclose = done
    stdin.once('end', done)
  })
  await server.close()
  await close()
}
