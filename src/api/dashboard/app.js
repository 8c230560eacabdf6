/*
 * The samepage dashboard: plain browser JavaScript, inlined into one page by
 * src/api/dashboard.ts together with cytoscape, so the page needs nothing
 * but its own URL (the token rides in ?token=, and from there in a header).
 *
 * Data flow: every source (/v1/net, /v1/alerts, …) has one refetcher that
 * never runs twice at once and at most once a second; the WebSocket's events
 * say which source to refetch; a timer refetches anyway in case the stream
 * is down. Each answer lands in `state` and re-renders the parts that read it.
 *
 * Every value shown is hostile (names, reasons, subjects, numbers and times
 * come from remote peers' status records): text goes through esc() before it
 * touches innerHTML, numbers through num()/fixed(), times through isoTitle()
 * (a time Date cannot hold is not shown, never thrown); these helpers are in
 * format.js, inlined before this file. Each section and each
 * table row is drawn on its own: one that fails is shown as such, and every
 * other row, the alerts and the rest of the page still show. A failure to
 * draw is never reported as the daemon being gone.
 */
(() => {
  'use strict'

  const TOKEN = new URLSearchParams(location.search).get('token') ?? ''
  const THROTTLE_MS = 1000
  const NET_FALLBACK_MS = 5000
  /** Sources the stream also reports on are polled more slowly: the events carry them. */
  const OTHERS_FALLBACK_MS = 15000
  const BACKOFF_MIN_MS = 1000
  const BACKOFF_MAX_MS = 30000
  /** cose is the prettiest layout but is O(n²) per iteration; above this many nodes a concentric layout keeps the page quick. */
  const COSE_MAX_NODES = 60
  const MISBEHAVIOUR_ROWS_MAX = 300
  const MAX_FIT_ZOOM = 1.4
  const REFUSED_TEXT = 'wrong or missing token: open the URL printed by `samepage dashboard`'

  const COLORS = { ok: '#16a34a', hot: '#f97316', alert: '#dc2626', down: '#6b7280', unknown: '#d1d5db' }
  const ACCENT = '#1d4ed8'
  /** Table order: what needs a look first. */
  const SEVERITY = { alert: 0, down: 1, hot: 2, unknown: 3, ok: 4 }

  const $ = id => document.getElementById(id)

  const state = {
    map: null,
    mapFetchedAt: 0,
    status: null,
    alerts: null,
    misbehaviour: [],
    folders: [],
    spaces: [],
    selected: null,
    refused: false,
    laidOut: false,
    bigGraph: false
  }

  /** Hooks for tests (and for a curious console): the graph, and the map last drawn. */
  const dash = { cy: null, lastMap: null }
  window.samepageDashboard = dash

  // ---------------------------------------------------------------- formatting

  const { text, esc, num, fixed, dateOk, list, why, rowsHtml, bytes, rate, duration } = window.samepageFormat

  /** Draws one section; if it fails, says so in the section and lets the rest of the page draw. */
  function drawn (id, render) {
    try { render() } catch (err) {
      console.error(`samepage dashboard: ${id} could not be drawn`, err)
      const el = $(id)
      if (el !== null && id !== 'graph') el.innerHTML = empty(`this part could not be drawn (${why(err)})`)
    }
  }

  /** The daemon's clock now, as of the last map: remote times are compared with it, not with the browser's. */
  const daemonNow = () => state.map === null ? Date.now() : state.map.atMs + (Date.now() - state.mapFetchedAt)
  const ago = atMs => dateOk(atMs) ? `${duration(daemonNow() - atMs)} ago` : '—'
  const isoTitle = atMs => dateOk(atMs) ? ` title="${esc(new Date(atMs).toISOString())}"` : ''

  const short = peerId => typeof peerId === 'string' && peerId.length > 16 ? `…${peerId.slice(-10)}` : text(peerId)
  const last6 = peerId => text(peerId).slice(-6)

  /** A peer as "name …abc123" (names are not unique: every node on one host shares its hostname). */
  function peerHtml (peerId) {
    const node = nodeById().get(peerId)
    const name = text(node?.name)
    const self = node?.self === true ? ' <span class="muted">(here)</span>' : ''
    return `<span title="${esc(peerId)}">${name === '' ? '' : `${esc(name)} `}<span class="mono">${esc(short(peerId))}</span></span>${self}`
  }

  /** Nodes by peer id, rebuilt once per map (rows look their peers up here, not by scanning the list: no O(n²)). */
  let byIdCache = { map: null, index: new Map() }
  function nodeById () {
    if (byIdCache.map !== state.map) byIdCache = { map: state.map, index: new Map(list(state.map?.nodes).map(n => [n?.peerId, n])) }
    return byIdCache.index
  }

  const empty = text => `<div class="empty">${esc(text)}</div>`

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {
    constructor (status, message) {
      super(message)
      this.status = status
    }
  }

  async function api (path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${TOKEN}` }, cache: 'no-store' })
    if (!res.ok) {
      const body = await res.json().catch(() => null)
      throw new ApiError(res.status, body?.error?.message ?? `${res.status} ${res.statusText}`)
    }
    return await res.json()
  }

  /** What each source updates when its answer arrives. */
  const sources = {
    net: { path: '/v1/net', apply: map => { state.map = map; state.mapFetchedAt = Date.now(); renderMap() } },
    alerts: { path: '/v1/alerts', apply: a => { state.alerts = a; drawn('alerts', renderAlerts) } },
    status: { path: '/v1/status', apply: s => { state.status = s; drawn('who', renderHeader) } },
    misbehaviour: { path: '/v1/misbehaviour', apply: m => { state.misbehaviour = list(m); drawn('misbehaviour', renderMisbehaviour) } },
    folders: { path: '/v1/folders', apply: f => { state.folders = list(f); drawn('folders', renderFolders) } },
    spaces: { path: '/v1/spaces', apply: s => { state.spaces = list(s); drawn('folders', renderFolders) } }
  }

  /**
   * A refetch function for one source: calls coalesce (one request in flight,
   * at most one queued) and start at most once per THROTTLE_MS, so a burst of
   * events costs one request, and an old answer never overwrites a newer one.
   */
  function refetcher (name) {
    const source = sources[name]
    let running = false
    let queued = false
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
        try { source.apply(value) } catch (err) { console.error(`samepage dashboard: the answer of ${source.path} could not be drawn`, err) }
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

  const refetch = Object.fromEntries(Object.keys(sources).map(name => [name, refetcher(name)]))
  const refetchAll = () => { for (const f of Object.values(refetch)) f() }

  // ---------------------------------------------------------------- errors

  function failed (err) {
    if (err instanceof ApiError && err.status === 401) { refuse(); return }
    const why = err instanceof ApiError
      ? `the daemon answered: ${err.message}`
      : 'the daemon does not answer (stopped, or restarted on another port?); retrying'
    const since = state.map === null ? '' : ` — showing the map from ${ago(state.map.atMs)}`
    showBanner(`${esc(why)}${esc(since)}`)
  }

  function reachable () {
    if (!state.refused) $('error').hidden = true
  }

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
    clearTimeout(stream.retry)
    stream.socket?.close()
  }

  // ---------------------------------------------------------------- the live stream

  const stream = { socket: null, backoffMs: BACKOFF_MIN_MS, retry: null }

  function setLive (text, cls) {
    const el = $('live')
    el.textContent = text
    el.className = `live ${cls ?? ''}`
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

  /** Events only say that something changed; the page refetches the source that holds it. */
  function onEvent (ev) {
    switch (ev?.type) {
      case 'network': refetch.net(); refetch.alerts(); return
      case 'folder': refetch.folders(); return
      case 'misbehaviour':
      case 'disconnect': refetch.misbehaviour(); return
      case 'stored': // new entries: roles and members may have changed
      case 'fork': refetch.spaces(); return
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
    const name = text(state.status?.name) || text(selfNode?.name)
    const peerId = text(state.status?.peerId ?? state.map?.self)
    $('who').innerHTML = `${name === '' ? '' : `${esc(name)} `}<code title="${esc(peerId)}">${esc(peerId)}</code>`
    const s = state.map?.summary
    document.title = s === undefined ? 'samepage' : `samepage — ${name === '' ? '' : `${name}, `}${text(s.up)}/${text(s.nodes)} up${s.alerts > 0 ? `, ${text(s.alerts)} alerts` : ''}`
  }

  function renderSummary (map) {
    const s = map.summary
    const chip = (n, label, cls = '') => `<span class="chip ${cls}"><b>${esc(n)}</b> ${esc(label)}</span>`
    const parts = [
      chip(s.nodes, s.nodes === 1 ? 'node' : 'nodes'),
      chip(s.up, 'up'),
      chip(s.down, 'down', s.down > 0 ? 'bad' : ''),
      chip(s.hot, 'hot', s.hot > 0 ? 'warn' : ''),
      chip(s.alerts, s.alerts === 1 ? 'alert' : 'alerts', s.alerts > 0 ? 'bad' : ''),
      chip(s.links, s.links === 1 ? 'link' : 'links'),
      s.partitions > 1
        ? `<span class="chip split" title="groups of nodes that cannot reach each other">SPLIT into ${esc(s.partitions)} partitions</span>`
        : chip(s.partitions, s.partitions === 1 ? 'partition' : 'partitions')
    ]
    if (state.status !== null && Array.isArray(state.status.deployment) && state.status.deployment.length === 0) {
      parts.push('<span class="chip warn">this node is in no deployment yet: invite a node, or join with an invite</span>')
    }
    parts.push(`<span class="updated" id="updated"></span>`)
    $('summary').innerHTML = parts.join('')
    $('summary').dataset.partitions = String(s.partitions)
    tick()
  }

  /** Once a second: how old the data on screen is. */
  function tick () {
    const el = $('updated')
    if (el !== null && state.map !== null) el.textContent = `map from ${duration(Date.now() - state.mapFetchedAt)} ago`
  }

  // ------------------------------------------------ graph

  const GRAPH_STYLE = [
    {
      selector: 'node',
      style: {
        'background-color': COLORS.unknown,
        label: 'data(label)',
        'font-size': 11,
        color: '#374151',
        'text-valign': 'bottom',
        'text-margin-y': 4,
        'text-background-color': '#ffffff',
        'text-background-opacity': 0.75,
        'text-background-padding': 1,
        // Labels vanish when zoomed out on a big network instead of turning into a grey smear.
        'min-zoomed-font-size': 7,
        width: 22,
        height: 22,
        'border-width': 1,
        'border-color': '#ffffff'
      }
    },
    ...Object.entries(COLORS).map(([health, color]) => ({ selector: `node.${health}`, style: { 'background-color': color } })),
    { selector: 'node.self', style: { 'border-width': 4, 'border-color': ACCENT, width: 30, height: 30, 'font-weight': 'bold' } },
    { selector: 'node:selected', style: { 'overlay-color': ACCENT, 'overlay-opacity': 0.18, 'overlay-padding': 6 } },
    { selector: 'edge', style: { width: 'data(width)', 'line-color': 'data(color)', 'curve-style': 'straight', opacity: 0.75 } },
    { selector: 'edge.half', style: { 'line-style': 'dashed' } },
    { selector: 'edge.focus', style: { opacity: 1, 'line-color': ACCENT, 'z-index': 10 } }
  ]

  function initGraph () {
    if (typeof window.cytoscape !== 'function') {
      $('graph').innerHTML = empty('the graph library did not load')
      return null
    }
    const cy = window.cytoscape({
      container: $('graph'),
      elements: [],
      style: GRAPH_STYLE,
      minZoom: 0.05,
      maxZoom: 4,
      boxSelectionEnabled: false,
      selectionType: 'single'
    })
    cy.on('tap', 'node', e => select(e.target.id(), 'graph'))
    cy.on('tap', e => { if (e.target === cy) select(null, 'graph') })
    return cy
  }

  const edgeId = l => `${l.a}|${l.b}`

  function nodeData (n) {
    const full = text(n.name)
    const name = full.length > 24 ? `${full.slice(0, 23)}…` : full
    return {
      id: n.peerId,
      label: name === '' ? last6(n.peerId) : `${name} ${last6(n.peerId)}`,
      health: n.health,
      self: n.self,
      cls: `${n.health}${n.self ? ' self' : ''}`
    }
  }

  /** Round trip sets the colour (calm when near, warm when far); traffic sets the width, on a log scale. */
  function edgeData (l) {
    const color = !num(l.rttMs) ? '#d1d5db' : l.rttMs <= 50 ? '#94a3b8' : l.rttMs <= 200 ? '#f59e0b' : '#ef4444'
    const width = 1.5 + Math.min(6, 1.5 * Math.log10(1 + Math.max(0, num(l.bytesPerSecond) ? l.bytesPerSecond : 0) / 1024))
    return { id: edgeId(l), source: l.a, target: l.b, color, width: Math.round(width * 10) / 10, rttMs: l.rttMs, bps: l.bytesPerSecond, cls: l.both ? '' : 'half' }
  }

  /** Sets only what changed: cytoscape restyles an element on every data() call. */
  function patch (ele, data) {
    for (const [k, v] of Object.entries(data)) {
      if (k === 'id' || k === 'source' || k === 'target') continue
      if (ele.data(k) !== v) ele.data(k, v)
    }
    if (ele.classes().join(' ') !== data.cls) ele.classes(data.cls)
  }

  /**
   * Brings the graph to the map in place: nodes and edges added, removed or
   * patched. Positions stay; only a change in the set of nodes lays it out again.
   */
  function updateGraph (map) {
    const cy = dash.cy
    if (cy === null) return
    const wanted = new Map(list(map.nodes).filter(n => typeof n?.peerId === 'string').map(n => [n.peerId, n]))
    const links = new Map(list(map.links).filter(l => wanted.has(l?.a) && wanted.has(l?.b)).map(l => [edgeId(l), l]))
    const added = []
    let nodesChanged = false
    cy.batch(() => {
      cy.nodes().forEach(ele => { if (!wanted.has(ele.id())) { ele.remove(); nodesChanged = true } })
      cy.edges().forEach(ele => { if (!links.has(ele.id())) ele.remove() })
      for (const n of wanted.values()) {
        const data = nodeData(n)
        const ele = cy.getElementById(n.peerId)
        if (ele.empty()) added.push({ group: 'nodes', data, classes: data.cls, position: state.laidOut ? seedPosition(n, map) : { x: 0, y: 0 } })
        else patch(ele, data)
      }
      if (added.length > 0) { cy.add(added); nodesChanged = true }
      const edges = []
      for (const l of links.values()) {
        const data = edgeData(l)
        const ele = cy.getElementById(data.id)
        if (ele.empty()) edges.push({ group: 'edges', data, classes: data.cls })
        else patch(ele, data)
      }
      if (edges.length > 0) cy.add(edges)
    })
    styleForSize(links.size)
    if (nodesChanged) layout(!state.laidOut)
    $('graph-count').textContent = `${wanted.size} nodes, ${links.size} links`
    focusSelected()
  }

  /** A newcomer starts beside a node it links to, so that a re-layout from current positions moves little. */
  function seedPosition (n, map) {
    const cy = dash.cy
    const link = map.links.find(l => l.a === n.peerId || l.b === n.peerId)
    const other = link === undefined ? null : cy.getElementById(link.a === n.peerId ? link.b : link.a)
    const base = other !== null && other.nonempty() ? other.position() : { x: 0, y: 0 }
    return { x: base.x + (Math.random() - 0.5) * 80, y: base.y + (Math.random() - 0.5) * 80 }
  }

  function layout (fresh) {
    const cy = dash.cy
    if (cy === null || cy.nodes().empty()) return
    const n = cy.nodes().length
    const options = n <= COSE_MAX_NODES
      ? { name: 'cose', animate: false, randomize: fresh, fit: false, nodeDimensionsIncludeLabels: true, nodeRepulsion: () => 400000, idealEdgeLength: () => 110, nodeOverlap: 20, componentSpacing: 100, numIter: 1500 }
      : {
          name: 'concentric',
          animate: false,
          fit: false,
          minNodeSpacing: 8,
          avoidOverlap: true,
          // This node in the middle, the best linked around it, the silent ones outside.
          concentric: node => node.data('self') ? Number.MAX_SAFE_INTEGER : node.degree(false),
          levelWidth: nodes => Math.max(1, nodes.maxDegree(false) / 5)
        }
    cy.layout(options).run()
    fit()
    state.laidOut = true
  }

  /** Fit zooms a handful of nodes up to giants: keep them at a natural size. */
  function fit () {
    const cy = dash.cy
    if (cy === null) return
    cy.fit(undefined, 40)
    if (cy.zoom() > MAX_FIT_ZOOM) { cy.zoom(MAX_FIT_ZOOM); cy.center() }
  }

  /** Hundreds of links drawn at full strength hide the nodes: thinner and fainter when there are many. */
  function styleForSize (edges) {
    const big = edges > 300
    if (big === state.bigGraph) return
    state.bigGraph = big
    dash.cy.style().selector('edge').style({ opacity: big ? 0.3 : 0.75 }).selector('edge.focus').style({ opacity: 1 }).update()
  }

  // ------------------------------------------------ selection (graph ↔ table)

  function select (peerId, from) {
    state.selected = peerId
    const cy = dash.cy
    if (cy !== null && from !== 'graph') {
      cy.nodes(':selected').unselect()
      if (peerId !== null) {
        const ele = cy.getElementById(peerId)
        if (ele.nonempty()) { ele.select(); cy.animate({ center: { eles: ele } }, { duration: 250 }) }
      }
    }
    for (const row of $('node-rows').querySelectorAll('tr.selected')) row.classList.remove('selected')
    const row = peerId === null ? null : rowOf(peerId)
    if (row !== null) {
      row.classList.add('selected')
      if (from === 'graph') row.scrollIntoView({ block: 'nearest' })
    }
    focusSelected()
    renderNodeInfo()
  }

  const rowOf = peerId => [...$('node-rows').rows].find(r => r.dataset.peer === peerId) ?? null

  /** The selected node's links stand out. */
  function focusSelected () {
    const cy = dash.cy
    if (cy === null) return
    cy.batch(() => {
      cy.edges('.focus').removeClass('focus')
      if (state.selected !== null) cy.getElementById(state.selected).connectedEdges().addClass('focus')
    })
  }

  function renderNodeInfo () {
    const el = $('node-info')
    const n = state.selected === null ? undefined : nodeById().get(state.selected)
    if (n === undefined) { el.hidden = true; return }
    const r = n.report
    const facts = [
      `<span class="badge ${esc(n.health)}">${esc(n.health)}</span>`,
      n.self ? 'this node' : `seen ${esc(n.ageMs === null ? 'never' : ago(n.lastSeenMs))}`,
      r == null ? '' : `v${esc(r.version)}, up ${esc(dateOk(r.startedMs) ? duration(daemonNow() - r.startedMs) : '—')}, status every ${esc(duration(r.periodMs))}`,
      n.partition >= 0 && (state.map?.summary.partitions ?? 0) > 1 ? `partition ${esc(n.partition + 1)}` : ''
    ].filter(f => f !== '')
    el.innerHTML = `<div><b>${esc(text(n.name) || '(no name)')}</b></div>
      <div class="id">${esc(n.peerId)}</div>
      <div>${facts.join(' · ')}</div>
      ${list(n.reasons).length === 0 ? '' : `<ul>${list(n.reasons).map(x => `<li>${esc(x)}</li>`).join('')}</ul>`}`
    el.hidden = false
  }

  // ------------------------------------------------ nodes table

  function renderNodes (map) {
    const rows = list(map.nodes).filter(n => n !== null && typeof n === 'object').sort((a, b) =>
      Number(b.self === true) - Number(a.self === true) || (SEVERITY[a.health] ?? 9) - (SEVERITY[b.health] ?? 9) ||
      text(a.name).localeCompare(text(b.name)) || text(a.peerId).localeCompare(text(b.peerId)))
    // One string, one innerHTML: 200 rows cost one parse, not 2,000 DOM calls.
    $('node-rows').innerHTML = rowsHtml(rows, nodeRow, 11)
    $('nodes-count').textContent = `${text(map.summary?.up)} of ${rows.length} up`
  }

  function nodeRow (n) {
    const r = n.report
    const cls = [n.self ? 'self' : '', n.peerId === state.selected ? 'selected' : '', n.up ? '' : 'muted'].filter(c => c !== '').join(' ')
    const na = '<span class="muted">—</span>'
    const diskPct = r?.disk && num(r.disk.totalBytes) && r.disk.totalBytes > 0 && num(r.disk.freeBytes) ? ` (${Math.round(100 * r.disk.freeBytes / r.disk.totalBytes)}%)` : ''
    const cells = [
      `<td class="name" title="${esc(n.name)}">${text(n.name) === '' ? '<span class="muted">(no name)</span>' : esc(n.name)}${n.self ? ' <span class="muted">(this node)</span>' : ''}</td>`,
      `<td class="id" title="${esc(n.peerId)}">${esc(short(n.peerId))}</td>`,
      `<td><span class="badge ${esc(n.health)}">${esc(n.health)}</span></td>`,
      `<td class="num" title="shown down after ${esc(duration(n.downAfterMs))} of silence">${n.self ? 'now' : n.ageMs === null ? 'never' : esc(duration(n.ageMs))}</td>`,
      `<td class="num">${r == null ? na : `${esc(fixed(list(r.load)[0], 2))} / ${esc(r.cpus)}`}</td>`,
      `<td class="num">${r == null ? na : esc(bytes(r.memory?.rssBytes))}</td>`,
      `<td class="num">${r == null || r.disk == null ? na : esc(bytes(r.disk.freeBytes) + diskPct)}</td>`,
      `<td class="num">${r == null || !num(r.temperatureC) ? na : esc(`${fixed(r.temperatureC, 0)} °C`)}</td>`,
      `<td class="num">${r == null ? na : esc(list(r.links).length)}</td>`,
      `<td class="num">${r == null ? na : `${esc(rate(r.traffic?.inBps))} / ${esc(rate(r.traffic?.outBps))}`}</td>`,
      `<td class="why">${esc(list(n.reasons).map(text).join('; '))}</td>`
    ]
    return `<tr data-peer="${esc(n.peerId)}" data-health="${esc(n.health)}" class="${cls}">${cells.join('')}</tr>`
  }

  // ------------------------------------------------ alerts

  function renderAlerts () {
    const el = $('alerts')
    if (state.alerts === null) return
    const alerts = list(state.alerts.alerts)
    const t = state.alerts.thresholds
    $('alerts-count').textContent = alerts.length === 0 ? '' : String(alerts.length)
    const rows = rowsHtml(alerts, a => `<tr>
      <td class="nowrap"${isoTitle(a.sinceMs)}>${esc(ago(a.sinceMs))}</td>
      <td>${peerHtml(a.peerId)}</td>
      <td class="nowrap"><span class="bad">${esc(a.kind)}</span></td>
      <td>${/^12D3KooW/.test(text(a.subject)) ? peerHtml(a.subject) : esc(a.subject)}</td>
      <td>${esc(a.detail)}</td></tr>`, 5)
    const limits = t == null ? '' : `<p class="muted">thresholds: temperature ≥ ${esc(t.temperatureC)} °C · disk free &lt; ${esc(t.diskFreePercent)}% · memory free &lt; ${esc(t.memoryFreePercent)}% · peer unreachable ≥ ${esc(t.peerUnreachableSeconds)} s · folder stuck ≥ ${esc(t.folderStuckSeconds)} s</p>`
    el.innerHTML = (alerts.length === 0
      ? empty('no open alerts on any node')
      : `<table><thead><tr><th>since</th><th>node</th><th>kind</th><th>subject</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table>`) + limits
  }

  // ------------------------------------------------ misbehaviour

  /** This node's own log (with scores), and what every other node reported; this node's report repeats its log, so that copy is dropped. */
  function renderMisbehaviour () {
    const el = $('misbehaviour')
    const self = state.map?.self ?? state.status?.peerId ?? ''
    const key = m => `${m.peer}|${m.reason}|${m.atMs}`
    const local = list(state.misbehaviour).filter(m => m !== null && typeof m === 'object').map(m => ({ ...m, seenBy: self }))
    const seen = new Set(local.map(key))
    const remote = list(state.map?.misbehaviour).filter(m => m !== null && typeof m === 'object' && !(m.seenBy === self && seen.has(key(m))))
    const at = m => num(m.atMs) ? m.atMs : 0
    const all = [...local, ...remote].sort((a, b) => at(b) - at(a))
    $('misbehaviour-count').textContent = all.length === 0 ? '' : String(all.length)
    if (all.length === 0) { el.innerHTML = empty('no peer has misbehaved'); return }
    const rows = rowsHtml(all.slice(0, MISBEHAVIOUR_ROWS_MAX), m => `<tr>
      <td class="nowrap"${isoTitle(m.atMs)}>${esc(ago(m.atMs))}</td>
      <td>${peerHtml(m.seenBy)}</td>
      <td>${peerHtml(m.peer)}</td>
      <td>${esc(m.reason)}</td>
      <td class="num">${esc(m.points)}</td>
      <td class="num">${num(m.score) ? esc(m.score) : '<span class="muted">—</span>'}</td>
      <td>${m.disconnected === true ? '<span class="bad">disconnected</span>' : ''}</td></tr>`, 7)
    const more = all.length > MISBEHAVIOUR_ROWS_MAX ? `<p class="muted">and ${esc(all.length - MISBEHAVIOUR_ROWS_MAX)} older entries</p>` : ''
    el.innerHTML = `<table><thead><tr><th>when</th><th>seen by</th><th>peer</th><th>reason</th><th class="num">points</th><th class="num">score</th><th></th></tr></thead><tbody>${rows}</tbody></table>${more}`
  }

  // ------------------------------------------------ spaces and folders

  function renderFolders () {
    const el = $('folders')
    // innerHTML replaces the <details>: remember which ones were open.
    const open = new Set([...el.querySelectorAll('details[open]')].map(d => d.dataset.key))
    const spaces = spaceRows()
    const folders = folderRows()
    if (spaces.length === 0 && folders.length === 0) { el.innerHTML = empty('no spaces yet'); return }
    const block = f => { try { return folderBlock(f, open) } catch (err) { return `<div class="folder muted">${esc(f.name)}: could not be shown (${esc(why(err))})</div>` } }
    el.innerHTML = `${spaces.length === 0 ? '' : `<h3>Spaces</h3>${spacesTable(spaces)}`}${folders.length === 0 ? '' : `<h3>Folders</h3>${folders.map(block).join('')}`}`
  }

  /** Every space, from this node's list and every node's report, with how many entries each node holds. */
  function spaceRows () {
    const byId = new Map()
    const entry = (id, name) => {
      let s = byId.get(id)
      if (s === undefined) byId.set(id, s = { id, name, role: undefined, members: 0, holders: [] })
      return s
    }
    for (const s of state.spaces) Object.assign(entry(text(s?.id), text(s?.name)), { role: s?.role, members: num(s?.members) ? s.members : 0 })
    for (const n of list(state.map?.nodes)) {
      if (n?.up !== true) continue // a down node's numbers are old news
      for (const s of list(n.report?.spaces)) {
        const e = entry(text(s?.id), text(s?.name))
        e.members = Math.max(e.members, num(s?.members) ? s.members : 0)
        e.holders.push({ peerId: n.peerId, entries: num(s?.entries) ? s.entries : 0 })
      }
    }
    return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  function spacesTable (spaces) {
    const rows = rowsHtml(spaces, s => {
      const most = Math.max(0, ...s.holders.map(h => h.entries))
      const inStep = s.holders.filter(h => h.entries === most).length
      const role = s.role === undefined ? '<span class="muted">not here</span>' : s.role === null ? '<span class="muted">joining</span>' : esc(s.role)
      return `<tr>
        <td title="${esc(s.id)}">${esc(s.name)}</td>
        <td>${role}</td>
        <td class="num">${esc(s.members)}</td>
        <td class="num">${esc(most)}</td>
        <td>${progress(inStep, s.holders.length)} <span class="muted">${esc(inStep)} of ${esc(s.holders.length)} nodes</span></td></tr>`
    }, 5)
    return `<table><thead><tr><th>space</th><th>role here</th><th class="num">members</th><th class="num">entries</th><th>in step</th></tr></thead><tbody>${rows}</tbody></table>`
  }

  /** Every shared folder, from every up node's report, joined with this node's own (richer) status. */
  function folderRows () {
    const bySpace = new Map()
    const entry = (space, name) => {
      let f = bySpace.get(space)
      if (f === undefined) bySpace.set(space, f = { space, name, nodes: [], here: undefined })
      return f
    }
    for (const n of list(state.map?.nodes)) {
      if (n?.up !== true) continue
      for (const f of list(n.report?.folders)) if (f !== null && typeof f === 'object') entry(text(f.space), text(f.name)).nodes.push({ ...f, peerId: n.peerId })
    }
    for (const f of state.folders) if (f !== null && typeof f === 'object') entry(text(f.space), text(f.name)).here = f
    return [...bySpace.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  const synced = f => f.state === 'idle' && f.needFiles === 0 && f.needBytes === 0

  function folderBlock (f, open) {
    const total = f.nodes.length
    const done = f.nodes.filter(synced).length
    const sum = k => f.nodes.reduce((n, x) => n + (num(x[k]) ? x[k] : 0), 0)
    const needFiles = sum('needFiles')
    const conflicts = sum('conflicts')
    const errors = sum('errors')
    const key = `folder:${f.space}`
    const line = [
      `${progress(done, total)}${esc(done)} of ${esc(total)} nodes in sync`,
      needFiles > 0 ? `${esc(needFiles)} files (${esc(bytes(sum('needBytes')))}) to go at ${esc(rate(sum('bytesPerSecond')))}` : '',
      conflicts > 0 ? `<span class="bad">${esc(conflicts)} conflicts</span>` : '',
      errors > 0 ? `<span class="bad">${esc(errors)} errors</span>` : ''
    ].filter(x => x !== '').join(' · ')
    const rows = rowsHtml([...f.nodes].sort((a, b) => Number(synced(a)) - Number(synced(b))), x => `<tr>
      <td>${peerHtml(x.peerId)}</td><td>${esc(x.state)}</td>
      <td class="num">${esc(x.needFiles)} / ${esc(bytes(x.needBytes))}</td><td class="num">${esc(rate(x.bytesPerSecond))}</td>
      <td class="num">${x.conflicts > 0 ? `<span class="bad">${esc(x.conflicts)}</span>` : '0'}</td>
      <td class="num">${x.errors > 0 ? `<span class="bad">${esc(x.errors)}</span>` : '0'}</td></tr>`, 6)
    return `<div class="folder"><div><b title="${esc(f.space)}">${esc(f.name)}</b></div>
      <div>${line}</div>
      ${f.here === undefined ? '' : hereLine(f.here)}
      <details data-key="${esc(key)}"${open.has(key) ? ' open' : ''}><summary>per node</summary>
        <table><thead><tr><th>node</th><th>state</th><th class="num">need files / bytes</th><th class="num">rate</th><th class="num">conflicts</th><th class="num">errors</th></tr></thead><tbody>${rows}</tbody></table>
      </details></div>`
  }

  /** This node's own binding: where, how, and its errors in words (reports only count them). */
  function hereLine (info) {
    const s = info.status ?? {}
    const facts = [
      `here: <span class="mono">${esc(info.path)}</span> (${esc(info.mode)}), ${esc(s.state)}`,
      `${esc(s.localFiles)} files, ${esc(bytes(s.localBytes))}`,
      s.needFiles > 0 ? `${esc(s.needFiles)} to go${num(s.etaSeconds) ? `, about ${esc(duration(s.etaSeconds * 1000))}` : ''}` : '',
      s.conflicts > 0 ? `<span class="bad">${esc(s.conflicts)} conflicts</span>` : '',
      num(s.lastSyncedMs) ? `synced ${esc(ago(s.lastSyncedMs))}` : ''
    ].filter(x => x !== '')
    const errors = list(s.errors).slice(0, 5).map(e => `<li><span class="mono">${esc(e.path)}</span>: ${esc(e.error)}</li>`).join('')
    return `<div class="muted">${facts.join(' · ')}</div>${errors === '' ? '' : `<ul class="bad">${errors}</ul>`}`
  }

  function progress (done, total) {
    const pct = !num(done) || !num(total) || total <= 0 ? 0 : Math.max(0, Math.min(100, Math.round(100 * done / total)))
    return `<span class="bar${pct < 100 ? ' partial' : ''}" title="${esc(pct)}%"><span style="width:${pct}%"></span></span>`
  }

  // ---------------------------------------------------------------- start

  const timers = []

  function wireUi () {
    $('fit').addEventListener('click', fit)
    $('relayout').addEventListener('click', () => layout(true))
    // One listener for every row, not one per row.
    $('node-rows').addEventListener('click', e => {
      const row = e.target.closest('tr[data-peer]')
      if (row !== null) select(row.dataset.peer === state.selected ? null : row.dataset.peer, 'table')
    })
  }

  function start () {
    dash.cy = initGraph()
    wireUi()
    if (TOKEN === '') { refuse(); return }
    refetchAll()
    connect()
    timers.push(setInterval(() => { refetch.net(); refetch.alerts() }, NET_FALLBACK_MS))
    timers.push(setInterval(() => { refetch.status(); refetch.folders(); refetch.spaces(); refetch.misbehaviour() }, OTHERS_FALLBACK_MS))
    timers.push(setInterval(tick, 1000))
  }

  start()
})()
