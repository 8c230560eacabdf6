// @ts-check
/*
 * The network graph (cytoscape): one node per peer coloured by health, one
 * edge per link coloured by round trip and as wide as its traffic, dashed and
 * labelled "via R" when a member relays it (edges.js). The graph is patched
 * in place from each map, so positions stay put; only a change in the set of
 * nodes lays it out again.
 */
import { edgeData, edgeId } from './edges.js'
import { list, shown, text } from './format.js'
import { $, empty, state } from './state.js'

/** @typedef {import('./state.js').Hostile} Hostile */
/** @typedef {import('cytoscape').Core} Core */
/** @typedef {import('cytoscape').ElementDefinition} ElementDefinition */

/** cose is the prettiest layout but is O(n²) per iteration; above this many nodes, concentric keeps the page quick. */
const COSE_MAX_NODES = 60
const MAX_FIT_ZOOM = 1.4
/** The colour of each health; test/e2e/dashboard.test.ts reads `down` back from the graph. */
const COLORS = { ok: '#16a34a', hot: '#f97316', alert: '#dc2626', down: '#6b7280', unknown: '#d1d5db' }
const ACCENT = '#1d4ed8'

/** Hooks for tests (and for a curious console): the graph, and the map last drawn. */
export const dash = {
  /** @type {Core | null} */ cy: null,
  /** @type {Hostile} */ lastMap: null
}

/** @type {import('cytoscape').StylesheetJson} */
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
      'text-background-padding': '1',
      // Labels vanish when zoomed out on a big network instead of turning into a grey smear.
      'min-zoomed-font-size': 7,
      width: 22,
      height: 22,
      'border-width': 1,
      'border-color': '#ffffff'
    }
  },
  ...Object.entries(COLORS).map(([health, color]) => ({
    selector: `node.${health}`,
    style: { 'background-color': color }
  })),
  {
    selector: 'node.self',
    style: { 'border-width': 4, 'border-color': ACCENT, width: 30, height: 30, 'font-weight': 'bold' }
  },
  { selector: 'node:selected', style: { 'overlay-color': ACCENT, 'overlay-opacity': 0.18, 'overlay-padding': 6 } },
  {
    selector: 'edge',
    style: { width: 'data(width)', 'line-color': 'data(color)', 'curve-style': 'straight', opacity: 0.75 }
  },
  // A link only one end reports is dotted; a relayed one dashed (relayed wins when both), with its relay as label.
  { selector: 'edge.half', style: { 'line-style': 'dotted' } },
  {
    selector: 'edge.relayed',
    style: {
      'line-style': 'dashed',
      'line-dash-pattern': [7, 4],
      label: 'data(label)',
      'font-size': 9,
      color: '#6b7280',
      'text-rotation': 'autorotate',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.75,
      'min-zoomed-font-size': 7
    }
  },
  { selector: 'edge.focus', style: { opacity: 1, 'line-color': ACCENT, 'z-index': 10 } }
]

/**
 * The graph in #graph; a tap on a node (or on the background: null) selects it. The library is
 * loaded here, not imported at the top: if it fails to load, the rest of the page still works.
 * @param {(peerId: string | null) => void} onTap
 */
export async function initGraph (onTap) {
  /** @type {typeof import('cytoscape')} */
  let cytoscape
  try {
    cytoscape = (await import('./cytoscape.js')).default
  } catch (err) {
    console.error('samepage dashboard: the graph library did not load', err)
    $('graph').innerHTML = empty('the graph library did not load')
    return
  }
  const cy = cytoscape({
    container: $('graph'),
    elements: [],
    style: GRAPH_STYLE,
    minZoom: 0.05,
    maxZoom: 4,
    boxSelectionEnabled: false,
    selectionType: 'single'
  })
  cy.on('tap', 'node', e => onTap(e.target.id()))
  cy.on('tap', e => { if (e.target === cy) onTap(null) })
  // The browser's own tooltip says what an edge is: its ends, round trip, traffic, and relay.
  cy.on('mouseover', 'edge', e => { $('graph').title = text(e.target.data('title')) })
  cy.on('mouseout', 'edge', () => { $('graph').title = '' })
  dash.cy = cy
}

/** @param {unknown} peerId */
const last6 = peerId => text(peerId).slice(-6)

/** @param {Hostile} n */
function nodeData (n) {
  const full = shown(n.name) // canvas text: no HTML, but a bidi override would still turn it round
  const name = full.length > 24 ? `${full.slice(0, 23)}…` : full
  return {
    id: n.peerId,
    label: name === '' ? last6(n.peerId) : `${name} ${last6(n.peerId)}`,
    health: n.health,
    self: n.self,
    cls: `${n.health}${n.self ? ' self' : ''}`
  }
}

/**
 * Sets only what changed: cytoscape restyles an element on every data() call.
 * @param {import('cytoscape').SingularElementReturnValue} ele
 * @param {Record<string, unknown> & { cls: string }} data
 */
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
 * @param {Hostile} map
 */
export function updateGraph (map) {
  const cy = dash.cy
  if (cy === null) return
  const wanted = new Map(list(map.nodes).filter(n => typeof n?.peerId === 'string').map(n => [n.peerId, n]))
  const links = new Map(list(map.links).filter(l => wanted.has(l?.a) && wanted.has(l?.b)).map(l => [edgeId(l), l]))
  /** @type {ElementDefinition[]} */
  const added = []
  let nodesChanged = false
  cy.batch(() => {
    cy.nodes().forEach(ele => { if (!wanted.has(ele.id())) { ele.remove(); nodesChanged = true } })
    cy.edges().forEach(ele => { if (!links.has(ele.id())) ele.remove() })
    for (const n of wanted.values()) {
      const data = nodeData(n)
      const ele = cy.getElementById(n.peerId)
      const position = state.laidOut ? seedPosition(cy, n, map) : { x: 0, y: 0 }
      if (ele.empty()) added.push({ group: 'nodes', data, classes: data.cls, position })
      else patch(ele, data)
    }
    if (added.length > 0) { cy.add(added); nodesChanged = true }
    /** @type {ElementDefinition[]} */
    const edges = []
    for (const l of links.values()) {
      const data = edgeData(l, wanted)
      const ele = cy.getElementById(data.id)
      if (ele.empty()) edges.push({ group: 'edges', data, classes: data.cls })
      else patch(ele, data)
    }
    if (edges.length > 0) cy.add(edges)
  })
  styleForSize(cy, links.size)
  if (nodesChanged) layout(!state.laidOut)
  $('graph-count').textContent = `${wanted.size} nodes, ${links.size} links`
  focusSelected()
}

/**
 * A newcomer starts beside a node it links to, so that a re-layout from current positions moves little.
 * @param {Core} cy
 * @param {Hostile} n
 * @param {Hostile} map
 */
function seedPosition (cy, n, map) {
  const link = list(map.links).find(l => l.a === n.peerId || l.b === n.peerId)
  const other = link === undefined ? null : cy.getElementById(link.a === n.peerId ? link.b : link.a)
  const base = other !== null && other.nonempty() ? other.position() : { x: 0, y: 0 }
  return { x: base.x + (Math.random() - 0.5) * 80, y: base.y + (Math.random() - 0.5) * 80 }
}

/** @param {boolean} fresh lay out from scratch (the first map), or from where the nodes are */
export function layout (fresh) {
  const cy = dash.cy
  if (cy === null || cy.nodes().empty()) return
  /** @type {import('cytoscape').LayoutOptions} */
  const options = cy.nodes().length <= COSE_MAX_NODES
    ? {
        name: 'cose',
        animate: false,
        randomize: fresh,
        fit: false,
        nodeDimensionsIncludeLabels: true,
        nodeRepulsion: () => 400000,
        idealEdgeLength: () => 110,
        nodeOverlap: 20,
        componentSpacing: 100,
        numIter: 1500
      }
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
export function fit () {
  const cy = dash.cy
  if (cy === null) return
  cy.fit(undefined, 40)
  if (cy.zoom() > MAX_FIT_ZOOM) { cy.zoom(MAX_FIT_ZOOM); cy.center() }
}

/**
 * Hundreds of links drawn at full strength hide the nodes: thinner and fainter when there are many.
 * @param {Core} cy
 * @param {number} edges
 */
function styleForSize (cy, edges) {
  const big = edges > 300
  if (big === state.bigGraph) return
  state.bigGraph = big
  cy.style().selector('edge').style({ opacity: big ? 0.3 : 0.75 }).selector('edge.focus').style({ opacity: 1 }).update()
}

/** The selected node's links stand out. */
export function focusSelected () {
  const cy = dash.cy
  if (cy === null) return
  cy.batch(() => {
    cy.edges('.focus').removeClass('focus')
    if (state.selected !== null) cy.getElementById(state.selected).connectedEdges().addClass('focus')
  })
}

/**
 * Selects a node in the graph (when the table chose it) and brings it to the middle.
 * @param {string | null} peerId
 */
export function selectInGraph (peerId) {
  const cy = dash.cy
  if (cy === null) return
  cy.nodes(':selected').unselect()
  if (peerId === null) return
  const ele = cy.getElementById(peerId)
  if (ele.nonempty()) { ele.select(); cy.animate({ center: { eles: ele } }, { duration: 250 }) }
}
