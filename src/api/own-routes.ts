import type { Route } from './routes.ts'

/**
 * The server's own paths (health, stop, metrics, the dashboard, the event
 * stream, the API's description) and how a request's path is matched: what
 * the server needs at start. routes.ts's calls and their body schemas (zod)
 * are in route-table.ts, which the server loads at the first request for one
 * of them (server.ts says why).
 */
type Method = Route['method']

/**
 * Who may call one of the server's own paths: anyone (`none`: it tells
 * nothing of the node), the token in the Authorization header, or also
 * `?token=` (`query`: a browser opening a link or an EventSource cannot set
 * a header), or the header with the API token or the read-only metrics
 * token (`metrics`: a Prometheus scrape needs no more). routes.ts's calls
 * all take the API token in the header only.
 */
export type Access = 'none' | 'header' | 'query' | 'metrics'

/** The server's own: handled in server.ts (by `${method} ${path}`), before routes.ts's calls. */
export const OWN_ROUTES = [
  {
    method: 'GET',
    path: '/v1/health',
    access: 'none',
    summary: 'how the node is: {status: ok | degraded | failing, version}; 503 when failing (it takes no writes)'
  },
  { method: 'GET', path: '/v1/openapi.json', access: 'none', summary: 'this description of the API (OpenAPI 3.1)' },
  { method: 'POST', path: '/v1/stop', access: 'header', summary: 'stop the daemon as SIGTERM does: {stopping, pid}' },
  {
    method: 'GET',
    path: '/v1/events',
    access: 'query',
    summary: 'the event stream: Server-Sent Events, or a WebSocket on an upgrade; resumable, filterable'
  },
  { method: 'GET', path: '/metrics', access: 'metrics', summary: 'Prometheus text format' },
  { method: 'GET', path: '/dashboard', access: 'query', summary: 'the dashboard page (HTML)' },
  { method: 'GET', path: '/dashboard/:module', access: 'none', summary: 'the dashboard\'s code (ES modules), no data' }
] as const satisfies ReadonlyArray<{ method: Method, path: string, access: Access, summary: string }>

/** `GET /v1/health` and so on: one key per own route (distributed over the union, not its cross product). */
export type OwnRouteKey = KeyOf<typeof OWN_ROUTES[number]>
type KeyOf<R> = R extends { method: infer M extends string, path: infer P extends string } ? `${M} ${P}` : never

/** A URL path's segments, decoded; undefined when one holds a malformed `%` escape. */
export function pathSegments (pathname: string): string[] | undefined {
  const segments = pathname.split('/').filter(p => p !== '')
  if (!pathname.includes('%')) return segments // nothing to decode
  try {
    return segments.map(decodeURIComponent)
  } catch {
    return undefined
  }
}

/** The path parameters when `pattern`'s segments (`:name` for a parameter) fit `segments`, else undefined. */
export function fit (pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (const [i, p] of pattern.entries()) {
    const s = segments[i] as string
    if (p.startsWith(':')) params[p.slice(1)] = s
    else if (p !== s) return undefined
  }
  return params
}

/** OWN_ROUTES with each path's segments, split once rather than at every request. */
const OWN_PATTERNS = OWN_ROUTES.map(r => ({ ...r, parts: r.path.split('/').filter(p => p !== '') }))

/** The server's own route that answers `method` at these segments, with its parameters. */
export function findOwnRoute (
  method: string, segments: readonly string[]
): { key: OwnRouteKey, access: Access, params: Record<string, string> } | undefined {
  for (const r of OWN_PATTERNS) {
    if (r.method !== method) continue
    const params = fit(r.parts, segments)
    if (params !== undefined) return { key: `${r.method} ${r.path}` as OwnRouteKey, access: r.access, params }
  }
  return undefined
}

