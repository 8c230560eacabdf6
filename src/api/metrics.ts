import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client'
import type { MessageType } from '../codec/index.ts'
import { ALERT_KINDS } from '../node/index.ts'
import type { FolderStatus, NetworkMap, Node } from '../node/index.ts'

/**
 * GET /metrics: Prometheus text format. samepage's own metrics are read
 * from the node at scrape time; libp2p's (connections, streams, bytes per
 * protocol) and the process's (CPU, memory, event loop lag) come beside them,
 * the process's under the standard names (`process_*`, `nodejs_*`) that
 * ready-made Node.js dashboards read. Every label set a dashboard may sum
 * over is there from the start, at zero: each folder and space as soon as it
 * exists here, each message type, alert kind and folder state always.
 *
 * The server loads this module at the first scrape (prom-client with it), so
 * the process's collectors (GC durations, event loop lag) count from then; the
 * process's CPU, memory and start time are read from the process, and
 * libp2p's counters are kept by the node from its start (net/libp2p-metrics.ts).
 */
export class Metrics {
  readonly #own = new Registry()
  /** libp2p's families as prom-client metrics, made at the scrape that first saw each. */
  readonly #libp2p = new Registry()
  readonly #libp2pMetrics = new Map<string, Libp2pPromMetric>()
  readonly #node: Node
  /** The network map, built once per scrape: several metrics read it. */
  #map: NetworkMap | undefined

  constructor (node: Node) {
    this.#node = node
    const r = this.#own
    const map = (): NetworkMap => this.#map ?? node.network()
    // Event loop lag sampled every 100 ms, not prom-client's 10 ms: an idle daemon should stay idle.
    // No prefix: libp2p's families (net/libp2p-metrics.ts) hold no process metrics under these names.
    collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 100 })
    const gauge = (name: string, help: string, labelNames: Labels, collect: (g: Gauge) => void): void => {
      // eslint-disable-next-line no-new
      new Gauge({ name, help, labelNames, registers: [r], collect () { this.reset(); collect(this) } })
    }
    const counter = (name: string, help: string, labelNames: Labels, collect: (c: Counter) => void): void => {
      // eslint-disable-next-line no-new
      new Counter({ name, help, labelNames, registers: [r], collect () { this.reset(); collect(this) } })
    }
    gauge('samepage_info', 'This node: peer id, name and version (always 1).', ['peer_id', 'name', 'version'], g => {
      const s = node.status(map())
      g.set({ peer_id: node.peerId, name: s.name, version: s.report?.version ?? '' }, 1)
    })
    gauge('samepage_peers_connected', 'Peers with a sync session now.', [], g => { g.set(node.peers().length) })
    gauge('samepage_peer_rtt_seconds', 'Round trip to each connected peer, as libp2p measured it.', ['peer'], g => {
      for (const p of node.peers()) if (p.rttMs !== null) g.set({ peer: p.peerId }, p.rttMs / 1000)
    })
    gauge('samepage_space_members', 'Members of each space.', ['space', 'name'], g => {
      for (const s of node.spaces()) g.set({ space: s.id, name: s.name }, s.members)
    })
    gauge('samepage_folder_need_bytes', 'Bytes a shared folder still has to fetch or write.', ['space', 'name'], g => {
      for (const f of node.folderList()) g.set({ space: f.space, name: f.name }, f.status.needBytes)
    })
    gauge('samepage_folder_need_files', 'Files a shared folder still has to write.', ['space', 'name'], g => {
      for (const f of node.folderList()) g.set({ space: f.space, name: f.name }, f.status.needFiles)
    })
    gauge('samepage_folder_conflicts', 'Paths in conflict in a shared folder.', ['space', 'name'], g => {
      for (const f of node.folderList()) g.set({ space: f.space, name: f.name }, f.status.conflicts)
    })
    const folderRate = 'Chunk bytes per second a shared folder receives now.'
    gauge('samepage_folder_receive_bytes_per_second', folderRate, ['space', 'name'], g => {
      for (const f of node.folderList()) g.set({ space: f.space, name: f.name }, f.status.rateBytesPerSecond)
    })
    folderMetrics(node, gauge, counter)
    const entries = 'Entries this node holds of each space (as it serves them).'
    gauge('samepage_space_entries', entries, ['space', 'name'], g => {
      for (const s of node.spaces()) {
        g.set({ space: s.id, name: s.name }, node.space(s.id).vector().reduce((n, f) => n + f.count, 0))
      }
    })
    const byDirection = ['direction', 'type']
    counter('samepage_sync_messages_total', 'Sync protocol messages by direction and type.', byDirection, c => {
      const st = node.syncStats()
      for (const type of MESSAGE_TYPES) {
        c.inc({ direction: 'in', type }, st.messagesIn[type] ?? 0)
        c.inc({ direction: 'out', type }, st.messagesOut[type] ?? 0)
      }
    })
    counter('samepage_sync_bytes_total', 'Sync protocol bytes by direction and message type.', byDirection, c => {
      const st = node.syncStats()
      for (const type of MESSAGE_TYPES) {
        c.inc({ direction: 'in', type }, st.bytesIn[type] ?? 0)
        c.inc({ direction: 'out', type }, st.bytesOut[type] ?? 0)
      }
    })
    const held = 'What peers make this node hold now (each bounded per peer and in all): ' +
      'pending entries and bytes, claims, bytes queued to send.'
    gauge('samepage_sync_held', held, ['kind'], g => {
      const h = node.syncStats().holding
      for (const kind of ['pendingEntries', 'pendingBytes', 'claims', 'queuedBytes'] as const) g.set({ kind }, h[kind])
    })
    counter('samepage_block_bytes_total', 'File chunk bytes over the block protocol.', ['direction'], c => {
      const b = node.blockStats()
      c.inc({ direction: 'in' }, b.bytesIn)
      c.inc({ direction: 'out' }, b.bytesOut)
    })
    const changed = 'Chunk requests answered "changed": the file moved on since its scan (it is read again).'
    counter('samepage_block_changed_total', changed, [], c => { c.inc(node.blockStats().changed) })
    const misbehaviour = 'Misbehaviour by peers and disconnections since the node started.'
    counter('samepage_misbehaviour_events_total', misbehaviour, [], c => { c.inc(node.misbehaviourEvents) })
    const period = 'How often this node publishes its status (grows with the network).'
    gauge('samepage_status_period_seconds', period, [], g => { g.set(node.status(map()).periodMs / 1000) })
    gauge('samepage_network_nodes', 'Nodes of the deployment by health, as this node sees them.', ['health'], g => {
      const counts: Record<string, number> = { ok: 0, hot: 0, alert: 0, down: 0, unknown: 0 }
      for (const n of map().nodes) counts[n.health] = (counts[n.health] ?? 0) + 1
      for (const [health, n] of Object.entries(counts)) g.set({ health }, n)
    })
    gauge('samepage_network_links', 'Links between up nodes of the deployment.', [], g => {
      g.set(map().summary.links)
    })
    gauge('samepage_network_partitions', 'Groups of up nodes that no link joins (1 is whole).', [], g => {
      g.set(map().summary.partitions)
    })
    gauge('samepage_alerts_open', 'Open alerts of the up nodes of the deployment, by kind.', ['kind'], g => {
      for (const kind of ALERT_KINDS) g.set({ kind }, 0)
      for (const a of node.alerts(map())) g.inc({ kind: a.kind }, 1)
    })
  }

  get contentType (): string { return this.#own.contentType }

  async text (): Promise<string> {
    this.#map = this.#node.network()
    try {
      const families = await this.#node.metrics.collect()
      const collected = new Set(families.map(f => f.name))
      // One that could not be collected this time (its calculation failed) is left out, not shown as it was.
      for (const name of [...this.#libp2pMetrics.keys()].filter(n => !collected.has(n))) {
        this.#libp2p.removeSingleMetric(name)
        this.#libp2pMetrics.delete(name)
      }
      for (const family of families) this.#render(family)
      return await Registry.merge([this.#own, this.#libp2p]).metrics()
    } finally {
      this.#map = undefined
    }
  }

  /** One libp2p family into prom-client, under its own name, label and kind (as @libp2p/prometheus-metrics did). */
  #render (f: Libp2pFamily): void {
    let m = this.#libp2pMetrics.get(f.name)
    if (m === undefined) {
      const labelNames = f.label === undefined ? [] : [f.label]
      const common = { name: f.name, help: f.help, labelNames, registers: [this.#libp2p] }
      try {
        m = f.kind === 'gauge'
          ? new Gauge(common)
          : f.kind === 'counter'
            ? new Counter(common)
            : f.kind === 'histogram'
              ? new Histogram({ ...common, ...numbers(f.options, 'buckets') })
              : new Summary({ ...common, ...numbers(f.options, 'percentiles'), ...summaryWindow(f.options) })
      } catch {
        return // a name Prometheus does not take (one starting with a digit): left out, the rest is scraped
      }
      this.#libp2pMetrics.set(f.name, m)
    }
    const labels = (key: string): Record<string, string> => f.label === undefined ? {} : { [f.label]: key }
    if (m instanceof Gauge) {
      m.reset()
      for (const [key, value] of f.values) m.set(labels(key), value)
    } else if (m instanceof Counter) {
      m.reset()
      for (const [key, value] of f.values) m.inc(labels(key), value)
    } else {
      for (const [key, value] of f.observed) m.observe(labels(key), value)
    }
  }
}

type Libp2pFamily = Awaited<ReturnType<Node['metrics']['collect']>>[number]
type Libp2pPromMetric = Gauge | Counter | Histogram | Summary

/** A histogram's buckets or a summary's percentiles, if libp2p asked for them as a list of numbers. */
function numbers (options: Readonly<Record<string, unknown>>, key: string): Record<string, number[]> {
  const v = options[key]
  const fine = Array.isArray(v) && v.length > 0 && v.every(n => typeof n === 'number' && Number.isFinite(n))
  return fine ? { [key]: v as number[] } : {}
}

/** A summary's sliding window, if libp2p asked for one (prom-client's own options, as the package passed them). */
function summaryWindow (options: Readonly<Record<string, unknown>>): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {}
  for (const key of ['maxAgeSeconds', 'ageBuckets', 'compressCount']) {
    const v = options[key]
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = v
  }
  if (typeof options['pruneAgedBuckets'] === 'boolean') out['pruneAgedBuckets'] = options['pruneAgedBuckets']
  return out
}

type Labels = readonly string[]
type Collected<M> = (name: string, help: string, labelNames: Labels, collect: (m: M) => void) => void

/** Every message type of the sync protocol (the compiler keeps the list whole). */
const MESSAGE_TYPES = Object.keys({
  hello: 1, want: 1, entries: 1, none: 1, have: 1, fork: 1, status: 1, 'status-have': 1, 'status-want': 1, bye: 1,
  'join-answer': 1
} satisfies Record<MessageType, 1>) as MessageType[]

const FOLDER_STATES = Object.keys({
  starting: 1, scanning: 1, syncing: 1, idle: 1, stopped: 1
} satisfies Record<FolderStatus['state'], 1>) as FolderStatus['state'][]

/** Each shared folder's traffic since start, its state, errors and last sync: one folder per space, named by it. */
function folderMetrics (node: Node, gauge: Collected<Gauge>, counter: Collected<Counter>): void {
  const folder = ['space', 'name']
  const each = (fill: (labels: { space: string, name: string }, s: FolderStatus) => void): void => {
    for (const f of node.folderList()) fill({ space: f.space, name: f.name }, f.status)
  }
  const bytes = 'Chunk bytes of a shared folder: fetched from peers (in), served to them (out).'
  counter('samepage_folder_bytes_total', bytes, [...folder, 'direction'], c => {
    each((l, s) => {
      c.inc({ ...l, direction: 'in' }, s.totals.bytesIn)
      c.inc({ ...l, direction: 'out' }, s.totals.bytesOut)
    })
  })
  const files = 'Files of a shared folder: written from peers\' versions (in), ' +
    'versions recorded from its changes (out).'
  counter('samepage_folder_files_total', files, [...folder, 'direction'], c => {
    each((l, s) => {
      c.inc({ ...l, direction: 'in' }, s.totals.filesIn)
      c.inc({ ...l, direction: 'out' }, s.totals.filesOut)
    })
  })
  const state = `A shared folder's state: 1 for the one it is in (${FOLDER_STATES.join(', ')}), 0 for the others.`
  gauge('samepage_folder_state', state, [...folder, 'state'], g => {
    each((l, s) => { for (const st of FOLDER_STATES) g.set({ ...l, state: st }, st === s.state ? 1 : 0) })
  })
  gauge('samepage_folder_errors', 'Paths of a shared folder in error now (each is tried again).', folder, g => {
    each((l, s) => { g.set(l, s.errors.length) })
  })
  const lastSync = 'When a shared folder was last wholly in sync (unix seconds; 0: not since the node started).'
  gauge('samepage_folder_last_sync_timestamp_seconds', lastSync, folder, g => {
    each((l, s) => { g.set(l, s.lastSyncedMs === null ? 0 : s.lastSyncedMs / 1000) })
  })
}
