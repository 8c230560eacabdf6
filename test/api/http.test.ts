import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { apiNode } from './api-node.ts'

/**
 * The API's HTTP contract (issue 16 part 4): a wrong method is 405 with
 * `Allow`, a malformed URL 400 with a code (never 500 and a stack trace), a
 * 401 carries `WWW-Authenticate: Bearer`, and the token in the query string
 * is taken only by the dashboard page and the event stream. After each bad
 * request the daemon still answers.
 */
interface Answer { status: number, headers: http.IncomingHttpHeaders, body: string }

/** A raw request: fetch() would normalize the targets under test. */
async function raw (url: string, method: string, target: string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  const { hostname, port } = new URL(url)
  return await new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method, path: target, headers, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end()
  })
}

const errorOf = (a: Answer): { code: string, message: string } => (JSON.parse(a.body) as { error: { code: string, message: string } }).error

test('a known path with a wrong method is 405 with Allow; an unknown path stays 404', async t => {
  const { url, auth } = await apiNode(t)
  const put = await raw(url, 'PUT', '/v1/spaces', auth)
  assert.equal(put.status, 405)
  assert.equal(put.headers.allow, 'GET, POST')
  assert.equal(errorOf(put).code, 'METHOD_NOT_ALLOWED')
  assert.match(errorOf(put).message, /takes GET, POST/)
  const kv = await raw(url, 'POST', '/v1/spaces/team/kv/k', auth)
  assert.equal(kv.status, 405)
  assert.equal(kv.headers.allow, 'DELETE, GET, PUT')
  const stop = await raw(url, 'GET', '/v1/stop', auth)
  assert.equal(stop.status, 405, 'the server\'s own paths too')
  assert.equal(stop.headers.allow, 'POST')
  const none = await raw(url, 'GET', '/v1/nothing-here', auth)
  assert.equal(none.status, 404)
  assert.equal(errorOf(none).code, 'NOT_FOUND')
  assert.equal(none.headers.allow, undefined)
  assert.equal((await raw(url, 'GET', '/v1/id', auth)).status, 200, 'and it still answers')
})

test('a malformed URL is 400 BAD_URL with a JSON error and no stack trace', async t => {
  const { url, auth } = await apiNode(t)
  for (const target of ['/v1/spaces/%zz/kv', '/v1/spaces/%E0%A4%A/kv/k', '/dashboard/%', '//[']) {
    const a = await raw(url, 'GET', target, auth)
    assert.equal(a.status, 400, target)
    assert.match(a.headers['content-type'] ?? '', /^application\/json/)
    assert.equal(errorOf(a).code, 'BAD_URL', target)
    assert.doesNotMatch(a.body, /at \S+ \(|URIError|\.ts:\d+/, `${target}: no stack trace`)
  }
  assert.equal((await raw(url, 'GET', '/v1/id', auth)).status, 200, 'and it still answers')
})

test('a key or space named "." or ".." is a name, routed as sent, never a step up the path', async t => {
  // A URL's parser removes dot segments (%2E too): `kv del . folder` became DELETE /v1/spaces/kv/folder, stopped
  // sharing another space's folder and printed ok; `kv get team .` answered the whole map (a review's probe).
  const { node, url, auth } = await apiNode(t)
  node.createSpace('team')
  node.kvPut('team', 'other', 1)
  const json = { ...auth, 'content-type': 'application/json' }
  for (const [key, target] of [['.', '/v1/spaces/team/kv/.'], ['..', '/v1/spaces/team/kv/%2E%2E']] as const) {
    const put = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(url)
      const req = http.request({ hostname, port, method: 'PUT', path: target, headers: json, agent: false }, res => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', reject)
      req.end(JSON.stringify({ value: key }))
    })
    assert.equal(put, 200, target)
    assert.deepEqual(JSON.parse((await raw(url, 'GET', target, auth)).body), { key, value: key })
  }
  assert.deepEqual([node.kvGet('team', '.').value, node.kvGet('team', '..').value], ['.', '..'])
  const gone = await raw(url, 'GET', '/v1/spaces/./kv', auth)
  assert.equal(errorOf(gone).code, 'UNKNOWN_SPACE', 'a space named "." is looked up, not dropped')
})

test('a 401 says how to authenticate: WWW-Authenticate: Bearer', async t => {
  const { url } = await apiNode(t)
  for (const target of ['/v1/id', '/metrics', '/dashboard', '/v1/openapi-nothing']) {
    const a = await raw(url, 'GET', target)
    assert.equal(a.status, 401, target)
    assert.match(a.headers['www-authenticate'] ?? '', /^Bearer\b/, target)
    assert.equal(errorOf(a).code, 'UNAUTHORIZED')
  }
  const wrong = await raw(url, 'GET', '/v1/id', { authorization: 'Bearer wrong' })
  assert.equal(wrong.status, 401)
  assert.match(wrong.headers['www-authenticate'] ?? '', /^Bearer\b/)
})

test('the token in the query string opens the dashboard page and the event stream only', async t => {
  const { url, token, node } = await apiNode(t)
  const { id } = node.createSpace('team')
  const q = `token=${token}`
  assert.equal((await raw(url, 'GET', `/dashboard?${q}`)).status, 200, 'the page')
  for (const [method, target] of [
    ['GET', `/v1/id?${q}`], ['GET', `/metrics?${q}`], ['GET', `/v1/spaces?${q}`],
    ['PUT', `/v1/spaces/${id}/kv/k?${q}`], ['POST', `/v1/spaces?${q}`], ['POST', `/v1/stop?${q}`],
    ['POST', `/dashboard?${q}`]
  ] as const) {
    const a = await raw(url, method, target)
    assert.equal(a.status, 401, `${method} ${target}`)
    assert.match(errorOf(a).message, /query string only by GET \/dashboard and GET \/v1\/events/)
  }
  assert.equal(node.kvList(id).length, 0, 'the write with a query token did nothing')
  assert.equal((await raw(url, 'GET', '/v1/id', { authorization: `Bearer ${token}` })).status, 200, 'the header still works')
})

test('/metrics takes the read-only metrics token, which opens nothing else; the API token still works there', async t => {
  const { url, token, dir } = await apiNode(t)
  const file = path.join(dir, 'metrics-token')
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'private, as the API token')
  const metricsToken = fs.readFileSync(file, 'utf8').trim()
  assert.match(metricsToken, /^[0-9a-f]{64}$/)
  assert.notEqual(metricsToken, token)
  const scrape = await raw(url, 'GET', '/metrics', { authorization: `Bearer ${metricsToken}` })
  assert.equal(scrape.status, 200)
  assert.match(scrape.body, /^# HELP /m)
  assert.equal((await raw(url, 'GET', '/metrics', { authorization: `Bearer ${token}` })).status, 200, 'the API token too')
  assert.equal((await raw(url, 'GET', `/metrics?token=${metricsToken}`)).status, 401, 'in the header only')
  for (const [method, target] of [
    ['GET', '/v1/id'], ['GET', '/v1/spaces'], ['POST', '/v1/stop'], ['GET', '/dashboard'], ['GET', '/v1/events'],
    ['GET', `/dashboard?token=${metricsToken}`], ['GET', `/v1/events?token=${metricsToken}`], ['PUT', '/v1/spaces/x/kv/k']
  ] as const) {
    const a = await raw(url, method, target, target.includes('token=') ? {} : { authorization: `Bearer ${metricsToken}` })
    assert.equal(a.status, 401, `${method} ${target} with the metrics token`)
  }
})
