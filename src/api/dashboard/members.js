// @ts-check
/*
 * A space's members and their roles (GET /v1/spaces/SPACE/acl), to manage:
 * change a member's role or revoke it (POST …/acl, DELETE …/acl/PEER), and
 * grant a role to a peer by its id. Who may do what is the space's rule,
 * checked by the node: a refusal (NOT_ALLOWED, NO_CHANGE, …) is shown with
 * its code and message, as every error is (actions.js).
 */
import { api, seg } from './api.js'
import { errorHtml, field, NotSent, runAction } from './actions.js'
import { attr, esc, list, rowsHtml, text } from './format.js'
import { $, empty, peerHtml, state } from './state.js'

/** @typedef {import('./state.js').Hostile} Hostile */

const ROLES = ['reader', 'writer', 'admin']

/** The space whose members are shown, and the answer last drawn. */
const shown = { space: '', /** @type {Hostile} */ members: null }

/** @param {unknown} current */
const roleOptions = current =>
  ROLES.map(r => `<option${r === current ? ' selected' : ''}>${r}</option>`).join('')

function selectedSpace () {
  const select = $('members-space')
  return select instanceof HTMLSelectElement ? select.value : ''
}

/** The chosen space, or NotSent when there is none. */
function chosen () {
  const space = selectedSpace()
  if (space === '') throw new NotSent('no space chosen: create a space or join one first')
  return space
}

/** Reads the chosen space's members again and draws them (a failure to read is shown, with its code). */
async function loadMembers () {
  const space = selectedSpace()
  const el = $('members')
  if (space === '') { shown.space = ''; el.innerHTML = empty('no space here yet'); return }
  try {
    const members = await api(`/v1/spaces/${seg(space)}/acl`)
    if (selectedSpace() !== space) return // the choice changed while this was read
    // The same answer is not drawn again: a role being chosen in a row's <select> is not reset under the user.
    const same = shown.space === space && JSON.stringify(members) === JSON.stringify(shown.members)
    shown.space = space
    shown.members = members
    if (!same || $('members').querySelector('[data-testid="members-table"]') === null) drawMembers()
  } catch (err) {
    el.innerHTML = `<div class="result bad">${errorHtml(err)}</div>`
  }
}

function drawMembers () {
  const self = text(state.status?.peerId ?? state.map?.self)
  const members = list(shown.members)
  const rows = rowsHtml(members, /** @param {Hostile} m */ m => {
    const revoked = m.role === null
    const actions = revoked || m.peerId === self
      ? ''
      : `<select data-role aria-label="role">${roleOptions(m.role)}</select>
        <button type="button" data-act="grant">set role</button>
        <button type="button" data-act="revoke">revoke</button>`
    return `<tr data-peer="${attr(m.peerId)}"><td>${peerHtml(m.peerId)}</td>
      <td>${revoked ? '<span class="muted">revoked</span>' : esc(m.role)}</td>
      <td class="nowrap">${actions}</td></tr>`
  }, 3)
  $('members').innerHTML = members.length === 0
    ? empty('no members')
    : `<table data-testid="members-table"><thead><tr><th>member</th><th>role</th><th></th></tr></thead>` +
      `<tbody>${rows}</tbody></table>`
}

/**
 * @param {string} peer
 * @param {string} role
 */
async function grant (peer, role) {
  await api(`/v1/spaces/${seg(chosen())}/acl`, { method: 'POST', body: { peer, role } })
  await loadMembers()
  return `granted ${esc(role)} to ${peerHtml(peer)}`
}

/** @param {string} peer */
async function revoke (peer) {
  await api(`/v1/spaces/${seg(chosen())}/acl/${seg(peer)}`, { method: 'DELETE' })
  await loadMembers()
  return `revoked ${peerHtml(peer)}`
}

/** When the spaces change (a new entry may be a grant or a revocation, or the first space came): the list follows. */
export function refreshMembers () {
  void loadMembers()
}

export function wireMembers () {
  $('members-space').addEventListener('change', () => { void loadMembers() })
  const result = $('members-result')
  $('members').addEventListener('click', e => {
    const button = e.target instanceof Element ? e.target.closest('button[data-act]') : null
    const row = button?.closest('tr[data-peer]')
    if (!(button instanceof HTMLButtonElement) || !(row instanceof HTMLElement)) return
    const peer = row.dataset.peer ?? ''
    const select = row.querySelector('select[data-role]')
    const role = select instanceof HTMLSelectElement ? select.value : ''
    if (button.dataset.act === 'revoke') void runAction(button, result, 'revoking…', async () => await revoke(peer))
    else void runAction(button, result, 'granting…', async () => await grant(peer, role))
  })
  const form = $('grant-form')
  if (!(form instanceof HTMLFormElement)) throw new Error('#grant-form is no form')
  form.addEventListener('submit', e => {
    e.preventDefault()
    const button = form.querySelector('button[type="submit"]')
    void runAction(button instanceof HTMLButtonElement ? button : null, result, 'granting…', async () => {
      const done = await grant(field(form, 'peer'), field(form, 'role'))
      form.reset()
      return done
    })
  })
}
