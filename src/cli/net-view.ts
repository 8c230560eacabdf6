import type { NetworkMap, MapNode } from '../node/index.ts'
import { formatBytes } from './rate.ts'

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
}

const short = (peerId: string): string => peerId.length > 16 ? `…${peerId.slice(-10)}` : peerId
const pad = (s: string, n: number): string => s.length >= n ? s : s + ' '.repeat(n - s.length)
const rate = (bps: number): string => `${formatBytes(Math.round(bps))}/s`
/** A time from a peer's report as ISO text; one that Date cannot hold (|t| > 8.64e15 ms) is shown as its number instead of throwing. */
const isoTime = (ms: number): string => Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `(time ${String(ms)})`

export function statusText (s: StatusView): string {
  const r = s.report
  const lines = [`node ${s.peerId}${s.name === '' ? '' : ` (${s.name})`}`]
  if (r !== null) {
    const up = Math.round((Date.now() - r.startedMs) / 1000)
    lines.push(`  up ${duration(up)}, load ${r.load.map(l => l.toFixed(2)).join(' ')} on ${r.cpus} cores, memory ${formatBytes(r.memory.rssBytes)} (host ${formatBytes(r.memory.freeBytes)} free of ${formatBytes(r.memory.totalBytes)})`)
    lines.push(`  disk ${r.disk === null ? 'unknown' : `${formatBytes(r.disk.freeBytes)} free of ${formatBytes(r.disk.totalBytes)}`}, temperature ${r.temperatureC === null ? 'not exposed by this host' : `${r.temperatureC.toFixed(1)} °C`}`)
    lines.push(`  ${r.links.length} links, traffic in ${rate(r.traffic.inBps)}, out ${rate(r.traffic.outBps)} (${formatBytes(r.traffic.bytesIn)} in, ${formatBytes(r.traffic.bytesOut)} out since start)`)
    for (const f of r.folders) lines.push(`  folder ${f.name}: ${f.state}${f.needFiles > 0 ? `, ${f.needFiles} files (${formatBytes(f.needBytes)}) to go at ${rate(f.bytesPerSecond)}` : ''}${f.conflicts > 0 ? `, ${f.conflicts} conflicts` : ''}${f.errors > 0 ? `, ${f.errors} errors` : ''}`)
  }
  for (const a of s.alerts) lines.push(`  ALERT ${a.kind} ${a.subject}: ${a.detail}`)
  const n = s.network
  lines.push(s.deployment.length === 0
    ? 'network: this node is in no deployment yet (invite a node, or join with an invite)'
    : `network: ${n.up} of ${n.nodes} nodes up, ${n.down} down, ${n.hot} hot, ${n.alerts} alerts, ${n.links} links, ${n.partitions === 1 ? 'not split' : `SPLIT in ${n.partitions} parts`}; status every ${(s.periodMs / 1000).toFixed(1)} s`)
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
      r === null ? '-' : formatBytes(r.memory.rssBytes),
      r === null || r.disk === null ? '-' : formatBytes(r.disk.freeBytes),
      r === null || r.temperatureC === null ? '-' : `${r.temperatureC.toFixed(0)}°C`,
      r === null ? '-' : String(r.links.length),
      r === null ? '-' : `${rate(r.traffic.inBps)} / ${rate(r.traffic.outBps)}`,
      n.reasons.join('; ')
    ]
  })
  const head = ['node', 'name', 'health', 'seen', 'load', 'rss', 'disk free', 'temp', 'links', 'in / out', 'why']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] as string).length)))
  const table = [head, ...rows].map(r => r.map((c, i) => i === r.length - 1 ? c : pad(c, widths[i] as number)).join('  ').trimEnd())
  const links = m.links.map(l => `  ${short(l.a)} — ${short(l.b)}  ${l.rttMs === null ? '? ms' : `${l.rttMs} ms`}  ${rate(l.bytesPerSecond)}${l.both ? '' : '  (one end only)'}`)
  const s = m.summary
  return [
    ...table,
    '',
    `links (${s.links}):`,
    ...(links.length === 0 ? ['  none'] : links),
    '',
    `${s.up} of ${s.nodes} up, ${s.down} down; ${s.partitions <= 1 ? 'one partition' : `SPLIT into ${s.partitions} partitions: ${m.partitions.map(p => `[${p.map(short).join(' ')}]`).join(' ')}`}${m.hot.length > 0 ? `; hot: ${m.hot.map(short).join(' ')}` : ''}`
  ].join('\n')
}

export function alertsText (alerts: NetworkMap['alerts']): string {
  if (alerts.length === 0) return 'no alerts'
  return alerts.map(a => `${isoTime(a.sinceMs)}  ${short(a.peerId)}${a.name === '' ? '' : ` (${a.name})`}  ${a.kind}  ${a.subject}: ${a.detail}`).join('\n')
}

function duration (s: number): string {
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}
