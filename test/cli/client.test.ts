import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'
import { ApiClient } from '../../src/cli/client.ts'

/** A client whose api.json names `server`, listening on loopback until the test ends. */
async function clientOf (server: net.Server, t: TestContext): Promise<ApiClient> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-client-'))
  t.after(() => { server.close(); fs.rmSync(dir, { recursive: true, force: true }) })
  const { port } = server.address() as { port: number }
  fs.writeFileSync(path.join(dir, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${port}`, token: 't' }))
  return new ApiClient(dir)
}

/**
 * The command line's client sends a path as it is: a URL's parser removes `.` and `..` segments (`%2E` too), so
 * `kv del . folder` reached DELETE /v1/spaces/kv/folder (a review's probe).
 */
test('the client sends a key or space named "." or ".." as a segment of its own', async t => {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.setHeader('content-type', 'application/json')
    res.end('{}')
  })
  const api = await clientOf(server, t)
  await api.call('DELETE', '/v1/spaces/./kv/..')
  await api.call('GET', `/v1/spaces/team/kv/${encodeURIComponent('.')}`)
  assert.deepEqual(seen, ['DELETE /v1/spaces/./kv/..', 'GET /v1/spaces/team/kv/.'])
})

/**
 * Review N2: a daemon at its cap of API connections closes a new one; the command line said no daemon ran and to
 * start one. A connection taken and closed before any answer is told apart from nothing listening.
 */
test('the client tells a connection the daemon closed from no daemon running', async t => {
  const server = net.createServer(socket => { socket.resetAndDestroy() })
  const api = await clientOf(server, t)
  const closed = /the daemon closed the connection \(it may be at its connection limit\); try again/
  await assert.rejects(api.call('GET', '/v1/id'), closed)
  server.close()
  await assert.rejects(api.call('GET', '/v1/id'), /no samepage daemon is running for /)
})
