// @ts-check
/*
 * The dashboard's calls to the API. The token comes from the page's own URL
 * (?token=) and goes in the Authorization header: every route but the page
 * and the event stream refuses a token in the query string. An answer that
 * is not 2xx becomes an ApiError with the API's code and message (or the
 * HTTP status when the body says nothing), so the page can show both.
 */
import { text } from './format.js'

/** @typedef {import('./state.js').Hostile} Hostile */

export const TOKEN = new URLSearchParams(location.search).get('token') ?? ''

export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when the daemon did not answer at all
   * @param {string} code the API's error code (UNAUTHORIZED, NAME_TAKEN, …)
   * @param {string} message
   */
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/**
 * One call: GET without a body, or a method with a JSON body.
 * @param {string} path
 * @param {{ method?: 'GET' | 'POST' | 'PUT' | 'DELETE', body?: Record<string, unknown> }} [how]
 * @returns {Promise<Hostile>}
 */
export async function api (path, how = {}) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${TOKEN}` }
  if (how.body !== undefined) headers['content-type'] = 'application/json'
  let res
  try {
    res = await fetch(path, {
      method: how.method ?? 'GET',
      headers,
      body: how.body === undefined ? undefined : JSON.stringify(how.body),
      cache: 'no-store'
    })
  } catch {
    throw new ApiError(0, 'NO_ANSWER', 'the daemon does not answer (stopped, or restarted on another port?)')
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null)
    const code = text(body?.error?.code) || `HTTP_${res.status}`
    throw new ApiError(res.status, code, text(body?.error?.message) || `${res.status} ${res.statusText}`)
  }
  return await res.json()
}

/**
 * A path segment: space names and peer ids are user text, so never spliced in raw.
 * @param {string} segment
 */
export const seg = segment => encodeURIComponent(segment)
