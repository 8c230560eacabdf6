import { routes } from './routes.ts'
import type { Route } from './routes.ts'

/**
 * Every method and path the API answers: the server's own (health, stop,
 * metrics, the dashboard, the event stream, this document's description)
 * and routes.ts's calls. One table, from which the server finds a call,
 * answers 405 with the methods a path does take, and openapi.ts describes
 * the API; test/api/openapi.test.ts holds the document to it.
 */
type Method = Route['method']

/** The server's own: handled in server.ts, before routes.ts's calls. */
const OWN_ROUTES: ReadonlyArray<{ readonly method: Method, readonly path: string }> = [
  { method: 'GET', path: '/v1/health' },
  { method: 'GET', path: '/v1/openapi.json' },
  { method: 'POST', path: '/v1/stop' },
  { method: 'GET', path: '/v1/events' },
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/dashboard' },
  { method: 'GET', path: '/dashboard/:module' }
]

/** The paths where the token may also come as `?token=`: a browser cannot set a header to open them. */
export const QUERY_TOKEN_PATHS: ReadonlySet<string> = new Set(['/dashboard', '/v1/events'])

/** Every (method, path) the server answers, paths as `/v1/spaces/:space/kv/:key`. */
function routeTable (): Array<{ method: Method, path: string }> {
  return [...OWN_ROUTES, ...routes.map(r => ({ method: r.method, path: '/' + r.parts.join('/') }))]
}

/** A URL path's segments, decoded; undefined when one holds a malformed `%` escape. */
export function pathSegments (pathname: string): string[] | undefined {
  try {
    return pathname.split('/').filter(p => p !== '').map(decodeURIComponent)
  } catch {
    return undefined
  }
}

/** The path parameters when `pattern`'s segments (`:name` for a parameter) fit `segments`, else undefined. */
function fit (pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (const [i, p] of pattern.entries()) {
    const s = segments[i] as string
    if (p.startsWith(':')) params[p.slice(1)] = s
    else if (p !== s) return undefined
  }
  return params
}

/** The call of routes.ts that answers `method` at these segments, with its parameters. */
export function findRoute (
  method: string, segments: readonly string[]
): { route: Route, params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue
    const params = fit(route.parts, segments)
    if (params !== undefined) return { route, params }
  }
  return undefined
}

/** The methods some entry of the table answers at these segments (for 405's `Allow`); empty for an unknown path. */
export function allowedMethods (segments: readonly string[]): Method[] {
  const found = new Set<Method>()
  for (const r of routeTable()) {
    if (fit(r.path.split('/').filter(p => p !== ''), segments) !== undefined) found.add(r.method)
  }
  return [...found].sort()
}
