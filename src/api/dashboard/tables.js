// @ts-check
/*
 * The node table, the selected node's card, the alerts and the misbehaviour
 * log: HTML strings built from hostile records (every text through esc(),
 * every row through rowsHtml(), so one bad record shows as one bad row).
 */
import { attr, bytes, duration, esc, fixed, list, num, rate, rowsHtml, shortPeerId, text } from './format.js'
import { $, ago, daemonNow, empty, isoTitle, nodeById, pastTime, peerHtml, state } from './state.js'

/** @typedef {import('./state.js').Hostile} Hostile */

const MISBEHAVIOUR_ROWS_MAX = 300
/** Table order: what needs a look first. */
/** @type {Readonly<Record<string, number>>} */
const SEVERITY = { alert: 0, down: 1, hot: 2, unknown: 3, ok: 4 }
const NA = '<span class="muted">—</span>'

/** @param {Hostile} map */
export function renderNodes (map) {
  /** @type {(n: Hostile) => number} */
  const severity = n => SEVERITY[text(n.health)] ?? 9
  const rows = list(map.nodes).filter(n => n !== null && typeof n === 'object').sort((a, b) =>
    Number(b.self === true) - Number(a.self === true) || severity(a) - severity(b) ||
    text(a.name).localeCompare(text(b.name)) || text(a.peerId).localeCompare(text(b.peerId)))
  // One string, one innerHTML: 200 rows cost one parse, not 2,000 DOM calls.
  $('node-rows').innerHTML = rowsHtml(rows, nodeRow, 11)
  $('nodes-count').textContent = `${text(map.summary?.up)} of ${rows.length} up`
}

/** @param {Hostile} n */
function nodeRow (n) {
  const r = n.report
  const cls = [n.self ? 'self' : '', n.peerId === state.selected ? 'selected' : '', n.up ? '' : 'muted']
    .filter(c => c !== '').join(' ')
  const disk = r?.disk
  const diskPct = disk && num(disk.totalBytes) && disk.totalBytes > 0 && num(disk.freeBytes)
    ? ` (${Math.round(100 * disk.freeBytes / disk.totalBytes)}%)`
    : ''
  const name = text(n.name) === '' ? '<span class="muted">(no name)</span>' : esc(n.name)
  const seen = n.self ? 'now' : n.ageMs === null ? 'never' : esc(duration(n.ageMs))
  const cells = [
    `<td class="name" title="${esc(n.name)}">${name}${n.self ? ' <span class="muted">(this node)</span>' : ''}</td>`,
    `<td class="id" title="${esc(n.peerId)}">${esc(shortPeerId(n.peerId))}</td>`,
    `<td><span class="badge ${esc(n.health)}">${esc(n.health)}</span></td>`,
    `<td class="num" title="shown down after ${esc(duration(n.downAfterMs))} of silence">${seen}</td>`,
    `<td class="num">${r == null ? NA : `${esc(fixed(list(r.load)[0], 2))} / ${esc(r.cpus)}`}</td>`,
    `<td class="num">${r == null ? NA : esc(bytes(r.memory?.rssBytes))}</td>`,
    `<td class="num">${r == null || r.disk == null ? NA : esc(bytes(r.disk.freeBytes) + diskPct)}</td>`,
    `<td class="num">${r == null || !num(r.temperatureC) ? NA : esc(`${fixed(r.temperatureC, 0)} °C`)}</td>`,
    `<td class="num">${r == null ? NA : esc(list(r.links).length)}</td>`,
    `<td class="num">${r == null ? NA : `${esc(rate(r.traffic?.inBps))} / ${esc(rate(r.traffic?.outBps))}`}</td>`,
    `<td class="why">${esc(list(n.reasons).map(text).join('; '))}</td>`
  ]
  return `<tr data-peer="${attr(n.peerId)}" data-health="${esc(n.health)}" class="${cls}">${cells.join('')}</tr>`
}

/** The card of the selected node, over the graph. */
export function renderNodeInfo () {
  const el = $('node-info')
  const n = state.selected === null ? undefined : nodeById().get(state.selected)
  if (n === undefined) { el.hidden = true; return }
  const r = n.report
  const up = pastTime(r?.startedMs) ? duration(daemonNow() - r.startedMs) : '—'
  const facts = [
    `<span class="badge ${esc(n.health)}">${esc(n.health)}</span>`,
    n.self ? 'this node' : `seen ${esc(n.ageMs === null ? 'never' : ago(n.lastSeenMs))}`,
    r == null ? '' : `v${esc(r.version)}, up ${esc(up)}, status every ${esc(duration(r.periodMs))}`,
    n.partition >= 0 && (state.map?.summary.partitions ?? 0) > 1 ? `partition ${esc(n.partition + 1)}` : ''
  ].filter(f => f !== '')
  const reasons = list(n.reasons)
  el.innerHTML = `<div><b>${esc(text(n.name) || '(no name)')}</b></div>
    <div class="id">${esc(n.peerId)}</div>
    <div>${facts.join(' · ')}</div>
    ${reasons.length === 0 ? '' : `<ul>${reasons.map(x => `<li>${esc(x)}</li>`).join('')}</ul>`}`
  el.hidden = false
}

export function renderAlerts () {
  const el = $('alerts')
  if (state.alerts === null) return
  const alerts = list(state.alerts.alerts)
  const t = state.alerts.thresholds
  $('alerts-count').textContent = alerts.length === 0 ? '' : String(alerts.length)
  const rows = rowsHtml(alerts, /** @param {Hostile} a */ a => `<tr>
    <td class="nowrap"${isoTitle(a.sinceMs)}>${esc(ago(a.sinceMs))}</td>
    <td>${peerHtml(a.peerId)}</td>
    <td class="nowrap"><span class="bad">${esc(a.kind)}</span></td>
    <td>${/^12D3KooW/.test(text(a.subject)) ? peerHtml(a.subject) : esc(a.subject)}</td>
    <td>${esc(a.detail)}</td></tr>`, 5)
  const limits = t == null
    ? ''
    : `<p class="muted">thresholds: temperature ≥ ${esc(t.temperatureC)} °C · ` +
      `disk free &lt; ${esc(t.diskFreePercent)}% · memory free &lt; ${esc(t.memoryFreePercent)}% · ` +
      `peer unreachable ≥ ${esc(t.peerUnreachableSeconds)} s · folder stuck ≥ ${esc(t.folderStuckSeconds)} s</p>`
  const head = '<tr><th>since</th><th>node</th><th>kind</th><th>subject</th><th>detail</th></tr>'
  el.innerHTML = (alerts.length === 0
    ? empty('no open alerts on any node')
    : `<table><thead>${head}</thead><tbody>${rows}</tbody></table>`) + limits
}

/**
 * This node's own log (with scores), and what every other node reported; this node's report
 * repeats its log, so that copy is dropped.
 */
export function renderMisbehaviour () {
  const el = $('misbehaviour')
  const self = state.map?.self ?? state.status?.peerId ?? ''
  /** @param {Hostile} m */
  const key = m => `${m.peer}|${m.reason}|${m.atMs}`
  /** @param {Hostile} m */
  const isRecord = m => m !== null && typeof m === 'object'
  const local = list(state.misbehaviour).filter(isRecord).map(m => ({ ...m, seenBy: self }))
  const seen = new Set(local.map(key))
  const remote = list(state.map?.misbehaviour).filter(m => isRecord(m) && !(m.seenBy === self && seen.has(key(m))))
  /** @param {Hostile} m */
  const at = m => pastTime(m.atMs) ? m.atMs : 0
  const all = [...local, ...remote].sort((a, b) => at(b) - at(a))
  $('misbehaviour-count').textContent = all.length === 0 ? '' : String(all.length)
  if (all.length === 0) { el.innerHTML = empty('no peer has misbehaved'); return }
  const rows = rowsHtml(all.slice(0, MISBEHAVIOUR_ROWS_MAX), /** @param {Hostile} m */ m => `<tr>
    <td class="nowrap"${isoTitle(m.atMs)}>${esc(ago(m.atMs))}</td>
    <td>${peerHtml(m.seenBy)}</td>
    <td>${peerHtml(m.peer)}</td>
    <td>${esc(m.reason)}</td>
    <td class="num">${esc(m.points)}</td>
    <td class="num">${num(m.score) ? esc(m.score) : NA}</td>
    <td>${m.disconnected === true ? '<span class="bad">disconnected</span>' : ''}</td></tr>`, 7)
  const more = all.length > MISBEHAVIOUR_ROWS_MAX
    ? `<p class="muted">and ${esc(all.length - MISBEHAVIOUR_ROWS_MAX)} older entries</p>`
    : ''
  const head = '<tr><th>when</th><th>seen by</th><th>peer</th><th>reason</th>' +
    '<th class="num">points</th><th class="num">score</th><th></th></tr>'
  el.innerHTML = `<table><thead>${head}</thead><tbody>${rows}</tbody></table>${more}`
}
