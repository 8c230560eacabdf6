import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WebSocket } from 'ws'
import type { Node } from '../../src/node/index.ts'
import { apiNode } from './api-node.ts'

/**
 * GET /v1/events (issue 16 part 4): every event has an id and a time; a
 * client resumes after the last id it saw (Last-Event-ID or since=) and
 * gets exactly what followed; a resume from before the replay buffer or
 * from another run of the daemon gets a gap event first; ?types= filters.
 * Served as Server-Sent Events, and over a WebSocket for the dashboard.
 * Events are the node's own, emitted here; every wait is for a message.
 */
type Message = Record<string, unknown> & { type: string }

/** An SSE stream read message by message (each a JSON `data:` line, its `id:` checked against the JSON's). */
async function sse (url: string, headers: Record<string, string>): Promise<{ next: () => Promise<Message>, close: () => void }> {
  const ac = new AbortController()
  const res = await fetch(url, { headers, signal: ac.signal })
  assert.equal(res.status, 200, await (res.status === 200 ? '' : res.text()))
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  const next = async (): Promise<Message> => {
    for (;;) {
      const end = text.indexOf('\n\n')
      if (end >= 0) {
        const block = text.slice(0, end)
        text = text.slice(end + 2)
        if (block.startsWith(':')) continue // a heartbeat
        const lines = block.split('\n')
        const data = lines.find(l => l.startsWith('data: '))?.slice(6) ?? ''
        const msg = JSON.parse(data) as Message
        const id = lines.find(l => l.startsWith('id: '))?.slice(4)
        assert.equal(id, msg.id as string | undefined, 'the SSE id is the event\'s')
        return msg
      }
      const { value, done } = await reader.read()
      if (done) throw new Error('the stream ended')
      text += value
    }
  }
  return { next, close: () => { ac.abort() } }
}

const notice = (node: Node, message: string): void => { node.emit('notice', { atMs: 0, message }) }

test('events carry an id and a time; a resume with Last-Event-ID or since= gets exactly what followed', async t => {
  const { node, url, auth } = await apiNode(t)
  const first = await sse(`${url}/v1/events`, auth)
  assert.deepEqual(await first.next(), { type: 'hello', peerId: node.peerId })
  for (const m of ['a', 'b', 'c']) notice(node, m)
  const got = [await first.next(), await first.next(), await first.next()]
  first.close()
  assert.deepEqual(got.map(e => [e.type, e.message]), [['notice', 'a'], ['notice', 'b'], ['notice', 'c']])
  for (const e of got) {
    assert.match(e.id as string, /^[0-9a-f]{8}-\d+$/)
    assert.ok(!Number.isNaN(Date.parse(e.time as string)) && (e.time as string).endsWith('Z'), 'an ISO UTC time')
  }
  const ids = got.map(e => e.id as string)
  assert.equal(new Set(ids).size, 3, 'ids are distinct')
  notice(node, 'd') // while nobody listens

  const resumed = await sse(`${url}/v1/events`, { ...auth, 'last-event-id': ids[0] as string })
  assert.equal((await resumed.next()).type, 'hello')
  assert.deepEqual([await resumed.next(), await resumed.next(), await resumed.next()].map(e => e.message), ['b', 'c', 'd'])
  notice(node, 'e')
  assert.equal((await resumed.next()).message, 'e', 'then live')
  resumed.close()

  const since = await sse(`${url}/v1/events?since=${ids[2] as string}`, auth)
  await since.next()
  assert.equal((await since.next()).message, 'd')
  since.close()
})

test('?types= filters, in the replay and live; an unknown type, a malformed or future id is 400', async t => {
  const { node, url, auth } = await apiNode(t)
  const all = await sse(`${url}/v1/events`, auth)
  await all.next()
  notice(node, 'n1')
  const { id } = await all.next()
  all.close()
  node.emit('disconnect', { peer: 'p', reason: 'r', atMs: 0 })
  notice(node, 'n2')
  const only = await sse(`${url}/v1/events?types=disconnect,fork&since=${id as string}`, auth)
  await only.next()
  assert.equal((await only.next()).type, 'disconnect', 'replayed, n2 skipped')
  notice(node, 'n3')
  node.emit('fork', { space: 'x' as never, author: 'y' })
  assert.equal((await only.next()).type, 'fork', 'live, n3 skipped')
  only.close()

  const run = (id as string).split('-')[0] as string
  for (const q of ['types=nope', 'types=notice,nope', 'types=', 'types=,', 'since=garbage', `since=${run}-999999`]) {
    const res = await fetch(`${url}/v1/events?${q}`, { headers: auth })
    assert.equal(res.status, 400, q)
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BAD_INPUT', q)
  }
})

test('a resume from before the replay buffer, or from an earlier run, begins with a gap event', async t => {
  const { node, url, auth } = await apiNode(t)
  const s = await sse(`${url}/v1/events`, auth)
  await s.next()
  notice(node, 'm1')
  const { id: firstId } = await s.next()
  s.close()
  for (let i = 2; i <= 1005; i++) notice(node, `m${i}`)

  const late = await sse(`${url}/v1/events`, { ...auth, 'last-event-id': firstId as string })
  await late.next()
  const gap = await late.next()
  assert.deepEqual({ ...gap, time: undefined }, { type: 'gap', time: undefined, reason: 'evicted', after: firstId, missed: 4 })
  assert.equal((await late.next()).message, 'm6', 'then the oldest it still holds (the last 1,000)')
  late.close()

  const run = (firstId as string).split('-')[0] as string
  const other = (run === '00000000' ? '11111111' : '00000000') + '-7'
  const restarted = await sse(`${url}/v1/events?since=${other}`, auth)
  await restarted.next()
  assert.deepEqual({ ...(await restarted.next()), time: undefined }, { type: 'gap', time: undefined, reason: 'restarted', after: other })
  assert.equal((await restarted.next()).message, 'm6', 'then all it holds')
  restarted.close()
})

test('the WebSocket stream: the token in the query string, the same messages, since= and types=', async t => {
  const { node, url, token } = await apiNode(t)
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/events?token=${token}&types=notice`)
  const messages: Message[] = []
  const waiters: Array<() => void> = []
  ws.on('message', data => { messages.push(JSON.parse(String(data)) as Message); waiters.shift()?.() })
  const nth = async (n: number): Promise<Message> => {
    while (messages.length <= n) await new Promise<void>(resolve => waiters.push(resolve))
    return messages[n] as Message
  }
  assert.equal((await nth(0)).type, 'hello')
  node.emit('disconnect', { peer: 'p', reason: 'r', atMs: 0 })
  notice(node, 'w1')
  const e = await nth(1)
  assert.equal(e.message, 'w1')
  assert.match(e.id as string, /^[0-9a-f]{8}-2$/, 'the disconnect took id 1; filtered out here')
  ws.close()
  notice(node, 'w2')

  const again = new WebSocket(`${url.replace('http', 'ws')}/v1/events?token=${token}&since=${e.id as string}`)
  const resumed = await new Promise<Message[]>(resolve => {
    const got: Message[] = []
    again.on('message', data => { got.push(JSON.parse(String(data)) as Message); if (got.length === 2) resolve(got) })
  })
  again.close()
  assert.deepEqual(resumed.map(m => m.type === 'hello' ? 'hello' : m.message), ['hello', 'w2'], 'resumed after w1')

  const refused = await new Promise<number>(resolve => {
    const bad = new WebSocket(`${url.replace('http', 'ws')}/v1/events?token=wrong`)
    bad.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0) })
    bad.on('error', () => {})
  })
  assert.equal(refused, 401)
  const badType = await new Promise<number>(resolve => {
    const bad = new WebSocket(`${url.replace('http', 'ws')}/v1/events?token=${token}&types=nope`)
    bad.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0) })
    bad.on('error', () => {})
  })
  assert.equal(badType, 400)
})

test('the event stream takes the token from the query string (an EventSource cannot send a header)', async t => {
  const { url, token } = await apiNode(t)
  const s = await sse(`${url}/v1/events?token=${token}`, {})
  assert.equal((await s.next()).type, 'hello')
  s.close()
})
