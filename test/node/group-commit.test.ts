import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node, NodeError } from '../../src/node/index.ts'
import { ApiServer } from '../../src/api/server.ts'

/**
 * Group commit of live writes (node/writes.ts, space/local-writes.ts
 * appendEach): the data writes of one turn of the event loop are one
 * transaction and one announcement, each judged alone, each acknowledged
 * only once committed, in the order of their seqs. Commits are counted by
 * the node's own counter (writeStats), never by time.
 */
function openNode (t: { after: (fn: () => Promise<void>) => void }, walFsync?: (fd: number) => Promise<void>): Node {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-group-'))
  const node = Node.open({ dir, walFsync })
  t.after(async () => {
    await node.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return node
}

function nested (depth: number): unknown {
  let v: unknown = 0
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

test('the writes of one turn are one commit and one announcement; a refused write fails alone with its error', async t => {
  const node = openNode(t)
  const { id } = node.createSpace('group')
  const before = node.writeStats()
  const announced: number[] = []
  node.on('stored', ev => { if (ev.from === 'local') announced.push(ev.count) })
  const refused = new Map<number, RegExp>([[77, /entry: \d+ bytes, limit/], [150, /nests arrays and maps deeper/]])
  const value = (i: number): unknown => i === 77 ? 'x'.repeat(70 * 1024) : i === 150 ? nested(40) : { i }
  const writes = Array.from({ length: 200 }, async (_, i) => { await node.kvPutGrouped(id, `k${i}`, value(i)) })
  const settled = await Promise.allSettled(writes)
  for (const [i, s] of settled.entries()) {
    const expected = refused.get(i)
    if (expected === undefined) {
      assert.equal(s.status, 'fulfilled', `write ${i} is acknowledged`)
      continue
    }
    assert.equal(s.status, 'rejected', `write ${i} is refused`)
    const err = (s as PromiseRejectedResult).reason as unknown
    assert.ok(err instanceof NodeError, `write ${i} fails with the user's error`)
    assert.equal(err.code, 'BAD_INPUT')
    assert.match(err.message, expected)
  }
  const after = node.writeStats()
  const delta = {
    commits: after.commits - before.commits, written: after.written - before.written, refused: after.refused - before.refused
  }
  assert.deepEqual(delta, { commits: 1, written: 198, refused: 2 })
  assert.deepEqual(announced, [198], 'one announcement for the group')
  const kv = new Map(node.kvList(id).map(r => [r.key, r.value]))
  assert.equal(kv.size, 198)
  for (let i = 0; i < 200; i++) {
    if (refused.has(i)) assert.ok(!kv.has(`k${i}`), `refused write ${i} is not there`)
    else assert.deepEqual(kv.get(`k${i}`), { i })
  }
})

test('writes are acknowledged in the order of their seqs, across groups and a synchronous write between them', async t => {
  const node = openNode(t)
  const { id } = node.createSpace('order')
  const acknowledged: number[] = []
  const append = async (i: number): Promise<void> => {
    await node.ledgerAppendGrouped(id, { i })
    acknowledged.push(i)
  }
  const first = Array.from({ length: 50 }, async (_, i) => { await append(i) })
  // A synchronous write commits what waits before it: the queued writes keep their place in the feed.
  node.ledgerAppend(id, { i: 50 })
  acknowledged.push(50)
  assert.deepEqual(node.ledgerList(id), Array.from({ length: 51 }, (_, i) => ({ i })), 'committed before the sync write')
  const second = Array.from({ length: 50 }, async (_, i) => { await append(51 + i) })
  await Promise.all([...first, ...second])
  const order = (node.ledgerList(id) as { i: number }[]).map(tx => tx.i)
  assert.deepEqual(order, Array.from({ length: 101 }, (_, i) => i))
  assert.deepEqual(acknowledged.slice().sort((a, b) => a - b), order)
  // Within a group the acknowledgements follow the seqs; the sync write was acknowledged when it returned.
  assert.deepEqual(acknowledged.filter(i => i !== 50), order.filter(i => i !== 50))
})

test('many concurrent writes over the HTTP API are all acknowledged and all there, in fewer commits', async t => {
  const node = openNode(t)
  const api = new ApiServer({ node, host: '127.0.0.1', port: 0 })
  const { url, token } = await api.start()
  t.after(async () => { await api.stop() })
  const { id } = node.createSpace('http')
  const before = node.writeStats()
  const put = async (i: number): Promise<number> => {
    const res = await fetch(`${url}/v1/spaces/${id}/kv/h${i}`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: i === 99 ? 'x'.repeat(70 * 1024) : i })
    })
    await res.arrayBuffer()
    return res.status
  }
  const statuses = await Promise.all(Array.from({ length: 200 }, async (_, i) => await put(i)))
  assert.deepEqual(statuses, Array.from({ length: 200 }, (_, i) => i === 99 ? 400 : 200))
  const after = node.writeStats()
  assert.equal(after.written - before.written, 199)
  assert.equal(after.refused - before.refused, 1)
  assert.ok(after.commits - before.commits <= 199, 'never more commits than writes')
  const kv = new Map(node.kvList(id).map(r => [r.key, r.value]))
  for (let i = 0; i < 200; i++) assert.equal(kv.get(`h${i}`), i === 99 ? undefined : i)
})

/** The store's sync of its WAL, completed or failed by the test: acknowledgements are ordered against it, not timed. */
class GatedFsync {
  readonly calls: { readonly open: () => void, readonly fail: (e: Error) => void }[] = []
  readonly fsync = async (): Promise<void> => {
    await new Promise<void>((resolve, reject) => { this.calls.push({ open: resolve, fail: reject }) })
  }
}

/** Lets every callback already due run, without waiting for any time. */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

test('a group is acknowledged only once the fsync of the WAL that followed its commit completed', async t => {
  const gate = new GatedFsync()
  const node = openNode(t, gate.fsync)
  const { id } = node.createSpace('durable')
  const acknowledged: string[] = []
  const put = async (key: string): Promise<void> => {
    await node.kvPutGrouped(id, key, key)
    acknowledged.push(key)
  }
  const first = ['a', 'b', 'c'].map(put)
  await settle()
  assert.equal(gate.calls.length, 1, 'one sync for the group')
  assert.deepEqual(node.kvList(id).map(r => r.key), ['a', 'b', 'c'], 'committed')
  assert.deepEqual(acknowledged, [], 'but not acknowledged before its sync completed')
  const second = ['d', 'e'].map(put) // written while the first sync runs: they wait for it, as the next group
  await settle()
  assert.equal(gate.calls.length, 1)
  assert.deepEqual(node.kvList(id).map(r => r.key), ['a', 'b', 'c'], 'the next group waits while a sync runs')
  assert.equal(node.writeStats().commits, 1)
  gate.calls[0]?.open()
  await Promise.all(first)
  await settle()
  assert.deepEqual(acknowledged, ['a', 'b', 'c'], 'the first sync covers only the writes committed before it started')
  assert.deepEqual(node.kvList(id).map(r => r.key), ['a', 'b', 'c', 'd', 'e'], 'then committed')
  assert.equal(node.writeStats().commits, 2, 'as one group')
  assert.equal(gate.calls.length, 2)
  gate.calls[1]?.open()
  await Promise.all(second)
  assert.deepEqual(acknowledged, ['a', 'b', 'c', 'd', 'e'])
  assert.equal(node.writeStats().written, 5)
})

test('a failed fsync of the WAL fails its writes (STORAGE_FAILED), and the node takes no write after it', async t => {
  const gate = new GatedFsync()
  const node = openNode(t, gate.fsync)
  const { id } = node.createSpace('failing')
  const writes = ['a', 'b'].map(async key => { await node.kvPutGrouped(id, key, key) })
  await settle()
  gate.calls[0]?.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
  const settled = await Promise.allSettled(writes)
  for (const s of settled) {
    assert.equal(s.status, 'rejected')
    const err = (s as PromiseRejectedResult).reason as unknown
    assert.ok(err instanceof NodeError)
    assert.equal(err.code, 'STORAGE_FAILED')
    assert.match(err.message, /may or may not be kept/)
  }
  assert.equal(node.writeStats().written, 0)
  await assert.rejects(node.kvPutGrouped(id, 'c', 'c'), (err: unknown) => err instanceof NodeError && err.code === 'STORAGE_FAILED')
  assert.throws(() => { node.kvPut(id, 'd', 'd') }, (err: unknown) => err instanceof NodeError && err.code === 'STORAGE_FAILED')
  assert.equal(gate.calls.length, 1, 'never synced again')
})
