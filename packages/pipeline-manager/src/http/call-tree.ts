// The call tree of one request or unit of work, built from the events @ringside/instrument wrote
// (capture order): each `call` under the call its `parentId` names in the same pid, its `return` or
// `exception` attached to it, every other event (HTTP, messages) kept in place. `ringside trace`
// prints it; the dashboard's request view draws it.

/** An event body as stored. */
export type TraceEvent = Readonly<Record<string, unknown>>

/** One recorded call: its `call` event, its outcome (`return` or `exception`) when recorded, its children. */
export interface CallNode {
  readonly call: TraceEvent
  readonly children: TraceItem[]
  outcome?: TraceEvent
}

/** A call, or another event in capture order. */
export type TraceItem = { readonly node: CallNode } | { readonly event: TraceEvent }

/** Builds the call tree of events in capture order: calls under their parent call (same pid), outcomes on their call. */
export function callTree(events: readonly TraceEvent[]): TraceItem[] {
  const roots: TraceItem[] = []
  const byId = new Map<string, CallNode>()
  for (const e of events) {
    const key = `${String(e.pid)}|${String(e.callId)}`
    if (e.type === 'call') {
      const node: CallNode = { call: e, children: [] }
      const parent = typeof e.parentId === 'number' && e.parentId !== 0 ? byId.get(`${String(e.pid)}|${e.parentId}`) : undefined
      ;(parent ? parent.children : roots).push({ node })
      byId.set(key, node)
    } else if ((e.type === 'return' || e.type === 'exception') && byId.has(key)) {
      byId.get(key)!.outcome ??= e
    } else roots.push({ event: e })
  }
  return roots
}
