import { z } from 'zod'
import { routes } from './routes.ts'
import { OWN_ROUTES, routeTable } from './route-table.ts'
import { EVENT_TYPES } from './events.ts'
import { VERSION } from './version.ts'

/**
 * The API described as OpenAPI 3.1, built from the route table the server
 * dispatches from (route-table.ts) and the schemas that check the request
 * bodies (routes.ts), so the description cannot drift from what is served:
 * test/api/openapi.test.ts compares it with the live server. Served at
 * GET /v1/openapi.json without the token: it is the shape of the API, as
 * public as the source, and tells nothing of the node.
 *
 * Answers are described as JSON (or text) without a schema: the node's
 * answers are the library's types, not yet given schemas of their own.
 */
type Json = Record<string, unknown>

let cached: string | undefined

/** The document as JSON text (built once: everything it reads is fixed at load). */
export function openApiDocument (): string {
  cached ??= JSON.stringify(build())
  return cached
}

function build (): Json {
  const paths: Record<string, Record<string, Json>> = {}
  const bodies = new Map(routes.map(r => [`${r.method} /${r.parts.join('/')}`, r.body]))
  const access = new Map<string, string>(OWN_ROUTES.map(r => [`${r.method} ${r.path}`, r.access]))
  for (const { method, path, summary } of routeTable()) {
    const key = `${method} ${path}`
    const params = path.split('/').filter(p => p.startsWith(':')).map(p => ({
      name: p.slice(1), in: 'path', required: true, schema: { type: 'string' }
    }))
    const op: Json = { operationId: operationId(method, path), summary, responses: responses(path) }
    if (params.length > 0) op.parameters = params
    const body = bodies.get(key)
    if (body !== undefined) {
      const schema = z.toJSONSchema(body, { io: 'input' })
      delete schema.$schema
      op.requestBody = { required: true, content: { 'application/json': { schema } } }
    }
    const who = access.get(key)
    if (who === 'none') op.security = []
    if (who === 'query') op.security = [{ bearer: [] }, { queryToken: [] }]
    if (who === 'metrics') op.security = [{ bearer: [] }, { metricsToken: [] }]
    if (path === '/v1/events') Object.assign(op, eventStream())
    paths[path.replace(/:(\w+)/g, '{$1}')] ??= {}
    ;(paths[path.replace(/:(\w+)/g, '{$1}')] as Record<string, Json>)[method.toLowerCase()] = op
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'samepage node API',
      version: VERSION,
      description: 'The local API of a samepage daemon (127.0.0.1:4816 by default). ' +
        'The token is in the data directory\'s api.json (mode 0600).'
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'the API token (api-token in the data directory)' },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'the read-only token (metrics-token in the data directory); taken only by GET /metrics'
        },
        queryToken: {
          type: 'apiKey',
          in: 'query',
          name: 'token',
          description: 'the same token; taken only by GET /dashboard and GET /v1/events'
        }
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' } }
            }
          }
        }
      }
    }
  }
}

/** `PUT /v1/spaces/:space/kv/:key` -> `put_spaces_space_kv_key`. */
function operationId (method: string, path: string): string {
  const words = path.split('/').filter(p => p !== '' && p !== 'v1').map(p => p.replace(/^:/, '').replace(/\W/g, '_'))
  return [method.toLowerCase(), ...words].join('_')
}

function responses (path: string): Json {
  const error = { description: 'an error with a stable code', content: json({ $ref: '#/components/schemas/Error' }) }
  const ok = path === '/metrics'
    ? { description: 'Prometheus text format', content: { 'text/plain': {} } }
    : path.startsWith('/dashboard')
      ? { description: 'the page or its code', content: { 'text/html': {}, 'text/javascript': {} } }
      : { description: 'the answer', content: json({}) }
  return { 200: ok, default: error }
}

const json = (schema: Json): Json => ({ 'application/json': { schema } })

/** GET /v1/events: its query, its header, and what it sends. */
function eventStream (): Json {
  return {
    description: 'One JSON message per event: {id, time, type, ...}, first a {type: "hello", peerId}; ' +
      'a resume from an id the replay buffer (the last 1,000 events) no longer holds, or of an earlier run ' +
      'of the daemon, first gets {type: "gap", reason, after, missed?}. As Server-Sent Events (each event ' +
      'with its id:), or one WebSocket text frame per message on an upgrade.',
    parameters: [
      {
        name: 'types',
        in: 'query',
        schema: { type: 'string' },
        description: `comma-separated: ${EVENT_TYPES.join(', ')}`
      },
      { name: 'since', in: 'query', schema: { type: 'string' }, description: 'resume after this event id' },
      { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' }, description: 'as since= (wins over it)' }
    ],
    responses: {
      200: { description: 'the stream', content: { 'text/event-stream': {} } },
      default: { description: 'an error with a stable code', content: json({ $ref: '#/components/schemas/Error' }) }
    }
  }
}
