import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { ok, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import type { Daemon } from '../e2e/harness.ts'

/**
 * The API's contract on a real daemon (issue 16 part 4, "what must be
 * shown"): a wrong method, a bad escape, a schema violation and a token in
 * the query string on a write each get a clear error with a stable code, and
 * the daemon keeps running and answering; an event stream resumed after a
 * reconnect gets what happened meanwhile, with ids and times.
 */
describe('the API of a running daemon', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const dir = path.join(root, 'node')
  let daemon: Daemon
  let api: { url: string, token: string }

  before(async () => {
    daemon = await startDaemon(dir)
    ok(dir, 'space', 'create', 'team')
    api = JSON.parse(fs.readFileSync(path.join(dir, 'api.json'), 'utf8')) as { url: string, token: string }
  })
  after(async () => {
    await stop(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  })

  /** A raw request (fetch would normalize a bad escape away). */
  async function call (method: string, target: string, headers: Record<string, string>, body?: string): Promise<{
    status: number, headers: http.IncomingHttpHeaders, error: { code: string, message: string }
  }> {
    const { hostname, port } = new URL(api.url)
    return await new Promise((resolve, reject) => {
      const req = http.request({ hostname, port, method, path: target, headers, agent: false }, res => {
        let text = ''
        res.on('data', (c: Buffer) => { text += c.toString() })
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, error: (JSON.parse(text) as { error: never }).error })
        })
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  test('bad requests get a stable code and the daemon answers on', async () => {
    const auth = { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' }
    const cases: Array<[string, string, Record<string, string>, string | undefined, number, string]> = [
      ['PATCH', '/v1/spaces/team/kv/k', auth, undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['GET', '/v1/spaces/%zz/kv', auth, undefined, 400, 'BAD_URL'],
      ['POST', '/v1/spaces/team/counters/c', auth, '{"delta": "ten"}', 400, 'BAD_INPUT'],
      ['POST', '/v1/spaces/team/invites', auth, '{"role": "writer", "usses": 3}', 400, 'BAD_INPUT'],
      ['PUT', `/v1/spaces/team/kv/k?token=${api.token}`, { 'content-type': 'application/json' }, '{"value": 1}', 401, 'UNAUTHORIZED']
    ]
    for (const [method, target, headers, body, status, code] of cases) {
      const r = await call(method, target, headers, body)
      assert.equal(r.status, status, `${method} ${target}: ${r.error.message}`)
      assert.equal(r.error.code, code, `${method} ${target}`)
      assert.doesNotMatch(r.error.message, /\n\s+at /, 'no stack trace')
    }
    assert.equal((await call('PATCH', '/v1/spaces/team/kv/k', auth)).headers.allow, 'DELETE, GET, PUT')
    assert.equal(ok(dir, 'kv', 'get', 'team', 'k').value, null, 'the write with a query token did nothing')
    assert.equal(daemon.child.exitCode, null, 'still running')
    assert.equal(ok(dir, 'id').peerId, daemon.peerId, 'and answering')
  })

  test('an event stream resumed with Last-Event-ID gets what happened while it was away', async () => {
    const auth = { authorization: `Bearer ${api.token}` }
    const open = async (headers: Record<string, string>): Promise<{ next: () => Promise<string[]>, close: () => void }> => {
      const ac = new AbortController()
      const res = await fetch(`${api.url}/v1/events`, { headers, signal: ac.signal })
      assert.equal(res.status, 200)
      const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader()
      let text = ''
      const next = async (): Promise<string[]> => {
        for (;;) {
          const end = text.indexOf('\n\n')
          if (end >= 0) {
            const block = text.slice(0, end).split('\n')
            text = text.slice(end + 2)
            if (!block[0]?.startsWith(':')) return block
          } else {
            const { value, done } = await reader.read()
            if (done) throw new Error('the stream ended')
            text += value
          }
        }
      }
      return { next, close: () => { ac.abort() } }
    }
    const first = await open(auth)
    assert.match((await first.next()).join('\n'), /"type":"hello"/)
    // A space created and a folder added while the stream is open: the daemon sends their events.
    const shared = path.join(root, 'shared')
    fs.mkdirSync(shared)
    fs.writeFileSync(path.join(shared, 'a.txt'), 'a')
    ok(dir, 'space', 'create', 'files')
    ok(dir, 'folder', 'add', 'files', shared)
    const seen = await first.next()
    first.close()
    const id = seen.find(l => l.startsWith('id: '))?.slice(4) as string
    const event = JSON.parse(seen.find(l => l.startsWith('data: '))?.slice(6) as string) as { id: string, time: string, type: string }
    assert.equal(event.id, id)
    assert.ok(['stored', 'folder', 'network', 'notice'].includes(event.type), event.type)
    assert.ok(!Number.isNaN(Date.parse(event.time)))

    ok(dir, 'folder', 'remove', 'files') // while nobody listens
    ok(dir, 'folder', 'add', 'files', shared) // events after the id, whichever the stream had seen
    const resumed = await open({ ...auth, 'last-event-id': id })
    await resumed.next() // hello
    const next = await resumed.next()
    resumed.close()
    const nextId = next.find(l => l.startsWith('id: '))?.slice(4) as string
    const [run, seq] = id.split('-')
    assert.equal(nextId, `${run as string}-${Number(seq) + 1}`, 'the very next event, none skipped')
  })
})
