import type { NetworkMap, MapNode } from '../node/index.ts'
import { bytes, duration, fixed, isoTime, rate, shortPeerId as short } from '../api/index.ts'
import { shown } from './program.ts'

/**
 * How `status`, `net` and `alerts` print the network: plain columns for a
 * terminal (the dashboard and --json are for the rest).
 */
export type { NetworkMap }

export interface StatusView {
  readonly peerId: string
  readonly name: string
  readonly periodMs: number
  readonly report: MapNode['report']
  readonly alerts: NetworkMap['alerts']
  readonly network: NetworkMap['summary']
  readonly deployment: readonly string[]
  readonly reachability: { readonly status: string, readonly relays: readonly string[] }
}

/** Whether members can dial this node (net/reachability.ts), and where they reach it when they cannot. */
function reachabilityText (r: StatusView['reachability']): string {
  if (r.status === 'reachable') return 'reachable: members dial this node directly'
  if (r.status === 'unknown') return 'reachability unknown: no member has dialled this node back yet'
  const via = r.relays.length === 0 ? 'no relay slot yet' : `relayed through ${r.relays.map(short).join(', ')}`
  return `not reachable from outside: members reach it through member relays (${via})`
}

const pad = (s: string, n: number): string => s.length >= n ? s : s + ' '.repeat(n - s.length)

export function statusText (s: StatusView): string {
  const r = s.report
  const lines = [`node ${s.peerId}${s.name === '' ? '' : ` (${s.name})`}`]
  if (r !== null) {
    const m = r.memory
    const load = r.load.map(l => fixed(l, 2)).join(' ')
    lines.push(`  up ${duration(Date.now() - r.startedMs)}, load ${load} on ${r.cpus} cores, ` +
      `memory ${bytes(m.rssBytes)} (host ${bytes(m.freeBytes)} free of ${bytes(m.totalBytes)})`)
    const disk = r.disk === null ? 'unknown' : `${bytes(r.disk.freeBytes)} free of ${bytes(r.disk.totalBytes)}`
    const temperature = r.temperatureC === null ? 'not exposed by this host' : `${fixed(r.temperatureC, 1)} °C`
    lines.push(`  disk ${disk}, temperature ${temperature}`)
    const t = r.traffic
    lines.push(`  ${r.links.length} links, traffic in ${rate(t.inBps)}, out ${rate(t.outBps)} ` +
      `(${bytes(t.bytesIn)} in, ${bytes(t.bytesOut)} out since start)`)
    for (const f of r.folders) {
      const need = f.needFiles > 0
        ? `, ${f.needFiles} files (${bytes(f.needBytes)}) to go at ${rate(f.bytesPerSecond)}`
        : ''
      const conflicts = f.conflicts > 0 ? `, ${f.conflicts} conflicts` : ''
      lines.push(`  folder ${f.name}: ${f.state}${need}${conflicts}${f.errors > 0 ? `, ${f.errors} errors` : ''}`)
    }
  }
  lines.push(`  ${reachabilityText(s.reachability)}`)
  // A subject may be a peer's text (a folder's space name): shown, as any daemon's answer could carry it raw.
  for (const a of s.alerts) lines.push(`  ALERT ${a.kind} ${shown(a.subject)}: ${shown(a.detail)}`)
  const n = s.network
  lines.push(s.deployment.length === 0
    ? 'network: this node is in no deployment yet (invite a node, or join with an invite)'
    : `network: ${n.up} of ${n.nodes} nodes up, ${n.down} down, ${n.hot} hot, ${n.alerts} alerts, ${n.links} links, ` +
      `${n.partitions === 1 ? 'not split' : `SPLIT in ${n.partitions} parts`}; ` +
      `status every ${(s.periodMs / 1000).toFixed(1)} s`)
  return lines.join('\n')
}

export function netText (m: NetworkMap): string {
  const rows = m.nodes.map(n => {
    const r = n.report
    return [
      `${n.self ? '*' : ' '}${short(n.peerId)}`,
      n.name,
      n.health,
      n.ageMs === null ? '-' : `${Math.round(n.ageMs / 1000)} s`,
      r === null ? '-' : `${r.load[0].toFixed(2)}/${r.cpus}`,
      r === null ? '-' : bytes(r.memory.rssBytes),
      r === null || r.disk === null ? '-' : bytes(r.disk.freeBytes),
      r === null || r.temperatureC === null ? '-' : `${r.temperatureC.toFixed(0)}°C`,
      r === null ? '-' : String(r.links.length),
      r === null ? '-' : `${rate(r.traffic.inBps)} / ${rate(r.traffic.outBps)}`,
      n.reasons.join('; ')
    ]
  })
  const head = ['node', 'name', 'health', 'seen', 'load', 'rss', 'disk free', 'temp', 'links', 'in / out', 'why']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] as string).length)))
  const table = [head, ...rows]
    .map(r => r.map((c, i) => i === r.length - 1 ? c : pad(c, widths[i] as number)).join('  ').trimEnd())
  // A relayed link is drawn with a broken arrow and names its relay, as the dashboard draws it dashed.
  const names = new Map(m.nodes.map(n => [n.peerId, n.name]))
  const nameOf = (peerId: string): string => {
    const name = names.get(peerId) ?? ''
    return `${short(peerId)}${name === '' ? '' : ` (${name})`}`
  }
  const links = m.links.map(l => {
    // `?? null`: a daemon from before relays answers without the field.
    const relay = l.relayedBy ?? null
    const ends = relay === null
      ? `${short(l.a)} — ${short(l.b)}`
      : `${short(l.a)} ⇢ ${short(l.b)} via ${nameOf(relay)}`
    return `  ${ends}  ${l.rttMs === null ? '? ms' : `${l.rttMs} ms`}  ${rate(l.bytesPerSecond)}` +
      `${l.both ? '' : '  (one end only)'}`
  })
  const s = m.summary
  const hot = m.hot.length > 0 ? `; hot: ${m.hot.map(short).join(' ')}` : ''
  const partitions = s.partitions <= 1
    ? 'one partition'
    : `SPLIT into ${s.partitions} partitions: ${m.partitions.map(p => `[${p.map(short).join(' ')}]`).join(' ')}`
  return [
    ...table,
    '',
    `links (${s.links}):`,
    ...(links.length === 0 ? ['  none'] : links),
    '',
    `${s.up} of ${s.nodes} up, ${s.down} down; ${partitions}${hot}`
  ].join('\n')
}

export function alertsText (alerts: NetworkMap['alerts']): string {
  if (alerts.length === 0) return 'no alerts'
  return alerts.map(a => {
    const who = `${short(a.peerId)}${a.name === '' ? '' : ` (${a.name})`}`
    return `${isoTime(a.sinceMs)}  ${who}  ${a.kind}  ${a.subject}: ${a.detail}`
  }).join('\n')
}
