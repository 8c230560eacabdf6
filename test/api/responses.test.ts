import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { Node } from '../../src/node/index.ts'
import { ApiServer } from '../../src/api/server.ts'
import { routeTable } from '../../src/api/route-table.ts'
import { RESPONSES } from '../../src/api/response-schemas.ts'

/**
 * The answers of GET /v1/openapi.json against a live server (issue 16 part
 * 4): every documented operation is called for real, with what makes it
 * succeed (a second node to join and dial, a folder holding a conflict
 * copy, a backup file), and its answer is checked against the JSON Schema
 * the document gives for it, read back from the served document (not from
 * the zod source), so an answer that drifts from its document fails here.
 * Then the errors: every call without the token, with an unknown SPACE or
 * an unknown field in its body, is answered with the documented Error
 * shape, under a status the document lists for that operation.
 */
type Json = Record<string, unknown>
interface Operation { responses: Record<string, { description: string, content?: Record<string, { schema?: Json }> }> }
interface Doc { paths: Record<string, Record<string, Operation>>, components: { schemas: Record<string, Json> } }

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-responses-'))
let inviter: Node
let node: Node
let api: ApiServer
let url = ''
let auth: Record<string, string> = {}
let doc: Doc
let stopRequests = 0

before(async () => {
  inviter = Node.open({ dir: path.join(root, 'inviter') })
  node = Node.open({ dir: path.join(root, 'node') })
  await inviter.start()
  await node.start()
  api = new ApiServer({ node, host: '127.0.0.1', port: 0, onStopRequest: () => { stopRequests++ } })
  const started = await api.start()
  url = started.url
  auth = { authorization: `Bearer ${started.token}` }
  doc = await (await fetch(`${url}/v1/openapi.json`)).json() as Doc
})

after(async () => {
  await api.stop()
  await node.stop()
  await inviter.stop()
  fs.rmSync(root, { recursive: true, force: true })
})

/** The documented operation of `METHOD /v1/spaces/{space}`. */
function operation (method: string, template: string): Operation {
  const op = doc.paths[template]?.[method.toLowerCase()]
  assert.ok(op !== undefined, `${method} ${template} is documented`)
  return op
}

/** The schema the document gives for `status` of an operation, as zod (a $ref to a component resolved first). */
function documented (op: Operation, status: string, type = 'application/json'): z.ZodType {
  const response = op.responses[status]
  assert.ok(response !== undefined, `status ${status} is documented`)
  const schema = response.content?.[type]?.schema
  assert.ok(schema !== undefined, `${type} of ${status} has a schema`)
  const ref = typeof schema.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : undefined
  const resolved = ref === undefined ? schema : doc.components.schemas[ref]
  assert.ok(resolved !== undefined && Object.keys(resolved).length > 0, `${status} has a real schema, not {}`)
  return z.fromJSONSchema(resolved as Parameters<typeof z.fromJSONSchema>[0])
}

/** Checks `body` against `schema`, failing with the fields that do not fit. */
function fits (schema: z.ZodType, body: unknown, what: string): void {
  const r = schema.safeParse(body)
  if (!r.success) assert.fail(`${what} drifted from its document: ${z.prettifyError(r.error)}\n${JSON.stringify(body).slice(0, 2000)}`)
}

interface Call { method: string, template: string, path: string, body?: unknown }

/** Calls the live server, checks a 200 answer against its documented schema, and returns it. */
async function call (method: string, template: string, params: Record<string, string> = {}, body?: unknown): Promise<any> {
  const p = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? 'x'))
  calls.push({ method, template, path: p, ...(body === undefined ? {} : { body }) })
  const res = await fetch(`${url}${p}`, {
    method, headers: { ...auth, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const answer = await res.json() as unknown
  assert.equal(res.status, 200, `${method} ${p}: ${JSON.stringify(answer)}`)
  fits(documented(operation(method, template), '200'), answer, `${method} ${template}`)
  return answer
}
const calls: Call[] = []

test('every documented operation answers what its document says', async () => {
  const covered = new Set<string>()
  const ops = Object.entries(doc.paths).flatMap(([template, methods]) => Object.keys(methods).map(m => `${m.toUpperCase()} ${template}`))

  const health = await call('GET', '/v1/health')
  assert.deepEqual(health, { status: 'ok', version: health.version })
  await call('GET', '/v1/openapi.json')
  const id = await call('GET', '/v1/id')
  assert.equal(id.peerId, node.peerId)

  const { id: shared } = inviter.createSpace('shared')
  const token = inviter.invite(shared, 'writer', 1, 600_000).token
  const joined = await call('POST', '/v1/join', {}, { token })
  assert.equal(joined.role, 'writer')
  assert.ok((await call('GET', '/v1/peers')).length >= 1, 'a peer to check the items against')
  await call('POST', '/v1/peers', {}, { addr: inviter.id().addrs[0] })

  await call('POST', '/v1/spaces', {}, { name: 'team' })
  assert.ok((await call('GET', '/v1/spaces')).length >= 2)
  const team = { space: 'team' }
  await call('POST', '/v1/spaces/{space}/invites', team, { role: 'reader', uses: 2 })
  await call('GET', '/v1/spaces/{space}/acl', team)
  await call('POST', '/v1/spaces/{space}/acl', team, { peer: inviter.peerId, role: 'writer' })
  await call('DELETE', '/v1/spaces/{space}/acl/{peer}', { ...team, peer: inviter.peerId })
  const value = { text: 'été', list: [1, 2.5, null, true], nested: { deep: [{}] } }
  await call('PUT', '/v1/spaces/{space}/kv/{key}', { ...team, key: 'k' }, { value })
  assert.deepEqual(await call('GET', '/v1/spaces/{space}/kv/{key}', { ...team, key: 'k' }), { key: 'k', value })
  assert.equal((await call('GET', '/v1/spaces/{space}/kv', team)).length, 1)
  await call('DELETE', '/v1/spaces/{space}/kv/{key}', { ...team, key: 'k' })
  await call('POST', '/v1/spaces/{space}/counters/{name}', { ...team, name: 'c' }, { delta: -3 })
  assert.equal((await call('GET', '/v1/spaces/{space}/counters/{name}', { ...team, name: 'c' })).value, -3)
  await call('POST', '/v1/spaces/{space}/ledger', team, { tx: { from: 'a', to: 'b', amount: 5 } })
  assert.equal((await call('GET', '/v1/spaces/{space}/ledger', team)).length, 1)
  // A page of a list (?limit=, ?after=) answers the other form the document gives: {rows, next}.
  for (const [template, list] of [['/v1/spaces/{space}/ledger', 'ledger'], ['/v1/spaces/{space}/kv', 'kv']] as const) {
    const page = await (await fetch(`${url}/v1/spaces/team/${list}?limit=1`, { headers: auth })).json() as { rows: unknown[] }
    assert.ok(Array.isArray(page.rows), `${list}: a page`)
    fits(documented(operation('GET', template), '200'), page, `GET ${template}?limit=1`)
  }

  // A folder holding a file and a conflict copy of it: a conflict to list and to resolve, on this node alone.
  const dir = path.join(root, 'folder')
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'a.txt'), 'mine')
  const copy = 'a.sync-conflict-20260101-000000-ABCDEF0.txt'
  fs.writeFileSync(path.join(dir, copy), 'theirs')
  await call('POST', '/v1/spaces', {}, { name: 'files' })
  const files = { space: 'files' }
  await call('POST', '/v1/folders', {}, { space: 'files', path: dir })
  await call('POST', '/v1/spaces/{space}/folder/sync', files)
  assert.equal((await call('GET', '/v1/folders')).length, 1)
  await call('GET', '/v1/spaces/{space}/folder', files)
  const conflicts = await call('GET', '/v1/spaces/{space}/conflicts', files)
  assert.deepEqual(conflicts.map((c: { copies: string[] }) => c.copies), [[copy]], 'a conflict to check the items against')
  await call('POST', '/v1/spaces/{space}/conflicts/resolve', files, { path: 'a.txt', keep: copy })
  await call('DELETE', '/v1/spaces/{space}/folder', files)
  await call('POST', '/v1/folders', {}, { space: 'files', path: dir, mode: 'receive-only' })
  await call('POST', '/v1/spaces/{space}/folder/revert', files)
  await call('DELETE', '/v1/spaces/{space}/folder', files)
  // This node owns `files` alone: leaving it takes --force (LAST_ADMIN otherwise).
  assert.equal((await call('POST', '/v1/spaces/{space}/leave', files, { force: true })).folder, null)

  await call('GET', '/v1/misbehaviour')
  await call('POST', '/v1/backup', {}, { path: path.join(root, 'backup.db') })
  await call('GET', '/v1/stats')
  const status = await call('GET', '/v1/status')
  assert.notEqual(status.report, null, 'a report to check against')
  await call('GET', '/v1/net')
  await call('GET', '/v1/alerts')

  // The answers that are not JSON: their documented content type.
  for (const [template, target] of [['/metrics', '/metrics'], ['/dashboard', '/dashboard'], ['/dashboard/{module}', '/dashboard/app.js'], ['/v1/events', '/v1/events']] as const) {
    const ac = new AbortController()
    const res = await fetch(`${url}${target}`, { headers: auth, signal: ac.signal })
    assert.equal(res.status, 200, target)
    const type = (res.headers.get('content-type') ?? '').split(';')[0] as string
    const content = operation('GET', template).responses['200']?.content ?? {}
    assert.ok(type in content, `${target} answers ${type}, documented: ${Object.keys(content).join(', ')}`)
    ac.abort() // the event stream does not end by itself
    calls.push({ method: 'GET', template, path: target })
  }
  await call('POST', '/v1/stop')
  assert.equal(stopRequests, 1)

  for (const c of calls) covered.add(`${c.method} ${c.template}`)
  assert.deepEqual(ops.filter(op => !covered.has(op)), [], 'every documented operation was called')
})

test('every JSON answer has its schema, and every schema is of a route', () => {
  const table = routeTable().map(r => `${r.method} ${r.path}`)
  const text = new Set(['GET /metrics', 'GET /dashboard', 'GET /dashboard/:module', 'GET /v1/events'])
  assert.deepEqual(table.filter(k => !text.has(k) && RESPONSES[k] === undefined), [], 'routes without a response schema')
  assert.deepEqual(Object.keys(RESPONSES).filter(k => !table.includes(k)), [], 'schemas of no route')
})

test('errors have the documented shape, under a status the document lists for the operation', async () => {
  const error = (op: Operation, status: number): z.ZodType => documented(op, String(status))
  const send = async (c: Call, headers: Record<string, string>, body = c.body): Promise<{ status: number, answer: any }> => {
    const res = await fetch(`${url}${c.path}`, {
      method: c.method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: res.status, answer: await res.json() }
  }
  let checked = 0
  for (const c of calls) {
    const op = operation(c.method, c.template)
    const what = `${c.method} ${c.template}`
    if (!['/v1/health', '/v1/openapi.json', '/dashboard/{module}'].includes(c.template)) {
      const r = await send(c, {}) // no token
      assert.equal(r.status, 401, what)
      fits(error(op, 401), r.answer, `${what} without the token`)
      assert.match(op.responses['401']?.description ?? '', /UNAUTHORIZED/)
      checked++
    }
    if (c.template.includes('{space}')) {
      const r = await send({ ...c, path: c.path.replace(/^\/v1\/spaces\/[^/]+/, '/v1/spaces/no-such-space') }, auth)
      assert.equal(r.status, 404, `${what} of an unknown space: ${JSON.stringify(r.answer)}`)
      fits(error(op, 404), r.answer, `${what} of an unknown space`)
      assert.equal(r.answer.error.code, 'UNKNOWN_SPACE')
      assert.match(op.responses['404']?.description ?? '', /UNKNOWN_SPACE/)
      checked++
    }
    if (c.body !== undefined) {
      const r = await send(c, auth, { ...c.body as object, surprise: 1 })
      assert.equal(r.status, 400, `${what} with an unknown field`)
      fits(error(op, 400), r.answer, `${what} with an unknown field`)
      assert.equal(r.answer.error.code, 'BAD_INPUT')
      assert.match(op.responses['400']?.description ?? '', /BAD_INPUT/)
      checked++
    }
  }
  assert.ok(checked >= 50, `errors checked: ${checked}`)
  const health = await fetch(`${url}/v1/health`)
  assert.equal(health.status, 200, 'the daemon answers on after every error')
})
