// @ts-check
/*
 * Formatting shared by the dashboard (served to the browser as this very
 * file) and the CLI (src/cli/*-view.ts import it through src/api/index.ts):
 * sizes, rates, durations, times and peer ids read the same in both. Plain
 * JavaScript with JSDoc types, so that it needs no build step; tsc checks it.
 *
 * Every value is hostile: it comes from the API, and names, reasons,
 * subjects, numbers and times come from remote peers' status records.
 * Nothing here throws on any JSON value: text() reads a value without calling
 * anything on it, esc() is the only way text reaches innerHTML, num()/fixed()
 * check numbers, dateOk() times (a Date holds ±8.64e15 ms;
 * `new Date(9e15).toISOString()` throws), and rowsHtml() draws each table row
 * on its own so that one bad record never hides the others. No DOM here:
 * tested in Node (test/hostile/values.test.ts).
 */

/** @type {Readonly<Record<string, string>>} */
const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/**
 * Text of a value without calling anything on it (String() on a map with a `toString` key throws).
 * @param {unknown} v
 * @returns {string}
 */
export const text = v =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : ''

/**
 * Control characters and bidirectional overrides/isolates (text that reads other than it is): the same class as
 * src/ids/printable.ts, which the CLI and report text use; the browser cannot import TypeScript, so it is repeated
 * here and test/hostile/values.test.ts holds the two equal.
 */
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text as the page shows it: each unsafe character made U+FFFD, as the CLI shows peer text.
 * @param {unknown} v
 * @returns {string}
 */
export const shown = v => text(v).replace(UNSAFE_TEXT, '\ufffd')

/** @param {string} s */
const html = s => s.replace(/[&<>"']/g, c => ESC[c] ?? '')

/**
 * The only way API text reaches innerHTML: printable (shown()), then HTML-escaped. A space's name, a folder's path,
 * a conflict's path are a peer's choice like a report's text, so every shown value goes through here.
 * @param {unknown} v
 * @returns {string}
 */
export const esc = v => html(shown(v))

/**
 * A value the page reads back and sends to the API (data-path, data-peer, an <option>'s value): HTML-escaped
 * only, so that it stays the exact key the daemon knows. Never for text a user reads: that is esc().
 * @param {unknown} v
 * @returns {string}
 */
export const attr = v => html(text(v))

/**
 * @param {unknown} v
 * @returns {v is number}
 */
export const num = v => typeof v === 'number' && Number.isFinite(v)

/**
 * @param {unknown} v
 * @param {number} digits
 * @returns {string}
 */
export const fixed = (v, digits) => num(v) ? v.toFixed(digits) : '—'

/** Date holds ±8.64e15 ms; `new Date(9e15).toISOString()` throws. */
const DATE_MS_MAX = 8.64e15

/**
 * @param {unknown} ms
 * @returns {ms is number}
 */
export const dateOk = ms => num(ms) && Math.abs(ms) <= DATE_MS_MAX

/**
 * A time as ISO text; one that Date cannot hold is shown as its number instead of throwing.
 * @param {unknown} ms
 * @returns {string}
 */
export const isoTime = ms => dateOk(ms) ? new Date(ms).toISOString() : `(time ${text(ms)})`

/**
 * @param {unknown} v
 * @returns {readonly any[]}
 */
export const list = v => Array.isArray(v) ? v : []

/**
 * What went wrong, from an Error of any realm, or anything else thrown.
 * @param {unknown} err
 * @returns {string}
 */
export const why = err =>
  err !== null && typeof err === 'object' && 'message' in err && typeof err.message === 'string'
    ? err.message
    : text(err)

/**
 * One table row, or a row saying it could not be drawn: a bad record never hides the others.
 * @template T
 * @param {unknown} items
 * @param {(item: T) => string} render
 * @param {number} columns
 * @returns {string}
 */
export function rowsHtml (items, render, columns) {
  return list(items).map(x => {
    try { return render(x) } catch (err) {
      return `<tr class="unreadable" data-testid="unreadable-row"><td colspan="${columns}" class="muted">` +
        `this row could not be shown (${esc(why(err))})</td></tr>`
    }
  }).join('')
}

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB']

/**
 * A size: "512 B", "1.5 KiB", "20 MiB".
 * @param {unknown} n bytes
 * @returns {string}
 */
export function bytes (n) {
  if (!num(n)) return '—'
  const whole = Math.round(n)
  if (whole < 1024) return `${whole} B`
  let v = whole / 1024
  let u = 0
  while (v >= 1024 && u < BYTE_UNITS.length - 1) { v /= 1024; u++ }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${BYTE_UNITS[u]}`
}

/**
 * @param {unknown} bps bytes per second
 * @returns {string}
 */
export const rate = bps => num(bps) ? `${bytes(bps)}/s` : '—'

/**
 * A span of time: "45 s", "12 min", "3 h 5 min", "2 d".
 * @param {unknown} ms
 * @returns {string}
 */
export function duration (ms) {
  if (!num(ms)) return '—'
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min`
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min`
  return `${Math.floor(s / 86400)} d`
}

/** How far ahead of the daemon's clock a remote time may be (clock skew): STATUS_CLOCK_AHEAD_MAX_MS, as the daemon. */
const CLOCK_AHEAD_MAX_MS = 60_000

/**
 * A time that happened by `nowMs`: one a Date holds, after 1970 (0 is what the daemon makes of a bad one), and not
 * ahead of `nowMs` by more than the skew a record may have. Any other is unknown: never "0 s ago", never sorted
 * first as the newest.
 * @param {unknown} atMs
 * @param {number} nowMs
 * @returns {atMs is number}
 */
export const pastAt = (atMs, nowMs) => dateOk(atMs) && atMs > 0 && atMs <= nowMs + CLOCK_AHEAD_MAX_MS

/**
 * "12 min ago" as of `nowMs`, or "—" for a time that did not happen by then.
 * @param {unknown} atMs
 * @param {number} nowMs
 */
export const agoAt = (atMs, nowMs) => pastAt(atMs, nowMs) ? `${duration(nowMs - atMs)} ago` : '—'

/**
 * A peer id short enough for a column: "…" and its last 10 characters.
 * @param {unknown} peerId
 * @returns {string}
 */
export const shortPeerId = peerId =>
  typeof peerId === 'string' && peerId.length > 16 ? `…${peerId.slice(-10)}` : text(peerId)
