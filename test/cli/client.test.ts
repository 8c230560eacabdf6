import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { ApiClient } from '../../src/cli/client.ts'

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
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-client-'))
  t.after(() => { server.close(); fs.rmSync(dir, { recursive: true, force: true }) })
  const { port } = server.address() as { port: number }
  fs.writeFileSync(path.join(dir, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${port}`, token: 't' }))
  const api = new ApiClient(dir)
  await api.call('DELETE', '/v1/spaces/./kv/..')
  await api.call('GET', `/v1/spaces/team/kv/${encodeURIComponent('.')}`)
  assert.deepEqual(seen, ['DELETE /v1/spaces/./kv/..', 'GET /v1/spaces/team/kv/.'])
})
