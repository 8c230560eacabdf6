// @ts-check
/*
 * The folders this node shares, to manage: each with its path, mode and
 * state, a button to see its conflicts and one to stop sharing it (its
 * files stay on disk; the API's DELETE /v1/spaces/SPACE/folder).
 *
 * Conflicts are shown as GET /v1/spaces/SPACE/conflicts lists them: the
 * path, the version under the name, the concurrent versions and the copies
 * on disk, each with a "keep this one" button: POST
 * /v1/spaces/SPACE/conflicts/resolve with the path and the version's id (or
 * the copy's name), after which the list is read again.
 */
import { api, seg } from './api.js'
import { errorHtml, runAction, showResult, spaceName } from './actions.js'
import { attr, bytes, esc, isoTime, list, rowsHtml, shortPeerId, text } from './format.js'
import { $, empty, state } from './state.js'

/** @typedef {import('./state.js').Hostile} Hostile */

const RESOLVE_HINT = 'Keep this one: that version becomes the file under its name on every node, and the ' +
  'copies go. A receive-only folder cannot choose; a version whose bytes are not here yet must wait for the sync.'

/** The space whose conflicts are open (re-read when its folder's count of them changes), or null. */
let conflictsOf = /** @type {string | null} */ (null)
/** The folder table as last drawn. */
let drawnHtml = ''
/** The folder's count of conflicts when they were last read. */
let conflictsCount = /** @type {unknown} */ (undefined)

export function renderFolderAdmin () {
  const el = $('folder-admin')
  const folders = state.folders.filter(f => f !== null && typeof f === 'object')
  if (folders.length === 0) { el.innerHTML = empty('this node shares no folder'); return }
  const rows = rowsHtml(folders, /** @param {Hostile} f */ f => {
    const conflicts = Number(f.status?.conflicts) > 0 ? `<span class="bad">${esc(f.status.conflicts)}</span>` : '0'
    return `<tr data-space="${attr(f.space)}">
      <td title="${esc(f.space)}">${esc(text(f.name) || spaceName(f.space))}</td>
      <td class="mono">${esc(f.path)}</td><td>${esc(f.mode)}</td><td>${esc(f.status?.state)}</td>
      <td class="num">${conflicts}</td>
      <td class="nowrap"><button type="button" data-act="conflicts">conflicts</button>
        <button type="button" data-act="remove">stop sharing</button></td></tr>`
  }, 6)
  const head = '<tr><th>space</th><th>path</th><th>mode</th><th>state</th><th class="num">conflicts</th><th></th></tr>'
  const html = `<table data-testid="folder-admin-table"><thead>${head}</thead><tbody>${rows}</tbody></table>`
  // Redrawn only when it changed: a folder's progress events must not replace a button under a click.
  if (html !== drawnHtml || el.querySelector('[data-testid="folder-admin-table"]') === null) {
    el.innerHTML = drawnHtml = html
  }
  if (conflictsOf === null) return
  const open = folders.find(f => f.space === conflictsOf)
  if (open === undefined) closeConflicts()
  else if (open.status?.conflicts !== conflictsCount) refreshConflicts(conflictsOf)
}

/** @param {string} space */
async function removeFolder (space) {
  const r = await api(`/v1/spaces/${seg(space)}/folder`, { method: 'DELETE' })
  if (conflictsOf === space) closeConflicts()
  return `stopped sharing <span class="mono">${esc(r?.path)}</span>; its files stay there`
}

/** @param {string} space */
async function showConflicts (space) {
  conflictsCount = state.folders.find(f => f?.space === space)?.status?.conflicts
  const found = list(await api(`/v1/spaces/${seg(space)}/conflicts`))
  conflictsOf = space
  const el = $('conflicts')
  el.hidden = false
  /** @param {Hostile} v */
  const version = v => `${esc(shortPeerId(v?.author))} · ${esc(isoTime(v?.mtimeMs))} · ${esc(bytes(v?.size))}`
  /** @param {unknown} p */
  const copy = p => `<span class="mono">${esc(p)}</span>`
  /** @param {unknown} keep the version's id, or the copy's name */
  const keepButton = keep => ` <button type="button" data-keep="${attr(keep)}">keep this one</button>`
  const rows = rowsHtml(found, /** @param {Hostile} c */ c => `<tr data-path="${attr(c.path)}">
    <td class="mono">${esc(c.path)}</td><td>${version(c.current)}${keepButton(c.current?.id)}</td>
    <td>${list(c.versions).map(v => `<div>${version(v)} → ${copy(v?.copy)}${keepButton(v?.id)}</div>`).join('')}</td>
    <td>${list(c.copies).map(p => `<div>${copy(p)}${keepButton(p)}</div>`).join('')}</td></tr>`, 4)
  const head = '<tr><th>path</th><th>the version under the name</th><th>concurrent versions</th>' +
    '<th>copies on disk</th></tr>'
  el.innerHTML = `<h3>Conflicts in ${esc(spaceName(space))}
      <button type="button" id="conflicts-close">close</button></h3>` +
    (found.length === 0
      ? empty('no conflicts in this folder')
      : `<table data-testid="conflicts-table"><thead>${head}</thead><tbody>${rows}</tbody></table>`) +
    `<p class="muted">${esc(RESOLVE_HINT)}</p>`
  return found.length === 0 ? 'no conflicts' : `${found.length} paths in conflict`
}

function closeConflicts () {
  conflictsOf = null
  const el = $('conflicts')
  el.hidden = true
  el.innerHTML = ''
}

/**
 * Ends a conflict keeping one version, then reads the list again.
 * @param {string} space
 * @param {string} filePath
 * @param {string} keep
 */
async function keepVersion (space, filePath, keep) {
  const r = await api(`/v1/spaces/${seg(space)}/conflicts/resolve`, { method: 'POST', body: { path: filePath, keep } })
  const removed = list(r?.removed)
  const names = removed.map(p => `<span class="mono">${esc(p)}</span>`).join(', ')
  const copies = removed.length === 0 ? '' : `; removed ${names}`
  await showConflicts(space)
  return `<span class="mono">${esc(r?.path)}</span> keeps the chosen version on every node${copies}`
}

/**
 * The open conflicts list follows its folder.
 * @param {string} space
 */
function refreshConflicts (space) {
  showConflicts(space).catch(err => showResult($('folder-admin-result'), 'bad', errorHtml(err)))
}

export function wireFolderAdmin () {
  // One listener for every row's buttons.
  $('folder-admin').addEventListener('click', e => {
    const button = e.target instanceof Element ? e.target.closest('button[data-act]') : null
    const row = button?.closest('tr[data-space]')
    if (!(button instanceof HTMLButtonElement) || !(row instanceof HTMLElement)) return
    const space = row.dataset.space ?? ''
    const result = $('folder-admin-result')
    if (button.dataset.act === 'remove') {
      void runAction(button, result, 'stopping…', async () => await removeFolder(space))
    } else void runAction(button, result, 'reading the conflicts…', async () => await showConflicts(space))
  })
  $('conflicts').addEventListener('click', e => {
    if (!(e.target instanceof Element)) return
    if (e.target.id === 'conflicts-close') { closeConflicts(); return }
    const button = e.target.closest('button[data-keep]')
    const row = button?.closest('tr[data-path]')
    const space = conflictsOf
    if (!(button instanceof HTMLButtonElement) || !(row instanceof HTMLElement) || space === null) return
    const keep = button.dataset.keep ?? ''
    const filePath = row.dataset.path ?? ''
    void runAction(button, $('folder-admin-result'), 'keeping that version…',
      async () => await keepVersion(space, filePath, keep))
  })
}
