import type http from 'node:http'
import { SamepageError } from '../ids/index.ts'

/**
 * What the server reads of a request before a call runs: its path (without
 * parsing a URL when the target is a plain path, as nearly every call's is)
 * and its JSON body, and the API's own errors for what is wrong with them.
 * Split from server.ts, and kept cheap: a live write pays for all of it.
 */

export type ApiOwnCode =
  'UNAUTHORIZED' | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'TOO_LARGE' | 'BAD_JSON' | 'BAD_URL' | 'BAD_HOST'

export class ApiError extends SamepageError<ApiOwnCode> {}

const BODY_BYTES_MAX = 1024 * 1024

/**
 * Characters a URL path keeps as they are (RFC 3986's pchar without `%`):
 * a target made of these alone, with no `.` or `..` segment and not opening
 * with `//` (which a URL reads as a host), parses to a URL whose pathname is
 * the target itself, with no query and no fragment.
 */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/

/** The request target as its own pathname when parsing it as a URL would change nothing; undefined otherwise. */
export function plainPath (target: string | undefined): string | undefined {
  if (target === undefined || !PLAIN_PATH.test(target) || DOT_SEGMENT.test(target)) return undefined
  return target
}

/**
 * The path of a request target as it was sent, up to its query. Routed by its segments as they are: a URL's parser
 * removes `.` and `..` segments (`%2E` too), so a key or space named `.` reached another call (`kv del . folder`
 * stopped sharing space `kv`'s folder, and printed ok; a review's probe). Here `.` is a name like any other.
 */
export function targetPath (target: string | undefined): string {
  const t = target ?? '/'
  const end = t.search(/[?#]/)
  const p = end < 0 ? t : t.slice(0, end)
  if (!p.startsWith('/') || p.startsWith('//')) throw new ApiError('BAD_URL', 'the request target is not a URL path')
  return p
}

/** The request's URL; a target that is no URL path at all (say `//[`) is the caller's error, not ours. */
export function parseUrl (target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost')
  } catch {
    throw new ApiError('BAD_URL', 'the request target is not a valid URL path')
  }
}

/** The body as a JSON object (none: {}). Promises chained, not awaited: each async layer cost a live write. */
export function readJson (req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return readBody(req).then(jsonObject)
}

function jsonObject (body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {}
  try {
    const v: unknown = JSON.parse(body.toString('utf8'))
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch {
    throw new ApiError('BAD_JSON', 'the request body is not a JSON object')
  }
}

/**
 * The request body. One whose Content-Length is within the bound is read by
 * its events (HTTP's framing holds it to that length): an async iterator per
 * request cost a live write more than reading the body itself. Any other
 * (chunked, or announced over the bound) is read as it always was.
 */
function readBody (req: http.IncomingMessage): Promise<Buffer> {
  const announced = Number(req.headers['content-length'] ?? NaN)
  return Number.isSafeInteger(announced) && announced <= BODY_BYTES_MAX ? readFramedBody(req) : readUnframedBody(req)
}

async function readUnframedBody (req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > BODY_BYTES_MAX) throw new ApiError('TOO_LARGE', `request body over ${BODY_BYTES_MAX} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** A body of a known length by its events; one cut short is an error, as the iterator's premature close was. */
function readFramedBody (req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const done = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose)
    }
    const onData = (chunk: Buffer): void => { chunks.push(chunk) }
    const onEnd = (): void => { done(); resolve(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)) }
    const onError = (err: Error): void => { done(); reject(err) }
    const onClose = (): void => { done(); reject(new Error('the request closed before its body ended')) }
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
  })
}
