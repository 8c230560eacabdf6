// @ts-check
/*
 * What every management form shares: an action runs once at a time per
 * button, says that it is under way, and ends in one of two ways on the
 * page: it took effect (its result line says what, and the page refetches
 * what it shows), or it did not (the result line shows the API's code and
 * message, or why the page would not send it). Nothing is swallowed: an
 * error the page did not expect is shown the same way.
 */
import { ApiError } from './api.js'
import { attr, esc, text, why } from './format.js'
import { state } from './state.js'

/** Refetches every source (set by app.js): what an action changed shows without a reload. */
let refreshAll = () => {}

/** @param {() => void} refresh */
export function onActionDone (refresh) { refreshAll = refresh }

/** A reason the page gives before calling the API (an empty field it can tell is wrong by itself). */
export class NotSent extends Error {}

/**
 * @param {HTMLElement} resultEl
 * @param {'ok' | 'bad' | 'pending'} kind
 * @param {string} html
 */
export function showResult (resultEl, kind, html) {
  resultEl.className = `result ${kind}`
  resultEl.dataset.state = kind
  resultEl.innerHTML = html
}

/**
 * An error as the page shows it: the API's code and message.
 * @param {unknown} err
 * @returns {string} HTML
 */
export function errorHtml (err) {
  if (err instanceof NotSent) return esc(err.message)
  if (err instanceof ApiError) return `<code data-testid="error-code">${esc(err.code)}</code> ${esc(err.message)}`
  return `<code data-testid="error-code">ERROR</code> ${esc(why(err))}`
}

/**
 * Runs one action from a button: disabled while it runs, its result line says "…", then what happened.
 * @param {HTMLButtonElement | null} button
 * @param {HTMLElement} resultEl
 * @param {string} pending what the page says while it waits
 * @param {() => Promise<string>} action resolves to the HTML saying what took effect
 */
export async function runAction (button, resultEl, pending, action) {
  if (button?.disabled === true) return
  if (button !== null) button.disabled = true
  showResult(resultEl, 'pending', esc(pending))
  try {
    const done = await action()
    showResult(resultEl, 'ok', done)
    refreshAll()
  } catch (err) {
    showResult(resultEl, 'bad', errorHtml(err))
    if (!(err instanceof NotSent)) refreshAll() // the page may be out of date: that can be why it failed
  } finally {
    if (button !== null) button.disabled = false
  }
}

/**
 * A form's field as trimmed text ('' when absent).
 * @param {HTMLFormElement} form
 * @param {string} name
 */
export function field (form, name) {
  const el = form.elements.namedItem(name)
  return el instanceof HTMLInputElement || el instanceof HTMLSelectElement ? el.value.trim() : ''
}

/**
 * The space a form names, or NotSent when there is none to choose.
 * @param {HTMLFormElement} form
 */
export function chosenSpace (form) {
  const space = field(form, 'space')
  if (space === '') throw new NotSent('no space chosen: create a space or join one first')
  return space
}

/** The spaces this node holds, by name, as {id, name}. */
function heldSpaces () {
  return state.spaces
    .filter(s => s !== null && typeof s === 'object' && text(s.id) !== '')
    .map(s => ({ id: text(s.id), name: text(s.name), role: s.role }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
}

/** Every <select data-spaces> on the page lists the spaces held here, keeping what was chosen. */
export function fillSpaceSelects () {
  const spaces = heldSpaces()
  for (const select of document.querySelectorAll('select[data-spaces]')) {
    if (!(select instanceof HTMLSelectElement)) continue
    const chosen = select.value
    const options = spaces.map(s =>
      `<option value="${attr(s.id)}" title="${esc(s.id)}">${esc(s.name === '' ? s.id : s.name)}</option>`)
    const html = spaces.length === 0 ? '<option value="">(no space yet)</option>' : options.join('')
    if (select.innerHTML !== html) select.innerHTML = html
    if (spaces.some(s => s.id === chosen)) select.value = chosen
  }
}

/**
 * A space's name as this node knows it (its id when unknown).
 * @param {unknown} id
 */
export const spaceName = id => heldSpaces().find(s => s.id === id)?.name || text(id)
