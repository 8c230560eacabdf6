// @ts-check
/*
 * The folders this node shares, to manage: each with its path, mode and
 * state, a button to see its conflicts and one to stop sharing it (its
 * files stay on disk; the API's DELETE /v1/spaces/SPACE/folder).
 *
 * Conflicts are shown as GET /v1/spaces/SPACE/conflicts lists them: the
 * path, the version under the name, the concurrent versions and the copies
 * on disk. The API has no call that resolves one (keeps a version), so the
 * page offers none: it says how to do it on disk instead.
 */
import { api, seg } from './api.js'
import { errorHtml, runAction, showResult, spaceName } from './actions.js'
import { bytes, esc, isoTime, list, rowsHtml, shortPeerId, text } from './format.js'
import { $, empty, state } from './state.js'

/** @typedef {import('./state.js').Hostile} Hostile */

const RESOLVE_HINT = 'The API has no call to resolve a conflict. To keep a version, keep its file under the name ' +
  '(move a copy over it if that is the one to keep) and delete the other copies: the folder syncs that to every node.'

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
    return `<tr data-space="${esc(f.space)}">
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
  const rows = rowsHtml(found, /** @param {Hostile} c */ c => `<tr>
    <td class="mono">${esc(c.path)}</td><td>${version(c.current)}</td>
    <td>${list(c.versions).map(v => `<div>${version(v)} → ${copy(v?.copy)}</div>`).join('')}</td>
    <td>${list(c.copies).map(p => `<div>${copy(p)}</div>`).join('')}</td></tr>`, 4)
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
    if (e.target instanceof Element && e.target.id === 'conflicts-close') closeConflicts()
  })
}
