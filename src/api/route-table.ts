import { routes } from './routes.ts'
import type { Route } from './routes.ts'
import { fit, OWN_ROUTES } from './own-routes.ts'

/**
 * Every method and path the API answers: the server's own (health, stop,
 * metrics, the dashboard, the event stream, this document's description)
 * and routes.ts's calls. One table, from which the server finds a call,
 * answers 405 with the methods a path does take, and openapi.ts describes
 * the API; test/api/openapi.test.ts holds the document to it.
 */
type Method = Route['method']

/** Every (method, path) the server answers, paths as `/v1/spaces/:space/kv/:key`. */
export function routeTable (): Array<{ method: Method, path: string, summary: string }> {
  const own = OWN_ROUTES.map(({ method, path, summary }) => ({ method, path, summary }))
  return [...own, ...routes.map(r => ({ method: r.method, path: '/' + r.parts.join('/'), summary: r.summary }))]
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
