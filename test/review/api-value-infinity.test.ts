/**
 * Review (API cheap path and group commit): `{"value": 1e400}` is valid
 * JSON, and JSON.parse makes it Infinity; the schema (z.unknown) and the
 * cheap path both take it. The entry encoder (DAG-CBOR) cannot hold
 * Infinity and throws a plain Error, not a CodecError, so appendEach takes
 * it for a failure of the whole group: every other client's write of that
 * turn of the event loop is refused with it (HTTP 500, INTERNAL), and
 * none is written. One API client can fail every other client's live
 * writes at will. Expected: that write alone refused as the client's
 * error (400, BAD_INPUT), the others acknowledged, as for a value too big.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { ApiServer } from '../../src/api/server.ts'

function openNode (t: { after: (fn: () => Promise<void>) => void }): Node {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-inf-'))
  const node = Node.open({ dir })
  t.after(async () => { await node.stop(); fs.rmSync(dir, { recursive: true, force: true }) })
  return node
}

test('a value JSON.parse makes Infinity is the client\'s error: 400 BAD_INPUT, not 500 INTERNAL', async t => {
  const node = openNode(t)
  const api = new ApiServer({ node, host: '127.0.0.1', port: 0 })
  const { url, token } = await api.start()
  t.after(async () => { await api.stop() })
  const { id } = node.createSpace('inf')
  for (const [route, method, body] of [
    ['kv/k', 'PUT', '{"value":1e400}'], ['kv/k', 'PUT', '{"value":{"a":[-1e999]}}'], ['ledger', 'POST', '{"tx":1e400}']
  ] as const) {
    const res = await fetch(`${url}/v1/spaces/${id}/${route}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body
    })
    const answer = await res.json() as { error?: { code?: unknown } }
    assert.deepEqual([res.status, answer.error?.code], [400, 'BAD_INPUT'], `${method} ${route} ${body}`)
  }
})

test('one write of a value that cannot be encoded is refused alone; the others of its group are written', async t => {
  const node = openNode(t)
  const { id } = node.createSpace('inf-group')
  // Queued in one turn of the event loop: one group.
  const settled = await Promise.allSettled(Array.from({ length: 50 }, async (_, i) => {
    await node.kvPutGrouped(id, `k${i}`, i === 17 ? Infinity : i)
  }))
  assert.deepEqual(settled.map(s => s.status), settled.map((_, i) => i === 17 ? 'rejected' : 'fulfilled'))
  const kv = new Map(node.kvList(id).map(r => [r.key, r.value]))
  for (let i = 0; i < 50; i++) assert.equal(kv.get(`k${i}`), i === 17 ? undefined : i)
})
