// @ts-check
/*
 * What the graph draws for a link, apart from the graph library and the page
 * (so it runs, and is tested, in Node too): its colour from the round trip,
 * its width from the traffic, dotted when only one end reports it, dashed and
 * labelled "via R" when a member relays it, and the words of its tooltip.
 */
import { num, rate, shown, text } from './format.js'

/** @typedef {any} Hostile state.js's Hostile, not imported from there: Node checks this file without the DOM. */

const NAME_CHARS_MAX = 24

/** @param {Hostile} l */
export const edgeId = l => `${l.a}|${l.b}`

/**
 * A peer as "name …abc123", or "…abc123" when the map does not know its name.
 * @param {ReadonlyMap<unknown, Hostile>} nodes
 * @param {unknown} peerId
 */
function peerLabel (nodes, peerId) {
  const name = shown(nodes.get(peerId)?.name) // the edge's tooltip: a browser title, not HTML
  const cut = name.length > NAME_CHARS_MAX ? `${name.slice(0, NAME_CHARS_MAX - 1)}…` : name
  return `${cut === '' ? '' : `${cut} `}…${text(peerId).slice(-6)}`
}

/**
 * Round trip sets the colour (calm when near, warm when far); traffic sets the width, on a log scale;
 * a relay dashes the line (class `relayed`) and labels it. `nodes` (by peer id) names the ends and the relay.
 * @param {Hostile} l a link of the network map
 * @param {ReadonlyMap<unknown, Hostile>} nodes
 */
export function edgeData (l, nodes) {
  const color = !num(l.rttMs) ? '#d1d5db' : l.rttMs <= 50 ? '#94a3b8' : l.rttMs <= 200 ? '#f59e0b' : '#ef4444'
  const bps = num(l.bytesPerSecond) ? Math.max(0, l.bytesPerSecond) : 0
  const width = 1.5 + Math.min(6, 1.5 * Math.log10(1 + bps / 1024))
  // A map from a daemon before relays has no relayedBy: direct.
  const relay = typeof l.relayedBy === 'string' && l.relayedBy !== '' ? l.relayedBy : null
  const via = relay === null ? '' : `via ${peerLabel(nodes, relay)}`
  const title = `${peerLabel(nodes, l.a)} — ${peerLabel(nodes, l.b)}: ` +
    `${num(l.rttMs) ? `${l.rttMs} ms` : 'round trip unknown'}, ${rate(bps)}` +
    `${relay === null ? ', direct' : `, relayed ${via}`}${l.both === true ? '' : ', reported by one end only'}`
  return {
    id: edgeId(l),
    source: l.a,
    target: l.b,
    color,
    width: Math.round(width * 10) / 10,
    rttMs: l.rttMs,
    bps: l.bytesPerSecond,
    relayedBy: relay,
    label: via,
    title,
    cls: [l.both === true ? '' : 'half', relay === null ? '' : 'relayed'].filter(c => c !== '').join(' ')
  }
}
