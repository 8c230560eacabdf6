// @ts-check
/*
 * The "Manage" panel's forms: create a space, join with an invite token,
 * make an invite (the token shown to copy), share a folder. Each goes
 * through the API's own routes with the token in the header (see api.js),
 * and ends as actions.js says: it took effect and the page refetches, or
 * the page shows the API's code and message. The folders on this node, with
 * their conflicts and "stop sharing", are in folder-admin.js; members, grant
 * and revoke in members.js.
 */
import { api, seg } from './api.js'
import { chosenSpace, field, fillSpaceSelects, NotSent, runAction, showResult } from './actions.js'
import { esc, text } from './format.js'
import { $ } from './state.js'

/**
 * @param {string} id a <form> in index.html
 * @param {string} pending
 * @param {(form: HTMLFormElement) => Promise<string>} action
 */
function onSubmit (id, pending, action) {
  const form = $(id)
  if (!(form instanceof HTMLFormElement)) throw new Error(`#${id} is no form`)
  const result = form.querySelector('.result')
  if (!(result instanceof HTMLElement)) throw new Error(`#${id} has no result line`)
  form.addEventListener('submit', e => {
    e.preventDefault() // the page's CSP has form-action 'none': nothing is ever posted by the browser itself
    const button = form.querySelector('button[type="submit"]')
    void runAction(button instanceof HTMLButtonElement ? button : null, result, pending, async () => await action(form))
  })
}

async function createSpace (/** @type {HTMLFormElement} */ form) {
  const s = await api('/v1/spaces', { method: 'POST', body: { name: field(form, 'name') } })
  form.reset()
  return `created <b>${esc(s?.name)}</b> <span class="mono muted">${esc(s?.id)}</span>`
}

async function join (/** @type {HTMLFormElement} */ form) {
  const j = await api('/v1/join', { method: 'POST', body: { token: field(form, 'token') } })
  form.reset()
  const role = j?.role === null ? 'no role yet' : `as ${text(j?.role)}`
  return `joined <b>${esc(j?.name)}</b> ${esc(role)} <span class="mono muted">${esc(j?.id)}</span>`
}

async function invite (/** @type {HTMLFormElement} */ form) {
  const box = $('invite-token-box')
  box.hidden = true
  const uses = Number(field(form, 'uses') || '1')
  if (!Number.isSafeInteger(uses) || uses < 1) throw new NotSent('uses: a whole number of at least 1')
  const space = chosenSpace(form)
  const role = field(form, 'role')
  const { token } = await api(`/v1/spaces/${seg(space)}/invites`, { method: 'POST', body: { role, uses } })
  const input = $('invite-token')
  if (input instanceof HTMLInputElement) input.value = text(token)
  box.hidden = false
  const n = uses === 1 ? 'one node' : `${uses} nodes`
  return `an invite for ${esc(n)} as ${esc(role)}, valid 7 days: give it to the other node's ` +
    '"Join with an invite" (or <code>samepage space join TOKEN</code>)'
}

async function shareFolder (/** @type {HTMLFormElement} */ form) {
  const space = chosenSpace(form)
  const body = { space, path: field(form, 'path'), mode: field(form, 'mode') }
  const f = await api('/v1/folders', { method: 'POST', body })
  const path = form.elements.namedItem('path')
  if (path instanceof HTMLInputElement) path.value = ''
  return `sharing <span class="mono">${esc(f?.path)}</span> (${esc(f?.mode)})`
}

/** Copies the invite token; where the browser will not, selects it and says so. */
async function copyToken () {
  const input = $('invite-token')
  const result = $('invite-copied')
  if (!(input instanceof HTMLInputElement)) return
  try {
    await navigator.clipboard.writeText(input.value)
    showResult(result, 'ok', 'copied')
  } catch {
    input.select()
    showResult(result, 'bad', 'the browser will not copy here: the token is selected, copy it with Ctrl+C')
  }
}

export function wireManage () {
  onSubmit('create-form', 'creating…', createSpace)
  onSubmit('join-form', 'joining: waiting for the inviter to admit this node…', join)
  onSubmit('invite-form', 'making an invite…', invite)
  onSubmit('folder-form', 'sharing…', shareFolder)
  $('invite-copy').addEventListener('click', () => { void copyToken() })
  $('invite-token').addEventListener('focus', e => { if (e.target instanceof HTMLInputElement) e.target.select() })
  fillSpaceSelects()
}
