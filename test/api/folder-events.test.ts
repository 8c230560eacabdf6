import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WebSocket } from 'ws'
import type { FolderStatus } from '../../src/node/index.ts'
import type { SpaceKey } from '../../src/ids/index.ts'
import { FOLDER_EVENT_LIST_MAX, FOLDER_EVENT_TEXT_MAX } from '../../src/api/folder-event.ts'
import { apiNode } from './api-node.ts'

/**
 * The event stream stays usable whatever members make big: a `folder` event is a bounded summary (a member's
 * thousands of long file paths once made each one ~15 MiB, and every subscriber was cut off at its 4 MiB queue
 * bound), and the replay buffer is bounded in bytes as well as in count.
 */
type Message = Record<string, unknown> & { type: string }

const SPACE = 'a'.repeat(64) as SpaceKey
const PATHS = 4000

/** A folder that cannot fetch PATHS files of ~3,800-byte paths (legal: PATH_BYTES_MAX is 4096), each an error. */
function stuckFolder (): FolderStatus {
  const dir = Array.from({ length: 15 }, (_, i) => String(i).padEnd(240, 'd')).join('/')
  const errors = Array.from({ length: PATHS }, (_, i) =>
    ({ path: `${dir}/${String(i).padStart(5, '0').padEnd(200, 'f')}`, error: 'waiting: no connected peer has chunk …' }))
  return {
    root: '/tmp/f', mode: 'send-receive', state: 'syncing', localFiles: 0, localBytes: 0, needFiles: PATHS,
    needBytes: 40_000, bytesReceived: 0, rateBytesPerSecond: 0, peers: [], etaSeconds: null, conflicts: 0, errors,
    skipped: [{ path: 'x'.repeat(3000), problem: 'a symbolic link' }], localChanges: { count: 0, paths: [] }, lastSyncedMs: null,
    totals: { filesIn: 0, filesOut: 0, bytesIn: 0, bytesOut: 0 }
  }
}

test('a folder event is a bounded summary: a subscriber reading every message is never cut off', async t => {
  const { node, url, token } = await apiNode(t)
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/events?token=${token}`)
  t.after(() => { ws.terminate() })
  const messages: { size: number, m: Message }[] = []
  let closed: number | undefined
  let wake = (): void => {}
  ws.on('message', (data: Buffer) => { messages.push({ size: data.length, m: JSON.parse(String(data)) as Message }); wake() })
  ws.on('close', code => { closed = code; wake() })
  const until = async (done: () => boolean): Promise<void> => {
    while (!done() && closed === undefined) await new Promise<void>(resolve => { wake = resolve })
  }
  await until(() => messages.length >= 1) // hello
  const status = stuckFolder()
  assert.ok(JSON.stringify(status).length > 14 * 2 ** 20, 'the whole status is ~15 MiB of JSON')
  for (let i = 0; i < 12; i++) node.emit('folder', { space: SPACE, status })
  node.emit('notice', { atMs: 0, message: 'the end' })
  await until(() => messages.at(-1)?.m.type === 'notice')
  assert.equal(closed, undefined, 'the socket is still open')
  const folders = messages.filter(x => x.m.type === 'folder')
  assert.equal(folders.length, 12)
  for (const { size, m } of folders) {
    assert.ok(size < 16 * 1024, `a folder event is small: ${size} bytes`)
    const s = m.status as Record<string, unknown> & { errors: { path: string, error: string }[], skipped: { path: string }[] }
    assert.equal(m.space, SPACE)
    assert.deepEqual([s.state, s.needFiles, s.errorsTotal, s.skippedTotal], ['syncing', PATHS, PATHS, 1])
    assert.equal(s.errors.length, FOLDER_EVENT_LIST_MAX, 'the first few errors')
    assert.equal(s.errors[0]?.path, status.errors[0]?.path.slice(0, FOLDER_EVENT_TEXT_MAX - 1) + '…')
    assert.equal(s.errors[0]?.error, status.errors[0]?.error, 'a short text as it is')
    assert.equal(s.skipped[0]?.path.length, FOLDER_EVENT_TEXT_MAX)
  }
})

test('the replay buffer is bounded in bytes: a resume gets a gap, then the newest events, and is not cut off', async t => {
  const { node, url, token } = await apiNode(t)
  const first = await firstNotice(url, token, () => { node.emit('notice', { atMs: 0, message: 'first' }) })
  const big = 'x'.repeat(100 * 1024)
  for (let i = 1; i <= 100; i++) node.emit('notice', { atMs: 0, message: `${i} ${big}` }) // 10 MiB in all
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/events?token=${token}&since=${first}`)
  t.after(() => { ws.terminate() })
  const got: { size: number, m: Message }[] = []
  const closedEarly = await new Promise<boolean>(resolve => {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(String(data)) as Message
      got.push({ size: data.length, m })
      if (typeof m.message === 'string' && m.message.startsWith('100 ')) resolve(false)
    })
    ws.on('close', () => { resolve(true) })
  })
  assert.equal(closedEarly, false, 'the replay did not cut its own client off')
  assert.deepEqual(got.slice(0, 2).map(x => x.m.type), ['hello', 'gap'])
  const gap = got[1]?.m as Message & { missed: number, reason: string }
  const replayed = got.slice(2)
  assert.equal(gap.reason, 'evicted')
  assert.equal(gap.missed + replayed.length, 100, 'the gap counts what the buffer let go')
  assert.ok(replayed.length < 30, `${replayed.length} events of 100 KiB held`)
  assert.ok(replayed.reduce((n, x) => n + x.size, 0) <= 2 * 2 ** 20, 'at most 2 MiB replayed')
  assert.deepEqual(replayed.map(x => Number((x.m.message as string).split(' ')[0])),
    Array.from({ length: replayed.length }, (_, i) => 101 - replayed.length + i), 'the newest, in order')
})

/** The id of the notice `emit` makes, read live over a WebSocket closed after it. */
async function firstNotice (url: string, token: string, emit: () => void): Promise<string> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/events?token=${token}&types=notice`)
  try {
    return await new Promise<string>(resolve => {
      ws.on('message', data => {
        const m = JSON.parse(String(data)) as Message
        if (m.type === 'hello') emit()
        else resolve(m.id as string)
      })
    })
  } finally { ws.terminate() }
}
