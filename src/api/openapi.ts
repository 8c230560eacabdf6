import { z } from 'zod'
import { routes } from './routes.ts'
import { routeTable } from './route-table.ts'
import { OWN_ROUTES } from './own-routes.ts'
import { EVENT_TYPES } from './events.ts'
import { FOLDER_EVENT_LIST_MAX, FOLDER_EVENT_TEXT_MAX } from './folder-event.ts'
import { VERSION } from './version.ts'
import { errorResponse, RESPONSES } from './response-schemas.ts'

/**
 * The API described as OpenAPI 3.1, built from the route table the server
 * dispatches from (route-table.ts) and the schemas that check the request
 * bodies (routes.ts), so the description cannot drift from what is served:
 * test/api/openapi.test.ts compares it with the live server. Served at
 * GET /v1/openapi.json without the token: it is the shape of the API, as
 * public as the source, and tells nothing of the node.
 *
 * Every JSON answer has its schema (response-schemas.ts; test/api/
 * responses.test.ts holds live answers to them), and so has the error every
 * route may answer instead; the error codes a route answers by its shape
 * (the token, a body, a SPACE in its path) are listed under their HTTP
 * statuses, and any other code under `default`.
 */
type Json = Record<string, unknown>

let cached: string | undefined

/**
 * The document as JSON text (built once: everything it reads is fixed at load). `statuses`: the HTTP status of
 * every error code (server.ts's table).
 */
export function openApiDocument (statuses: Readonly<Record<string, number>>): string {
  cached ??= JSON.stringify(build(statuses))
  return cached
}

function build (statuses: Readonly<Record<string, number>>): Json {
  const paths: Record<string, Record<string, Json>> = {}
  const bodies = new Map(routes.map(r => [`${r.method} /${r.parts.join('/')}`, r.body]))
  const queries = new Map(routes.map(r => [`${r.method} /${r.parts.join('/')}`, r.query ?? []]))
  const access = new Map<string, string>(OWN_ROUTES.map(r => [`${r.method} ${r.path}`, r.access]))
  for (const { method, path, summary } of routeTable()) {
    const key = `${method} ${path}`
    const params: Json[] = path.split('/').filter(p => p.startsWith(':')).map(p => ({
      name: p.slice(1), in: 'path', required: true, schema: { type: 'string' }
    }))
    for (const q of queries.get(key) ?? []) {
      params.push({ name: q.name, in: 'query', required: false, schema: { type: q.type }, description: q.description })
    }
    const body = bodies.get(key)
    const who = access.get(key) ?? 'header'
    const errors = errorCodes(path, who, body !== undefined, (queries.get(key) ?? []).length > 0)
    const op: Json = { operationId: operationId(method, path), summary, responses: responses(key, errors, statuses) }
    if (params.length > 0) op.parameters = params
    if (body !== undefined) {
      const schema = z.toJSONSchema(body, { io: 'input' })
      delete schema.$schema
      op.requestBody = { required: true, content: { 'application/json': { schema } } }
    }
    if (who === 'none') op.security = []
    if (who === 'query') op.security = [{ bearer: [] }, { queryToken: [] }]
    if (who === 'metrics') op.security = [{ bearer: [] }, { metricsToken: [] }]
    if (path === '/v1/events') Object.assign(op, eventStream(errors, statuses))
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
      schemas: { Error: jsonSchema(errorResponse(Object.keys(statuses).sort())) }
    }
  }
}

/** `PUT /v1/spaces/:space/kv/:key` -> `put_spaces_space_kv_key`. */
function operationId (method: string, path: string): string {
  const words = path.split('/').filter(p => p !== '' && p !== 'v1').map(p => p.replace(/^:/, '').replace(/\W/g, '_'))
  return [method.toLowerCase(), ...words].join('_')
}

/**
 * The codes a route answers by its shape, whatever it does: UNAUTHORIZED without the token, BAD_INPUT, BAD_JSON
 * and TOO_LARGE for its body (BAD_INPUT for its query parameters), UNKNOWN_SPACE and AMBIGUOUS_SPACE for the SPACE
 * its path names. What it does may answer other codes (listed under `default`).
 */
function errorCodes (path: string, access: string, body: boolean, query: boolean): string[] {
  return [
    ...access === 'none' ? [] : ['UNAUTHORIZED'],
    ...body ? ['BAD_INPUT', 'BAD_JSON', 'TOO_LARGE'] : query ? ['BAD_INPUT'] : [],
    ...path.includes('/:space') ? ['UNKNOWN_SPACE', 'AMBIGUOUS_SPACE'] : []
  ]
}

/** The success answer of `METHOD /path`, and its errors by HTTP status. */
function responses (key: string, codes: readonly string[], statuses: Readonly<Record<string, number>>): Json {
  const answer = RESPONSES[key]
  const ok = key === 'GET /metrics'
    ? { description: 'Prometheus text format', content: { 'text/plain': {} } }
    : key.startsWith('GET /dashboard')
      ? { description: 'the page or its code', content: { 'text/html': {}, 'text/javascript': {} } }
      : { description: 'the answer', content: json(answer === undefined ? {} : jsonSchema(answer)) }
  const out: Json = { 200: ok }
  // The health check answers 503 when the node takes no writes, with the same body (status "failing").
  if (key === 'GET /v1/health') out[503] = { ...ok, description: 'the node cannot accept writes: status "failing"' }
  return { ...out, ...errorResponses(codes, statuses) }
}

/** `codes` grouped under their HTTP statuses, then `default` for any other code. */
function errorResponses (codes: readonly string[], statuses: Readonly<Record<string, number>>): Json {
  const byStatus = new Map<number, string[]>()
  for (const code of codes) {
    const status = statuses[code] ?? 500
    byStatus.set(status, [...byStatus.get(status) ?? [], code])
  }
  const error = json({ $ref: '#/components/schemas/Error' })
  const out: Json = {}
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[status] = { description: group.join(', '), content: error }
  }
  out.default = { description: 'an error with another stable code', content: error }
  return out
}

/** A zod schema as the JSON Schema of an answer (what the node sends, so its output side). */
function jsonSchema (schema: z.ZodType): Json {
  const out: Json = z.toJSONSchema(schema, { io: 'output' })
  delete out.$schema
  return out
}

const json = (schema: Json): Json => ({ 'application/json': { schema } })

/** GET /v1/events: its query, its header, and what it sends. */
function eventStream (codes: readonly string[], statuses: Readonly<Record<string, number>>): Json {
  return {
    description: 'One JSON message per event: {id, time, type, ...}, first a {type: "hello", peerId}; ' +
      'a resume from an id the replay buffer (the last 1,000 events, at most 2 MiB) no longer holds, or of an ' +
      'earlier run of the daemon, first gets {type: "gap", reason, after, missed?}. As Server-Sent Events ' +
      '(each event with its id:), or one WebSocket text frame per message on an upgrade. A folder event, ' +
      '{space, status}, is a summary: status as GET /v1/spaces/{space}/folder has it, but errors and skipped ' +
      'cut to their first ' +
      `${FOLDER_EVENT_LIST_MAX}, each text to ${FOLDER_EVENT_TEXT_MAX} characters, with errorsTotal and ` +
      'skippedTotal their whole lengths.',
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
      ...errorResponses([...codes, 'BAD_INPUT'], statuses)
    }
  }
}
