/*
 * Formatting for the samepage dashboard, where every value is hostile: it
 * comes from the API, and names, reasons, subjects, numbers and times come
 * from remote peers' status records. Nothing here throws on any JSON value:
 * text() reads a value without calling anything on it, esc() is the only way
 * text reaches innerHTML, num()/fixed() check numbers, dateOk() times (a Date
 * holds ±8.64e15 ms; `new Date(9e15).toISOString()` throws), and rowsHtml()
 * draws each table row on its own so that one bad record never hides the
 * others. Inlined before app.js by src/api/dashboard.ts; tested in Node
 * (test/hostile/values.test.ts) by running this file with a `window` object.
 */
window.samepageFormat = (() => {
  'use strict'

  const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
  /** Text of a value without calling anything on it (String() on a map with a `toString` key throws). */
  const text = v => typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : ''
  /** The only way API text reaches innerHTML. */
  const esc = v => text(v).replace(/[&<>"']/g, c => ESC[c])

  const num = v => typeof v === 'number' && Number.isFinite(v)
  const fixed = (v, digits) => num(v) ? v.toFixed(digits) : '—'
  /** Date holds ±8.64e15 ms; `new Date(9e15).toISOString()` throws. */
  const DATE_MS_MAX = 8.64e15
  const dateOk = ms => num(ms) && Math.abs(ms) <= DATE_MS_MAX
  const list = v => Array.isArray(v) ? v : []
  /** What went wrong, from an Error of any realm, or anything else thrown. */
  const why = err => err !== null && typeof err === 'object' && typeof err.message === 'string' ? err.message : text(err)

  /** One table row, or a row saying it could not be drawn: a bad record never hides the others. */
  function rowsHtml (items, render, columns) {
    return list(items).map(x => {
      try { return render(x) } catch (err) {
        return `<tr class="unreadable" data-testid="unreadable-row"><td colspan="${columns}" class="muted">this row could not be shown (${esc(why(err))})</td></tr>`
      }
    }).join('')
  }

  function bytes (n) {
    if (!num(n)) return '—'
    if (n < 1024) return `${Math.round(n)} B`
    const units = ['KiB', 'MiB', 'GiB', 'TiB']
    let v = n / 1024
    let u = 0
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
    return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`
  }

  const rate = bps => num(bps) ? `${bytes(bps)}/s` : '—'

  function duration (ms) {
    if (!num(ms)) return '—'
    const s = Math.max(0, Math.round(ms / 1000))
    if (s < 60) return `${s} s`
    if (s < 3600) return `${Math.floor(s / 60)} min`
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min`
    return `${Math.floor(s / 86400)} d`
  }

  return { text, esc, num, fixed, dateOk, list, why, rowsHtml, bytes, rate, duration }
})()
