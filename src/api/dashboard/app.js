// @ts-check
/*
 * The samepage dashboard's entry module: native ES modules, served as they
 * are by src/api/dashboard.ts (no build step). The page needs nothing but its
 * own URL: the token rides in ?token=, and from there in a header.
 *
 * The modules: format.js (formatting of hostile values, shared with the CLI),
 * state.js (what the page knows), graph.js (the network graph), tables.js
 * (nodes, alerts, misbehaviour), folders.js (spaces and folders), api.js
 * (the calls), and the "Manage" panel: actions.js (what every action
 * shares), manage.js (create, join, invite, share a folder), folder-admin.js
 * (stop sharing, conflicts), members.js (grant, revoke); and this file: the
 * data flow, the live stream, the header and the selection.
 *
 * Data flow: every source (/v1/net, /v1/alerts, …) has one refetcher that
 * never runs twice at once and at most once a second; the WebSocket's events
 * say which source to refetch; a timer refetches anyway in case the stream
 * is down. Each answer lands in `state` and re-renders the parts that read it.
 *
 * Every value shown is hostile (names, reasons, subjects, numbers and times
 * come from remote peers' status records): see format.js. Each section and
 * each table row is drawn on its own: one that fails is shown as such, and
 * every other row, the alerts and the rest of the page still show. A failure
 * to draw is never reported as the daemon being gone.
 */
import { fillSpaceSelects, onActionDone } from './actions.js'
import { api, ApiError, TOKEN } from './api.js'
import { renderFolderAdmin, wireFolderAdmin } from './folder-admin.js'
import { duration, esc, list, shown, text } from './format.js'
import { dash, fit, focusSelected, initGraph, layout, selectInGraph, updateGraph } from './graph.js'
import { renderFolders } from './folders.js'
import { wireManage } from './manage.js'
import { refreshMembers, wireMembers } from './members.js'
import { $, ago, drawn, state } from './state.js'
import { renderAlerts, renderMisbehaviour, renderNodeInfo, renderNodes } from './tables.js'

/** @typedef {import('./state.js').Hostile} Hostile */

const THROTTLE_MS = 1000
const NET_FALLBACK_MS = 5000
/** Sources the stream also reports on are polled more slowly: the events carry them. */
const OTHERS_FALLBACK_MS = 15000
const BACKOFF_MIN_MS = 1000
const BACKOFF_MAX_MS = 30000
const REFUSED_TEXT = 'wrong or missing token: open the URL printed by `samepage dashboard`'

/** Hooks for tests and a curious console: window.samepageDashboard.cy is the graph. */
Object.assign(window, { samepageDashboard: dash })

// ---------------------------------------------------------------- the sources

/**
 * What each source updates when its answer arrives.
 * @type {Record<string, { path: string, apply: (answer: Hostile) => void }>}
 */
const sources = {
  net: { path: '/v1/net', apply: map => { state.map = map; state.mapFetchedAt = Date.now(); renderMap() } },
  alerts: { path: '/v1/alerts', apply: a => { state.alerts = a; drawn('alerts', renderAlerts) } },
  status: { path: '/v1/status', apply: s => { state.status = s; drawn('who', renderHeader) } },
  misbehaviour: {
    path: '/v1/misbehaviour',
    apply: m => { state.misbehaviour = list(m); drawn('misbehaviour', renderMisbehaviour) }
  },
  folders: {
    path: '/v1/folders',
    apply: f => { state.folders = list(f); drawn('folders', renderFolders); drawn('folder-admin', renderFolderAdmin) }
  },
  spaces: {
    path: '/v1/spaces',
    apply: s => {
      state.spaces = list(s)
      drawn('folders', renderFolders)
      drawn('space-selects', fillSpaceSelects) // no such element: a failure never wipes the forms
      refreshMembers()
    }
  }
}

/**
 * A refetch function for one source: calls coalesce (one request in flight,
 * at most one queued) and start at most once per THROTTLE_MS, so a burst of
 * events costs one request, and an old answer never overwrites a newer one.
 * @param {{ path: string, apply: (answer: Hostile) => void }} source
 * @returns {() => void}
 */
function refetcher (source) {
  let running = false
  let queued = false
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null
  let lastStartMs = 0
  const run = async () => {
    timer = null
    running = true
    lastStartMs = Date.now()
    try {
      let value
      try {
        value = await api(source.path)
      } catch (err) {
        failed(err)
        return
      }
      if (state.refused) return
      reachable()
      // The daemon answered: whatever the answer holds, drawing it never makes the page say the daemon is gone.
      try { source.apply(value) } catch (err) {
        console.error(`samepage dashboard: the answer of ${source.path} could not be drawn`, err)
      }
    } finally {
      running = false
      if (queued) { queued = false; schedule() }
    }
  }
  const schedule = () => {
    if (state.refused) return
    if (running) { queued = true; return }
    if (timer !== null) return
    timer = setTimeout(run, Math.max(0, lastStartMs + THROTTLE_MS - Date.now()))
  }
  return schedule
}

const refetch = {
  net: refetcher(sources.net),
  alerts: refetcher(sources.alerts),
  status: refetcher(sources.status),
  misbehaviour: refetcher(sources.misbehaviour),
  folders: refetcher(sources.folders),
  spaces: refetcher(sources.spaces)
}
const refetchAll = () => { for (const f of Object.values(refetch)) f() }

// ---------------------------------------------------------------- errors

/** @param {unknown} err */
function failed (err) {
  if (err instanceof ApiError && err.status === 401) { refuse(); return }
  const why = err instanceof ApiError && err.status !== 0
    ? `the daemon answered: ${err.code}: ${err.message}`
    : 'the daemon does not answer (stopped, or restarted on another port?); retrying'
  const since = state.map === null ? '' : ` — showing the map from ${ago(state.map.atMs)}`
  showBanner(`${esc(why)}${esc(since)}`)
}

function reachable () {
  if (!state.refused) $('error').hidden = true
}

/** @param {string} html */
function showBanner (html) {
  const el = $('error')
  el.innerHTML = html
  el.hidden = false
}

/** A wrong token will not get better by retrying: say so, stop everything, show no data. */
function refuse () {
  if (state.refused) return
  state.refused = true
  showBanner(esc(REFUSED_TEXT).replace(/`([^`]+)`/g, '<code>$1</code>'))
  $('main').hidden = true
  $('summary').hidden = true
  $('who').textContent = ''
  setLive('refused', 'closed')
  for (const t of timers) clearInterval(t)
  if (stream.retry !== null) clearTimeout(stream.retry)
  stream.socket?.close()
}

// ---------------------------------------------------------------- the live stream

const stream = {
  /** @type {WebSocket | null} */ socket: null,
  backoffMs: BACKOFF_MIN_MS,
  /** @type {ReturnType<typeof setTimeout> | null} */ retry: null
}

/**
 * @param {string} label
 * @param {string} cls
 */
function setLive (label, cls) {
  const el = $('live')
  el.textContent = label
  el.className = `live ${cls}`
}

function connect () {
  if (state.refused) return
  setLive('connecting', '')
  const proto = location.protocol === 'https:' ? 'wss' : 'ws'
  const socket = new WebSocket(`${proto}://${location.host}/v1/events?token=${encodeURIComponent(TOKEN)}`)
  stream.socket = socket
  socket.onopen = () => {
    stream.backoffMs = BACKOFF_MIN_MS
    setLive('live', 'open')
    refetchAll() // whatever happened while the stream was down
  }
  socket.onmessage = e => {
    let ev
    try { ev = JSON.parse(e.data) } catch { return }
    onEvent(ev)
  }
  socket.onclose = () => {
    if (stream.socket !== socket || state.refused) return
    stream.socket = null
    // Exponential backoff with jitter: a restarting daemon is not stormed by every open tab at once.
    const wait = Math.round(stream.backoffMs * (0.8 + 0.4 * Math.random()))
    stream.backoffMs = Math.min(BACKOFF_MAX_MS, stream.backoffMs * 2)
    setLive(`offline, retrying in ${Math.ceil(wait / 1000)} s`, 'closed')
    stream.retry = setTimeout(connect, wait)
  }
}

/**
 * Events only say that something changed; the page refetches the source that holds it.
 * @param {Hostile} ev
 */
function onEvent (ev) {
  switch (ev?.type) {
    case 'network': refetch.net(); refetch.alerts(); return
    case 'folder': refetch.folders(); return
    case 'misbehaviour':
    case 'disconnect': refetch.misbehaviour(); return
    case 'stored': // new entries: roles and members may have changed
    case 'fork': refetch.spaces()
  }
}

// ---------------------------------------------------------------- rendering

function renderMap () {
  const map = state.map
  dash.lastMap = map
  drawn('summary', () => renderSummary(map))
  drawn('graph', () => updateGraph(map))
  drawn('node-rows', () => renderNodes(map))
  drawn('node-info', renderNodeInfo)
  drawn('folders', renderFolders)
  drawn('misbehaviour', renderMisbehaviour)
  drawn('alerts', renderAlerts) // peers in alerts are named from the map
  drawn('who', renderHeader)
}

function renderHeader () {
  const selfNode = list(state.map?.nodes).find(n => n?.self === true)
  const name = shown(state.status?.name) || shown(selfNode?.name) // also the window's title: plain text
  const peerId = text(state.status?.peerId ?? state.map?.self)
  $('who').innerHTML = `${name === '' ? '' : `${esc(name)} `}<code title="${esc(peerId)}">${esc(peerId)}</code>`
  const s = state.map?.summary
  const alerts = s?.alerts > 0 ? `, ${text(s.alerts)} alerts` : ''
  document.title = s === undefined
    ? 'samepage'
    : `samepage — ${name === '' ? '' : `${name}, `}${text(s.up)}/${text(s.nodes)} up${alerts}`
}

/** @param {Hostile} map */
function renderSummary (map) {
  const s = map.summary
  /** @type {(n: unknown, label: string, cls?: string) => string} */
  const chip = (n, label, cls = '') => `<span class="chip ${cls}"><b>${esc(n)}</b> ${esc(label)}</span>`
  const parts = [
    chip(s.nodes, s.nodes === 1 ? 'node' : 'nodes'),
    chip(s.up, 'up'),
    chip(s.down, 'down', s.down > 0 ? 'bad' : ''),
    chip(s.hot, 'hot', s.hot > 0 ? 'warn' : ''),
    chip(s.alerts, s.alerts === 1 ? 'alert' : 'alerts', s.alerts > 0 ? 'bad' : ''),
    chip(s.links, s.links === 1 ? 'link' : 'links'),
    s.partitions > 1
      ? '<span class="chip split" title="groups of nodes that cannot reach each other">' +
        `SPLIT into ${esc(s.partitions)} partitions</span>`
      : chip(s.partitions, s.partitions === 1 ? 'partition' : 'partitions')
  ]
  if (state.status !== null && Array.isArray(state.status.deployment) && state.status.deployment.length === 0) {
    parts.push('<span class="chip warn">this node is in no deployment yet: ' +
      'invite a node, or join with an invite</span>')
  }
  parts.push('<span class="updated" id="updated"></span>')
  const el = $('summary')
  el.innerHTML = parts.join('')
  el.dataset.partitions = text(s.partitions)
  tick()
}

/** Once a second: how old the data on screen is. */
function tick () {
  const el = document.getElementById('updated')
  if (el !== null && state.map !== null) el.textContent = `map from ${duration(Date.now() - state.mapFetchedAt)} ago`
}

// ---------------------------------------------------------------- selection (graph ↔ table)

/**
 * @param {string | null} peerId
 * @param {'graph' | 'table'} from
 */
function select (peerId, from) {
  state.selected = peerId
  if (from !== 'graph') selectInGraph(peerId)
  const rows = $('node-rows')
  for (const row of rows.querySelectorAll('tr.selected')) row.classList.remove('selected')
  const row = peerId === null ? null : rowOf(rows, peerId)
  if (row !== null) {
    row.classList.add('selected')
    if (from === 'graph') row.scrollIntoView({ block: 'nearest' })
  }
  focusSelected()
  renderNodeInfo()
}

/**
 * @param {HTMLElement} rows
 * @param {string} peerId
 */
const rowOf = (rows, peerId) =>
  [...rows.querySelectorAll('tr[data-peer]')].find(r => r instanceof HTMLElement && r.dataset.peer === peerId) ?? null

// ---------------------------------------------------------------- start

/** @type {ReturnType<typeof setInterval>[]} */
const timers = []

function wireUi () {
  wireManage()
  wireFolderAdmin()
  wireMembers()
  onActionDone(refetchAll)
  $('fit').addEventListener('click', fit)
  $('relayout').addEventListener('click', () => layout(true))
  // One listener for every row, not one per row.
  $('node-rows').addEventListener('click', e => {
    const row = e.target instanceof Element ? e.target.closest('tr[data-peer]') : null
    if (!(row instanceof HTMLElement)) return
    const peer = row.dataset.peer ?? null
    select(peer === state.selected ? null : peer, 'table')
  })
}

async function start () {
  await initGraph(peerId => select(peerId, 'graph'))
  wireUi()
  if (TOKEN === '') { refuse(); return }
  refetchAll()
  connect()
  timers.push(setInterval(() => { refetch.net(); refetch.alerts() }, NET_FALLBACK_MS))
  timers.push(setInterval(() => {
    refetch.status(); refetch.folders(); refetch.spaces(); refetch.misbehaviour()
  }, OTHERS_FALLBACK_MS))
  timers.push(setInterval(tick, 1000))
}

void start()
