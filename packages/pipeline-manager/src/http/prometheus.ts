// GET /metrics: a prom-client Registry whose collectors read one snapshot of the pipeline per scrape
// (counters and gauges set at scrape time from getMetrics()/getState()/healthCheck(), real
// histograms from the writers' buckets), plus live counters of the HTTP server's own requests.
// Every name starts with `ringside_`; labels: writer, reason, state, check, route, code, outcome, stage.

import { Counter, Gauge, Registry } from 'prom-client'
import { DROP_REASONS } from '@ringside/core-ringbuffer'
import type { WriterMetricsSnapshot } from '@ringside/async-writer'
import { STAGE_FIELDS } from '@ringside/async-writer/protocol'
import { offeredOf } from '../metrics.js'
import { BucketHistogram, type BucketSeries } from './bucket-histogram.js'
import { writerOfSlot, type Snapshot } from './snapshot.js'

type Labels = Record<string, string>
type Values = Iterable<readonly [Labels, number]>

interface Family {
  readonly kind: 'counter' | 'gauge'
  readonly name: string
  readonly help: string
  readonly labels?: readonly string[]
  readonly values: (s: Snapshot) => Values
}

const RANK = { healthy: 0, degraded: 1, unhealthy: 2 } as const
const MEMBER_STATES = ['starting', 'running', 'stopping', 'exited'] as const
const BREAKER_STATES = ['closed', 'open', 'half_open'] as const
const PIPELINE_STATES = ['running', 'stopping', 'stopped', 'failed'] as const

/** Rows of slots that ever ran a writer, with the writer's id. */
const used = (s: Snapshot): [string, WriterMetricsSnapshot][] =>
  s.rows.flatMap((r, slot) => (r.incarnation > 0 ? [[writerOfSlot(slot), r] as [string, WriterMetricsSnapshot]] : []))
const perRow = (f: (r: WriterMetricsSnapshot) => number) => (s: Snapshot): Values => used(s).map(([writer, r]) => [{ writer }, f(r)])
const single = (f: (s: Snapshot) => number) => (s: Snapshot): Values => [[{}, f(s)]]
const oneHot = <T extends string>(label: string, states: readonly T[], current: (s: Snapshot) => T) => (s: Snapshot): Values =>
  states.map((st) => [{ [label]: st }, current(s) === st ? 1 : 0])

const FAMILIES: readonly Family[] = [
  // The ring: what the application offered, and what the door refused.
  { kind: 'counter', name: 'ringside_events_offered_total', help: 'Events offered to the ring: accepted plus refused at the door.', values: single((s) => offeredOf(s.metrics.ring)) },
  { kind: 'counter', name: 'ringside_events_accepted_total', help: 'Events the ring accepted (each got a key).', values: single((s) => s.metrics.ring.totalWrites) },
  {
    kind: 'counter',
    name: 'ringside_events_dropped_total',
    help: 'Events refused or discarded by the ring, by reason (full, too_large, not_serializable, invalid_event, closed, timeout, evicted, abandoned).',
    labels: ['reason'],
    values: (s) => DROP_REASONS.map((reason) => [{ reason }, s.metrics.ring.dropped[reason]]),
  },
  { kind: 'gauge', name: 'ringside_ring_size', help: 'Slots in the ring.', values: single((s) => s.metrics.ring.size) },
  { kind: 'gauge', name: 'ringside_ring_utilization', help: 'Used slots over size, 0..1 (ring fill).', values: single((s) => s.metrics.ring.utilization) },
  {
    kind: 'gauge',
    name: 'ringside_ring_events',
    help: 'Events in the ring not yet committed: waiting (ready) or claimed by a writer.',
    labels: ['state'],
    values: (s) => [[{ state: 'ready' }, s.metrics.ring.ready], [{ state: 'claimed' }, s.metrics.ring.claimed]],
  },
  {
    kind: 'gauge',
    name: 'ringside_ring_oldest_unstored_age_seconds',
    help: 'Age of the oldest event not yet committed; 0 when there is none.',
    values: single((s) => (s.metrics.ring.oldestPendingAt === undefined ? 0 : Math.max(0, s.time - s.metrics.ring.oldestPendingAt) / 1000)),
  },
  // The writers' counters, per slot (a replacement continues its predecessor's row).
  { kind: 'counter', name: 'ringside_writer_events_read_total', help: 'Events delivered to the writer by its claims.', labels: ['writer'], values: perRow((r) => r.eventsRead) },
  { kind: 'counter', name: 'ringside_writer_events_processed_total', help: 'Events through validation, enrichment and stages.', labels: ['writer'], values: perRow((r) => r.eventsProcessed) },
  { kind: 'counter', name: 'ringside_writer_events_stored_total', help: 'Events the store took as new rows.', labels: ['writer'], values: perRow((r) => r.eventsStored) },
  { kind: 'counter', name: 'ringside_writer_events_duplicate_total', help: 'Re-stored events the store already held (after a crash).', labels: ['writer'], values: perRow((r) => r.duplicates) },
  { kind: 'counter', name: 'ringside_writer_events_filtered_total', help: 'Events dropped by a user stage.', labels: ['writer'], values: perRow((r) => r.filtered) },
  {
    kind: 'counter',
    name: 'ringside_writer_events_quarantined_total',
    help: 'Events sent to dead letters, by reason: invalid_event, stage_error, permanent_error, retries_exhausted, and killer (dead letters crashed_writer or timeout).',
    labels: ['writer', 'reason'],
    values: (s) => used(s).flatMap(([writer, r]): [Labels, number][] => [
        [{ writer, reason: 'invalid_event' }, r.invalid],
        [{ writer, reason: 'stage_error' }, r.stageErrors],
        [{ writer, reason: 'permanent_error' }, r.poisoned],
        [{ writer, reason: 'retries_exhausted' }, r.retriesExhausted],
        [{ writer, reason: 'killer' }, r.killers],
      ]),
  },
  { kind: 'counter', name: 'ringside_writer_batches_total', help: 'Batches stored and committed.', labels: ['writer'], values: perRow((r) => r.batches) },
  { kind: 'counter', name: 'ringside_writer_store_errors_total', help: 'Failed store attempts.', labels: ['writer'], values: perRow((r) => r.errors) },
  { kind: 'gauge', name: 'ringside_writer_held_events', help: 'Events the writer has claimed and not yet committed.', labels: ['writer'], values: perRow((r) => r.heldEvents) },
  // The pool's members and the supervisor.
  {
    kind: 'gauge',
    name: 'ringside_writer_state',
    help: 'The state of each pool member (1 for its current state).',
    labels: ['writer', 'state'],
    values: (s) => s.state.members.flatMap((m) => MEMBER_STATES.map((st): [Labels, number] => [{ writer: m.id, state: st }, m.state === st ? 1 : 0])),
  },
  { kind: 'counter', name: 'ringside_writer_restarts_total', help: 'Restarts of the writer in each slot.', labels: ['writer'], values: (s) => s.state.members.map((m) => [{ writer: m.id }, m.restarts]) },
  {
    kind: 'gauge',
    name: 'ringside_writer_heartbeat_age_seconds',
    help: "Age of the writer's last heartbeat.",
    labels: ['writer'],
    values: (s) => s.metrics.writers.flatMap((w): [Labels, number][] => (w.heartbeatAgeMs === undefined ? [] : [[{ writer: w.id }, w.heartbeatAgeMs / 1000]])),
  },
  { kind: 'gauge', name: 'ringside_writers', help: 'Pool members by state.', labels: ['state'], values: (s) => MEMBER_STATES.map((st) => [{ state: st }, s.state.members.filter((m) => m.state === st).length]) },
  { kind: 'gauge', name: 'ringside_writers_target', help: 'Writers the pool is configured to run (poolSize).', values: single((s) => s.state.config.poolSize) },
  { kind: 'counter', name: 'ringside_restarts_total', help: 'Writer restarts by the supervisor.', values: single((s) => s.state.restarts.total) },
  { kind: 'gauge', name: 'ringside_restarts_in_window', help: 'Restarts within the intensity window (maxSeconds).', values: single((s) => s.state.restarts.inWindow) },
  { kind: 'counter', name: 'ringside_pool_restarts_total', help: 'Restarts of the whole pool after an escalation.', values: single((s) => s.state.restarts.poolRestarts) },
  { kind: 'gauge', name: 'ringside_pipeline_status', help: 'The pipeline status (1 for the current one).', labels: ['status'], values: oneHot('status', PIPELINE_STATES, (s) => s.state.status) },
  { kind: 'gauge', name: 'ringside_uptime_seconds', help: 'Time since the pipeline started.', values: single((s) => s.state.uptimeMs / 1000) },
  { kind: 'gauge', name: 'ringside_config_version', help: 'Version of the effective config (1 at start, +1 per change).', values: single((s) => s.state.config.version) },
  // Health and the store circuit breaker.
  { kind: 'gauge', name: 'ringside_health_status', help: 'Overall health: 0 healthy, 1 degraded, 2 unhealthy.', values: single((s) => RANK[s.health.status]) },
  {
    kind: 'gauge',
    name: 'ringside_health_check_status',
    help: 'Each health check: 0 healthy, 1 degraded, 2 unhealthy.',
    labels: ['check'],
    values: (s) => s.health.checks.map((c) => [{ check: c.name }, RANK[c.status]]),
  },
  { kind: 'gauge', name: 'ringside_breaker_state', help: 'The store circuit breaker (1 for its current state).', labels: ['state'], values: oneHot('state', BREAKER_STATES, (s) => s.metrics.breaker.state) },
  { kind: 'counter', name: 'ringside_breaker_trips_total', help: 'Times the store circuit breaker opened.', values: single((s) => s.metrics.breaker.trips) },
  // User stages, summed over the writers: what each did with the events it was given.
  {
    kind: 'counter',
    name: 'ringside_stage_events_total',
    help: 'Events through each user stage, by outcome: in, passed (same object), changed (another object), filtered, failed.',
    labels: ['stage', 'outcome'],
    values: (s) => s.metrics.stages.flatMap((st): [Labels, number][] => STAGE_FIELDS.map((o) => [{ stage: st.name, outcome: o }, st[o]])),
  },
]

export class PrometheusExporter {
  readonly registry = new Registry()
  /** Requests served, by route and status code. */
  readonly requests: Counter<'route' | 'code'>
  /** Events sent to POST /ingest, by outcome: `accepted` or the refusal (invalid_event, full, ...). */
  readonly ingested: Counter<'outcome'>
  readonly #take: () => Snapshot
  #snapshot: Snapshot | undefined
  #queue: Promise<unknown> = Promise.resolve()

  constructor(take: () => Snapshot) {
    this.#take = take
    const registers = [this.registry]
    const current = () => {
      if (!this.#snapshot) throw new Error('collected outside a scrape')
      return this.#snapshot
    }
    for (const f of FAMILIES) {
      const config = { name: f.name, help: f.help, labelNames: f.labels ?? [], registers }
      // Set at scrape time: reset first, so a series that is gone (a retired writer's state) goes too.
      if (f.kind === 'gauge') {
        new Gauge({ ...config, collect() { this.reset(); for (const [l, v] of f.values(current())) this.set(l, v) } })
      } else {
        new Counter({ ...config, collect() { this.reset(); for (const [l, v] of f.values(current())) this.inc(l, v) } })
      }
    }
    const histogram = (name: string, help: string, field: 'writeLatency' | 'endToEnd') =>
      new BucketHistogram({ name, help, registry: this.registry, read: () => used(current()).map(([writer, r]): BucketSeries => ({ labels: { writer }, counts: r[field] })) })
    histogram('ringside_batch_write_seconds', 'Time to store one batch (storeEvents), per writer.', 'writeLatency')
    new BucketHistogram({
      name: 'ringside_stage_seconds',
      help: 'Time one event spent in each user stage.',
      registry: this.registry,
      read: () => current().metrics.stages.map((st): BucketSeries => ({ labels: { stage: st.name }, counts: st.timeHistogram })),
    })
    histogram('ringside_capture_to_commit_seconds', 'Time from capture in the ring to the commit of its batch, per event, per writer.', 'endToEnd')
    this.requests = new Counter({ name: 'ringside_http_requests_total', help: 'HTTP requests served, by route and status code.', labelNames: ['route', 'code'], registers })
    this.ingested = new Counter({ name: 'ringside_http_ingest_events_total', help: 'Events sent to POST /ingest, by outcome (accepted, or why refused).', labelNames: ['outcome'], registers })
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** The exposition text. Scrapes run one at a time, each over its own snapshot. */
  render(): Promise<string> {
    const run = async () => {
      this.#snapshot = this.#take()
      try {
        return await this.registry.metrics()
      } finally {
        this.#snapshot = undefined
      }
    }
    const next = this.#queue.then(run, run)
    this.#queue = next.catch(() => undefined)
    return next
  }
}
