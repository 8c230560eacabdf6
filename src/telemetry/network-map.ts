import { downAfterMs, STATUS_CLOCK_AHEAD_MAX_MS } from './period.ts'
import type { AlertReport, MisbehaviourReport, NodeReport } from './report.ts'

/**
 * The whole network as one node sees it, from the newest status record of
 * every member: who is up, who is hot, who links to whom, and which groups
 * of nodes cannot reach each other. Pure: the records and the time come in.
 */
export interface StatusSample {
  readonly peerId: string
  /** The record's own wall clock (its author's), or null when we hold no record of this member. */
  readonly wallMs: number | null
  readonly report: NodeReport | null
  readonly problems: readonly string[]
}

type Health = 'ok' | 'hot' | 'alert' | 'down' | 'unknown'

export interface MapNode {
  readonly peerId: string
  readonly name: string
  readonly self: boolean
  readonly up: boolean
  readonly health: Health
  /** Why it is not 'ok', in words (for the table and the tooltip). */
  readonly reasons: readonly string[]
  readonly lastSeenMs: number | null
  readonly ageMs: number | null
  readonly downAfterMs: number
  readonly hot: boolean
  readonly partition: number
  readonly alerts: readonly AlertReport[]
  readonly report: NodeReport | null
}

export interface MapLink {
  readonly a: string
  readonly b: string
  /** The lowest round trip either end reports, or null if neither measured one. */
  readonly rttMs: number | null
  /** Bytes per second both ways, the larger of the two ends' reports. */
  readonly bytesPerSecond: number
  /** Whether both ends report the link (a link only one end reports is half-open or about to go). */
  readonly both: boolean
  /**
   * The member relaying the link, or null when it is direct. Direct if either end reports it so
   * (that end holds a direct connection); when both ends name different relays, the lower peer id.
   */
  readonly relayedBy: string | null
}

export interface NetworkMap {
  readonly atMs: number
  readonly self: string
  readonly nodes: readonly MapNode[]
  readonly links: readonly MapLink[]
  /** Groups of up nodes connected by links; more than one means the network is split. */
  readonly partitions: readonly (readonly string[])[]
  readonly hot: readonly string[]
  readonly alerts: readonly (AlertReport & { readonly peerId: string, readonly name: string })[]
  readonly misbehaviour: readonly (MisbehaviourReport & { readonly seenBy: string })[]
  readonly summary: MapSummary
}

interface MapSummary {
  readonly nodes: number
  readonly up: number
  readonly down: number
  readonly hot: number
  readonly alerts: number
  readonly links: number
  readonly partitions: number
}

type Reporter = StatusSample & { report: NodeReport }

/** Load per core above this, or traffic above HOT_TRAFFIC_FACTOR × the median (and 1 MB/s), makes a node hot. */
const HOT_LOAD_PER_CORE = 1.5
const HOT_TRAFFIC_FACTOR = 4
const HOT_TRAFFIC_MIN_BPS = 1_000_000

export function buildNetworkMap (samples: readonly StatusSample[], self: string, nowMs: number): NetworkMap {
  const up = new Map<string, Reporter>()
  // A clock past the skew bound proves nothing about when the record was made: such a node is not counted up
  // (its own node excepted).
  const ahead = (s: StatusSample): boolean => s.wallMs !== null && s.wallMs > nowMs + STATUS_CLOCK_AHEAD_MAX_MS
  for (const s of samples) {
    if (s.report === null || s.wallMs === null) continue
    const fresh = !ahead(s) && nowMs - Math.min(s.wallMs, nowMs) <= downAfterMs(s.report.periodMs)
    if (s.peerId === self || fresh) up.set(s.peerId, s as Reporter)
  }

  const links = mergeLinks([...up.values()], up)
  const partitionOf = components([...up.keys()], links)
  const traffic = [...up.values()].map(s => s.report.traffic.inBps + s.report.traffic.outBps).sort((a, b) => a - b)
  const median = traffic.length === 0 ? 0 : traffic[Math.floor(traffic.length / 2)] as number

  const nodes: MapNode[] = samples.map(s => {
    const isUp = up.has(s.peerId)
    const r = s.report
    const reasons: string[] = []
    let hot = false
    if (r !== null && isUp) {
      const perCore = r.load[0] / Math.max(1, r.cpus)
      if (perCore >= HOT_LOAD_PER_CORE) { hot = true; reasons.push(`load ${r.load[0].toFixed(2)} on ${r.cpus} cores`) }
      const bps = r.traffic.inBps + r.traffic.outBps
      if (bps >= HOT_TRAFFIC_MIN_BPS && bps >= HOT_TRAFFIC_FACTOR * Math.max(1, median)) {
        hot = true
        reasons.push(`traffic ${(bps / 1e6).toFixed(1)} MB/s, ${HOT_TRAFFIC_FACTOR}× the median or more`)
      }
      for (const a of r.alerts) reasons.push(`${a.kind} ${a.subject}: ${a.detail}`)
    }
    if (s.problems.length > 0) reasons.push(`malformed status fields: ${s.problems.join(', ')}`)
    const health: Health = r === null ? 'unknown' : !isUp ? 'down' : r.alerts.length > 0 ? 'alert' : hot ? 'hot' : 'ok'
    if (health === 'down') {
      reasons.unshift(ahead(s)
        ? `its status clock is ${Math.round(((s.wallMs ?? nowMs) - nowMs) / 1000)} s ahead of this node's: ` +
          'not counted as fresh'
        : `silent for ${Math.round((nowMs - (s.wallMs ?? nowMs)) / 1000)} s`)
    }
    if (health === 'unknown') reasons.push('no status record received yet')
    return {
      peerId: s.peerId,
      name: r?.name ?? '',
      self: s.peerId === self,
      up: isUp,
      health,
      reasons,
      lastSeenMs: s.wallMs,
      ageMs: s.wallMs === null ? null : Math.max(0, nowMs - s.wallMs),
      downAfterMs: downAfterMs(r?.periodMs ?? 0),
      hot,
      partition: partitionOf.get(s.peerId) ?? -1,
      alerts: isUp ? (r?.alerts ?? []) : [],
      report: r
    }
  }).sort((a, b) => Number(b.self) - Number(a.self) || cmp(a.peerId, b.peerId))

  const partitions: string[][] = []
  for (const [peer, p] of partitionOf) (partitions[p] ??= []).push(peer)
  const alerts = nodes.flatMap(n => n.alerts.map(a => ({ ...a, peerId: n.peerId, name: n.name })))
  const misbehaviour = nodes
    .flatMap(n => (n.up ? n.report?.misbehaviour ?? [] : []).map(m => ({ ...m, seenBy: n.peerId })))
    .sort((a, b) => b.atMs - a.atMs)
  const hotNodes = nodes.filter(n => n.hot).map(n => n.peerId)
  return {
    atMs: nowMs,
    self,
    nodes,
    links,
    partitions: partitions.map(p => p.sort(cmp)),
    hot: hotNodes,
    alerts,
    misbehaviour,
    summary: {
      nodes: nodes.length,
      up: up.size,
      down: nodes.filter(n => n.health === 'down').length,
      hot: hotNodes.length,
      alerts: alerts.length,
      links: links.length,
      partitions: partitions.length
    }
  }
}

/** One link per pair of up nodes, from the reports of either end. */
function mergeLinks (reporters: readonly Reporter[], up: ReadonlyMap<string, unknown>): MapLink[] {
  interface Merged { a: string, b: string, rtt: number | null, bps: number, ends: Set<string>, relay: Relay }
  const byPair = new Map<string, Merged>()
  for (const s of reporters) {
    for (const l of s.report.links) {
      if (l.peer === s.peerId || !up.has(l.peer)) continue
      const [a, b] = s.peerId < l.peer ? [s.peerId, l.peer] : [l.peer, s.peerId]
      const key = `${a} ${b}`
      const link = byPair.get(key) ?? { a, b, rtt: null, bps: 0, ends: new Set<string>(), relay: undefined }
      if (l.rttMs !== null) link.rtt = link.rtt === null ? l.rttMs : Math.min(link.rtt, l.rttMs)
      link.bps = Math.max(link.bps, l.inBps + l.outBps)
      link.ends.add(s.peerId)
      link.relay = mergeRelay(link.relay, l.relayedBy === a || l.relayedBy === b ? undefined : l.relayedBy)
      byPair.set(key, link)
    }
  }
  return [...byPair.values()]
    .map(l => ({
      a: l.a, b: l.b, rttMs: l.rtt, bytesPerSecond: l.bps, both: l.ends.size === 2, relayedBy: l.relay ?? null
    }))
    .sort((x, y) => cmp(x.a, y.a) || cmp(x.b, y.b))
}

/** undefined: no end has reported yet; null: an end reports it direct; else the relay named so far. */
type Relay = string | null | undefined

/** An end that names itself or the far end as the relay says nothing usable: read as direct, like the decoder. */
function mergeRelay (sofar: Relay, reported: string | undefined): Relay {
  if (sofar === null || reported === undefined) return null
  return sofar === undefined || reported < sofar ? reported : sofar
}

/** Connected components of the up nodes, numbered from the largest. */
function components (nodes: readonly string[], links: readonly MapLink[]): Map<string, number> {
  const parent = new Map(nodes.map(n => [n, n]))
  const find = (x: string): string => {
    let r = x
    while (parent.get(r) !== r) r = parent.get(r) as string
    // Path compression: every node on the way points at the root, or chains grow with each union.
    for (let at = x; at !== r;) {
      const next = parent.get(at) as string
      parent.set(at, r)
      at = next
    }
    return r
  }
  for (const l of links) parent.set(find(l.a), find(l.b))
  const groups = new Map<string, string[]>()
  for (const n of nodes) {
    const root = find(n)
    const g = groups.get(root)
    if (g === undefined) groups.set(root, [n])
    else g.push(n)
  }
  const ordered = [...groups.values()].sort((a, b) => b.length - a.length || cmp(a[0] as string, b[0] as string))
  const out = new Map<string, number>()
  ordered.forEach((g, i) => { for (const n of g) out.set(n, i) })
  return out
}

/** Code-unit order: peer ids are ASCII, and localeCompare is ten times slower at 10,000 nodes. */
function cmp (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
