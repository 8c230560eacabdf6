// @ts-check
/*
 * What the page knows: the last answer of every API source, the selection,
 * and the helpers every part draws with (element lookup, "how long ago" on
 * the daemon's clock, a peer's name). Answers are hostile JSON, so they are
 * typed `Hostile` (any shape) and read only through format.js's guards.
 */
import { agoAt, dateOk, esc, list, pastAt, shortPeerId, text, why } from './format.js'

/** @typedef {any} Hostile JSON from the API: any shape at all; read it through format.js. */

export const state = {
  /** @type {Hostile} */ map: null,
  mapFetchedAt: 0,
  /** @type {Hostile} */ status: null,
  /** @type {Hostile} */ alerts: null,
  /** @type {readonly Hostile[]} */ misbehaviour: [],
  /** @type {readonly Hostile[]} */ folders: [],
  /** @type {readonly Hostile[]} */ spaces: [],
  /** @type {string | null} */ selected: null,
  refused: false,
  laidOut: false,
  bigGraph: false
}

/**
 * An element the page must have (index.html holds them all).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $ (id) {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`the page has no #${id}`)
  return el
}

/**
 * @param {string} message
 * @returns {string}
 */
export const empty = message => `<div class="empty">${esc(message)}</div>`

/**
 * Draws one section; if it fails, says so in the section and lets the rest of the page draw.
 * @param {string} id
 * @param {() => void} render
 */
export function drawn (id, render) {
  try { render() } catch (err) {
    console.error(`samepage dashboard: ${id} could not be drawn`, err)
    const el = document.getElementById(id)
    if (el !== null && id !== 'graph') el.innerHTML = empty(`this part could not be drawn (${why(err)})`)
  }
}

/** The daemon's clock now, as of the last map: remote times are compared with it, not with the browser's. */
export const daemonNow = () => state.map === null ? Date.now() : state.map.atMs + (Date.now() - state.mapFetchedAt)

/**
 * A remote time that happened, on the daemon's clock (format.js pastAt).
 * @param {unknown} atMs
 * @returns {atMs is number}
 */
export const pastTime = atMs => pastAt(atMs, daemonNow())

/** @param {unknown} atMs */
export const ago = atMs => agoAt(atMs, daemonNow())

/** @param {unknown} atMs */
export const isoTitle = atMs => dateOk(atMs) ? ` title="${esc(new Date(atMs).toISOString())}"` : ''

/** @type {{ map: Hostile, index: Map<unknown, Hostile> }} */
let byIdCache = { map: null, index: new Map() }

/** Nodes by peer id, rebuilt once per map (rows look their peers up here, not by scanning the list: no O(n²)). */
export function nodeById () {
  if (byIdCache.map !== state.map) {
    byIdCache = { map: state.map, index: new Map(list(state.map?.nodes).map(n => [n?.peerId, n])) }
  }
  return byIdCache.index
}

/**
 * A peer as "name …abc123" (names are not unique: every node on one host shares its hostname).
 * @param {unknown} peerId
 * @returns {string}
 */
export function peerHtml (peerId) {
  const node = nodeById().get(peerId)
  const name = text(node?.name)
  const self = node?.self === true ? ' <span class="muted">(here)</span>' : ''
  return `<span title="${esc(peerId)}">${name === '' ? '' : `${esc(name)} `}` +
    `<span class="mono">${esc(shortPeerId(peerId))}</span></span>${self}`
}
