import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { apiNode } from './api-node.ts'

/**
 * DNS rebinding: a page of http://attacker.example:PORT/ whose name its owner re-points to 127.0.0.1 reaches the
 * API as a page of that site, naming it in `Host` (and, for a WebSocket, in `Origin`). The API answers only its
 * own names (an IP address, localhost, with its port; a name config.json's "apiHosts" lists) and refuses the rest
 * with 421 BAD_HOST, before any route: what needs no token (health, the OpenAPI document, the dashboard's code)
 * and what does.
 */
interface Answer { status: number, body: string, upgraded: boolean }

/** A request with the headers as given (fetch would not let a test set Host). */
async function request (url: string, headers: Record<string, string>): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = http.request(url, { headers, agent: false })
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 0, body: '', upgraded: true }) })
    req.on('response', res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, upgraded: false }))
    })
    req.on('error', reject)
    req.end()
  })
}

const upgrade = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }

test('a request naming a foreign Host is refused with 421 BAD_HOST; the API\'s own names are answered', async t => {
  const { url, auth } = await apiNode(t, undefined, ['samepage.lan'])
  const port = new URL(url).port
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, 'samepage.lan', `samepage.lan:8443`]) {
    assert.equal((await request(`${url}/v1/health`, { host })).status, 200, host)
  }
  const foreign = [`attacker.example:${port}`, 'attacker.example', `127.0.0.1:${Number(port) + 1}`, `localhost.attacker.example:${port}`]
  for (const host of foreign) {
    for (const p of ['/v1/health', '/v1/openapi.json', '/dashboard/app.js', '/v1/status']) {
      const r = await request(`${url}${p}`, { host, origin: `http://${host}`, ...auth })
      assert.equal(r.status, 421, `${p} with Host ${host}: ${r.body.slice(0, 80)}`)
      const error = (JSON.parse(r.body) as { error: { code: string, message: string } }).error
      assert.equal(error.code, 'BAD_HOST')
      assert.match(error.message, new RegExp(`answers only to its own names \\(http://127\\.0\\.0\\.1:${port}`))
    }
  }
})

test('the event stream\'s WebSocket upgrade checks Host, and Origin when one is sent', async t => {
  const { url, token } = await apiNode(t)
  const port = new URL(url).port
  const events = `${url}/v1/events?token=${token}`
  const own = `127.0.0.1:${port}`
  assert.equal((await request(events, { ...upgrade, host: own })).upgraded, true, 'a program: no Origin')
  assert.equal((await request(events, { ...upgrade, host: own, origin: `http://${own}` })).upgraded, true, 'the dashboard')
  // A page of another machine's address is another site too (review E): an Origin must be the host asked.
  const foreign = [{ host: own, origin: 'http://attacker.example' }, { host: own, origin: 'null' },
    { host: `attacker.example:${port}` }, { host: own, origin: `http://198.51.100.7:${port}` },
    { host: own, origin: `http://[2001:db8::7]:${port}` }]
  for (const headers of foreign) {
    const r = await request(events, { ...upgrade, ...headers })
    assert.deepEqual([r.upgraded, r.status], [false, 421], JSON.stringify(headers))
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'BAD_HOST')
  }
})
