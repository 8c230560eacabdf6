// @ts-check
/*
 * The "Spaces & folders" panel: every space and shared folder, from this
 * node's own lists and from every up node's report, with how far each node
 * is. Reports are hostile: every number goes through num(), every text
 * through esc().
 */
import { attr, bytes, duration, esc, list, num, rate, rowsHtml, text, why } from './format.js'
import { $, ago, empty, peerHtml, state } from './state.js'

/** @typedef {import('./state.js').Hostile} Hostile */
/** @typedef {{ peerId: unknown, entries: number }} Holder */
/**
 * `held`: this node holds the space, so its own list says the members and its own report the entries there are.
 * @typedef {{ id: string, name: string, role: unknown, held: boolean, members: number, holders: Holder[],
 *   own: number | undefined }} SpaceRow
 */
/** @typedef {{ space: string, name: string, nodes: Hostile[], here: Hostile }} FolderRow */

/** @param {unknown} v */
const count = v => num(v) ? v : 0

export function renderFolders () {
  const el = $('folders')
  // innerHTML replaces the <details>: remember which ones were open.
  const open = new Set([...el.querySelectorAll('details[open]')]
    .map(d => d instanceof HTMLElement ? d.dataset.key : ''))
  const spaces = spaceRows()
  const folders = folderRows()
  if (spaces.length === 0 && folders.length === 0) { el.innerHTML = empty('no spaces yet'); return }
  /** @param {FolderRow} f */
  const block = f => {
    try { return folderBlock(f, open) } catch (err) {
      return `<div class="folder muted">${esc(f.name)}: could not be shown (${esc(why(err))})</div>`
    }
  }
  el.innerHTML = (spaces.length === 0 ? '' : `<h3>Spaces</h3>${spacesTable(spaces)}`) +
    (folders.length === 0 ? '' : `<h3>Folders</h3>${folders.map(block).join('')}`)
}

/**
 * The value most of `values` are (ties: the smaller): what the reporters agree on, never one report's extreme.
 * @param {number[]} values
 */
function agreed (values) {
  /** @type {Map<number, number>} */
  const times = new Map()
  for (const v of values) times.set(v, (times.get(v) ?? 0) + 1)
  let best = 0
  let most = 0
  for (const [v, n] of times) if (n > most || (n === most && v < best)) { best = v; most = n }
  return best
}

/**
 * Every space, from this node's list and every node's report, with how many entries each node holds. A report
 * describes its author only: of a space held here, the members are this node's own ACL's, and the daemon has
 * already left out the claims of reporters that ACL does not list (/v1/net).
 * @returns {SpaceRow[]}
 */
function spaceRows () {
  /** @type {Map<string, SpaceRow>} */
  const byId = new Map()
  /** @param {string} id @param {string} name */
  const entry = (id, name) => {
    let s = byId.get(id)
    if (s === undefined) {
      byId.set(id, s = { id, name, role: undefined, held: false, members: 0, holders: [], own: undefined })
    }
    return s
  }
  for (const s of state.spaces) {
    Object.assign(entry(text(s?.id), text(s?.name)), { role: s?.role, held: true, members: count(s?.members) })
  }
  /** @type {Map<SpaceRow, number[]>} */
  const claimedMembers = new Map()
  for (const n of list(state.map?.nodes)) {
    if (n?.up !== true) continue // a down node's numbers are old news
    for (const s of list(n.report?.spaces)) {
      const e = entry(text(s?.id), text(s?.name))
      claimedMembers.set(e, [...claimedMembers.get(e) ?? [], count(s?.members)])
      e.holders.push({ peerId: n.peerId, entries: count(s?.entries) })
      if (n.self === true) e.own = count(s?.entries)
    }
  }
  for (const [e, claims] of claimedMembers) if (!e.held) e.members = agreed(claims)
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/** @param {SpaceRow[]} spaces */
function spacesTable (spaces) {
  const rows = rowsHtml(spaces, /** @param {SpaceRow} s */ s => {
    // Measured against this node's own count where it holds the space: a claim of more is shown as such, and
    // never moves the nodes that hold every entry to "behind".
    const entries = s.held && s.own !== undefined ? s.own : agreed(s.holders.map(h => h.entries))
    const inStep = s.holders.filter(h => h.entries === entries).length
    const more = s.holders.filter(h => h.entries > entries).length
    const claims = more === 0 ? '' : ` <span class="bad">· ${esc(more)} claim more</span>`
    const role = s.role === undefined
      ? '<span class="muted">not here</span>'
      : s.role === null ? '<span class="muted">joining</span>' : esc(s.role)
    return `<tr>
      <td title="${esc(s.id)}">${esc(s.name)}</td>
      <td>${role}</td>
      <td class="num">${esc(s.members)}</td>
      <td class="num">${esc(entries)}</td>
      <td>${progress(inStep, s.holders.length)}
        <span class="muted">${esc(inStep)} of ${esc(s.holders.length)} nodes</span>${claims}</td>
    </tr>`
  }, 5)
  const head = '<tr><th>space</th><th>role here</th><th class="num">members</th><th class="num">entries</th>' +
    '<th>in step</th></tr>'
  return `<table><thead>${head}</thead><tbody>${rows}</tbody></table>`
}

/**
 * Every shared folder, from every up node's report, joined with this node's own (richer) status.
 * @returns {FolderRow[]}
 */
function folderRows () {
  /** @type {Map<string, FolderRow>} */
  const bySpace = new Map()
  /** @param {string} space @param {string} name */
  const entry = (space, name) => {
    let f = bySpace.get(space)
    if (f === undefined) bySpace.set(space, f = { space, name, nodes: [], here: undefined })
    return f
  }
  for (const n of list(state.map?.nodes)) {
    if (n?.up !== true) continue
    for (const f of list(n.report?.folders)) {
      if (f !== null && typeof f === 'object') entry(text(f.space), text(f.name)).nodes.push({ ...f, peerId: n.peerId })
    }
  }
  for (const f of state.folders) if (f !== null && typeof f === 'object') entry(text(f.space), text(f.name)).here = f
  return [...bySpace.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/** @param {Hostile} f */
const synced = f => f.state === 'idle' && f.needFiles === 0 && f.needBytes === 0

/**
 * @param {FolderRow} f
 * @param {Set<string | undefined>} open the keys of the <details> that were open
 */
function folderBlock (f, open) {
  const total = f.nodes.length
  const done = f.nodes.filter(synced).length
  /** @param {string} k */
  const sum = k => f.nodes.reduce((n, x) => n + count(x[k]), 0)
  const needFiles = sum('needFiles')
  const conflicts = sum('conflicts')
  const errors = sum('errors')
  const key = `folder:${f.space}`
  const line = [
    `${progress(done, total)}${esc(done)} of ${esc(total)} nodes in sync`,
    needFiles > 0
      ? `${esc(needFiles)} files (${esc(bytes(sum('needBytes')))}) to go at ${esc(rate(sum('bytesPerSecond')))}`
      : '',
    conflicts > 0 ? `<span class="bad">${esc(conflicts)} conflicts</span>` : '',
    errors > 0 ? `<span class="bad">${esc(errors)} errors</span>` : ''
  ].filter(x => x !== '').join(' · ')
  /** @param {unknown} n */
  const bad = n => count(n) > 0 ? `<span class="bad">${esc(n)}</span>` : '0'
  const byNeed = [...f.nodes].sort((a, b) => Number(synced(a)) - Number(synced(b)))
  const rows = rowsHtml(byNeed, /** @param {Hostile} x */ x => `<tr>
    <td>${peerHtml(x.peerId)}</td><td>${esc(x.state)}</td>
    <td class="num">${esc(x.needFiles)} / ${esc(bytes(x.needBytes))}</td>
    <td class="num">${esc(rate(x.bytesPerSecond))}</td>
    <td class="num">${bad(x.conflicts)}</td>
    <td class="num">${bad(x.errors)}</td></tr>`, 6)
  const head = '<tr><th>node</th><th>state</th><th class="num">need files / bytes</th><th class="num">rate</th>' +
    '<th class="num">conflicts</th><th class="num">errors</th></tr>'
  return `<div class="folder"><div><b title="${esc(f.space)}">${esc(f.name)}</b></div>
    <div>${line}</div>
    ${f.here === undefined ? '' : hereLine(f.here)}
    <details data-key="${attr(key)}"${open.has(key) ? ' open' : ''}><summary>per node</summary>
      <table><thead>${head}</thead><tbody>${rows}</tbody></table>
    </details></div>`
}

/**
 * This node's own binding: where, how, and its errors in words (reports only count them).
 * @param {Hostile} info
 */
function hereLine (info) {
  const s = info.status ?? {}
  const eta = num(s.etaSeconds) ? `, about ${esc(duration(s.etaSeconds * 1000))}` : ''
  const facts = [
    `here: <span class="mono">${esc(info.path)}</span> (${esc(info.mode)}), ${esc(s.state)}`,
    `${esc(s.localFiles)} files, ${esc(bytes(s.localBytes))}`,
    s.needFiles > 0 ? `${esc(s.needFiles)} to go${eta}` : '',
    s.conflicts > 0 ? `<span class="bad">${esc(s.conflicts)} conflicts</span>` : '',
    num(s.lastSyncedMs) ? `synced ${esc(ago(s.lastSyncedMs))}` : ''
  ].filter(x => x !== '')
  const errors = list(s.errors).slice(0, 5)
    .map(e => `<li><span class="mono">${esc(e.path)}</span>: ${esc(e.error)}</li>`).join('')
  return `<div class="muted">${facts.join(' · ')}</div>${errors === '' ? '' : `<ul class="bad">${errors}</ul>`}`
}

/**
 * @param {number} done
 * @param {number} total
 */
function progress (done, total) {
  const pct = !num(done) || !num(total) || total <= 0 ? 0 : Math.max(0, Math.min(100, Math.round(100 * done / total)))
  return `<span class="bar${pct < 100 ? ' partial' : ''}" title="${esc(pct)}%">` +
    `<span style="width:${pct}%"></span></span>`
}
