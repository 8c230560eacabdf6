import { test } from 'node:test'
import assert from 'node:assert/strict'
import { routeTable } from '../../src/api/route-table.ts'
import { apiNode } from './api-node.ts'

/**
 * GET /v1/openapi.json (issue 16 part 4) against the live server: its
 * operations are exactly the route table the server dispatches from, every
 * one it lists is answered (not 404 "no such call", not 405), every other
 * method on its paths is 405, and every body it describes is checked by its
 * schema (an unknown field, a missing or mistyped one: 400 BAD_INPUT naming
 * it), the daemon answering on after each.
 */
type Operation = { requestBody?: { content: { 'application/json': { schema: { required?: string[] } } } }, security?: unknown[] }
type Doc = { openapi: string, paths: Record<string, Record<string, Operation>> }

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const

/** The document's operations as `METHOD /path/:param`. */
const operations = (doc: Doc): string[] => Object.entries(doc.paths).flatMap(([p, ops]) =>
  Object.keys(ops).map(m => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`)).sort()

/** A concrete path for a template: `app.js` for the dashboard's module, `x` for any other parameter. */
const concrete = (p: string): string => p.replace('{module}', 'app.js').replace(/\{\w+\}/g, 'x')

async function fetchDoc (url: string): Promise<Doc> {
  const res = await fetch(`${url}/v1/openapi.json`) // no token: the shape of the API, nothing of the node
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  return await res.json() as Doc
}

test('the document lists exactly the routes the server dispatches, and the server answers each of them', async t => {
  let stopRequested = 0
  const { url, auth } = await apiNode(t, () => { stopRequested++ })
  const doc = await fetchDoc(url)
  assert.match(doc.openapi, /^3\.1\./)
  const table = routeTable().map(r => `${r.method} ${r.path}`).sort()
  assert.deepEqual(operations(doc), table, 'document and route table, both ways')
  assert.equal(new Set(table).size, table.length, 'no route twice')

  for (const [template, ops] of Object.entries(doc.paths)) {
    const target = `${url}${concrete(template)}`
    for (const method of METHODS) {
      const documented = ops[method.toLowerCase()] !== undefined
      const ac = new AbortController()
      const res = await fetch(target, {
        method, signal: ac.signal, headers: { ...auth, 'content-type': 'application/json' },
        ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' })
      })
      const what = `${method} ${template}: ${res.status}`
      if (documented) {
        assert.notEqual(res.status, 405, what)
        if (res.status === 404) assert.notEqual(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND', what)
      } else {
        assert.equal(res.status, 405, `${what}, an undocumented method`)
        const allow = (res.headers.get('allow') ?? '').split(', ').sort()
        assert.deepEqual(allow, Object.keys(ops).map(m => m.toUpperCase()).sort(), `${what}: Allow lists the documented ones`)
      }
      ac.abort() // the event stream does not end by itself
    }
  }
  assert.equal(stopRequested, 1, 'POST /v1/stop was answered')
  assert.equal((await fetch(`${url}/v1/no-such-call`, { headers: auth })).status, 404)
})

test('every body the document describes is checked by its schema: unknown, missing and mistyped fields are 400 BAD_INPUT', async t => {
  const { node, url, auth } = await apiNode(t)
  const doc = await fetchDoc(url)
  const call = async (method: string, p: string, body: string): Promise<{ status: number, error?: { code: string, message: string } }> => {
    const res = await fetch(`${url}${p}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body })
    return { status: res.status, ...(await res.json() as object) }
  }
  let bodies = 0
  for (const [template, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (op.requestBody === undefined) continue
      bodies++
      const unknown = await call(method.toUpperCase(), concrete(template), '{"surprise": 1}')
      assert.equal(unknown.status, 400, `${method} ${template}`)
      assert.equal(unknown.error?.code, 'BAD_INPUT')
      assert.match(unknown.error?.message ?? '', /unknown fields: "surprise"/, `${method} ${template}`)
      for (const field of op.requestBody.content['application/json'].schema.required ?? []) {
        const missing = await call(method.toUpperCase(), concrete(template), '{}')
        assert.equal(missing.error?.code, 'BAD_INPUT', `${method} ${template} without ${field}`)
        assert.match(missing.error?.message ?? '', new RegExp(`"${field}"|${field} must be`), `${method} ${template} names ${field}`)
      }
    }
  }
  assert.ok(bodies >= 9, `the bodies are described (${bodies})`)

  const { id } = node.createSpace('team')
  const cases: Array<[string, string, string, RegExp]> = [
    ['POST', `/v1/spaces/${id}/counters/c`, '{"delta": 1.5}', /"delta" as a whole number/],
    ['POST', `/v1/spaces/${id}/counters/c`, '{"delta": "1"}', /"delta" as a whole number/],
    ['POST', `/v1/spaces/${id}/invites`, '{"role": "owner"}', /role must be admin, writer or reader/],
    ['POST', `/v1/spaces/${id}/invites`, '{"role": "writer", "uses": 2e300}', /"uses" as a whole number/],
    ['POST', '/v1/spaces', '{"name": ""}', /"name" as a non-empty string/],
    ['PUT', `/v1/spaces/${id}/kv/k`, '{}', /needs a "value"/],
    ['POST', `/v1/spaces/${id}/ledger`, '[1]', /not a JSON object/]
  ]
  for (const [method, p, body, why] of cases) {
    const r = await call(method, p, body)
    assert.equal(r.status, 400, `${method} ${p} ${body}`)
    assert.match(r.error?.message ?? '', why, `${method} ${p} ${body}`)
  }
  assert.equal((await call('PUT', `/v1/spaces/${id}/kv/k`, '{"value": null}')).status, 200, 'null is a value')
  assert.equal((await call('POST', `/v1/spaces/${id}/counters/c`, '{"delta": -3}')).status, 200)
  assert.deepEqual(node.counterGet(id, 'c'), (await (await fetch(`${url}/v1/spaces/${id}/counters/c`, { headers: auth })).json()))
})
