/**
 * What the fast readers (src/codec/message-fast.ts, entry-fast.ts) return
 * must not hold more memory than the general path's result would.
 *
 * 1. The engine gets each sync frame as a Buffer that is a view of the
 *    connection's read chunk (lpStream's single-chunk frames; a TLS read is
 *    ~12-16 kB, several frames). `Buffer#slice` is a view, not a copy, so the
 *    `entries` message read from a Buffer gave byte strings that held the
 *    whole chunk (and were Buffers, where the general path gives plain
 *    Uint8Arrays of their own).
 * 2. A committed kv row's order stays in the space's KvOrderCache (10,000
 *    keys) long after its entry is gone; its `author` was the fast reader's
 *    view of the entry's bytes, so each cached key held its whole entry (up to
 *    64 kB: 10,000 keys could hold ~640 MB where 32 bytes each are needed).
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { lpStream } from '@libp2p/utils'
import type { Libp2p } from 'libp2p'
import { decodeEntry, decodeMessage, encodeMessage, AUTHOR_SIZE } from '../../src/codec/index.ts'
import type { SignedBytes } from '../../src/codec/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { applyDataEntry, encodeKvRow, KvOrderCache, ViewOverlay } from '../../src/space/views.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { bareNode, connect } from '../net/tls-nodes.ts'

const OWNER = seededKey('review-fast-views', 'owner')

/** A space whose owner wrote `count` kv.put entries with values of `valueBytes`; its id and those entries. */
function kvRun (count: number, valueBytes: number): { space: Uint8Array, run: SignedBytes[] } {
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, 'fast views', T0)
  for (let i = 0; i < count; i++) {
    origin.append(OWNER, { t: 'kv.put', key: `k${i}`, value: 'v'.repeat(valueBytes) }, T0 + 1 + i)
  }
  const row = origin.vector().find(r => Buffer.from(r.author).equals(Buffer.from(OWNER.publicKey)))
  assert.ok(row !== undefined)
  const run = origin.serve(authorKeyOf(row.author), row.epoch, row.count - count, row.count)
  assert.equal(run.length, count)
  return { space: origin.id, run }
}

test('an entries message read from a Buffer frame gives byte strings of their own, as the general path does', () => {
  const { space, run } = kvRun(3, 100)
  const message = encodeMessage({ m: 'entries', space, run })
  // As the engine gets it: a Buffer that is a view into a larger read chunk.
  const chunk = Buffer.alloc(16 * 1024)
  chunk.set(message, 512)
  const frame = chunk.subarray(512, 512 + message.length)
  const decoded = decodeMessage(frame)
  assert.equal(decoded.m, 'entries')
  if (decoded.m !== 'entries') return
  const strings = [decoded.space, ...decoded.run.flat()]
  for (const [i, bytes] of strings.entries()) {
    assert.equal(bytes.buffer.byteLength, bytes.byteLength,
      `byte string ${i} (${bytes.byteLength} bytes) holds a buffer of ${bytes.buffer.byteLength}`)
    assert.equal(Buffer.isBuffer(bytes), false, `byte string ${i} is a Buffer; the general path gives a Uint8Array`)
  }
  assert.deepEqual(decoded.run.map(([b, s]) => [Buffer.from(b), Buffer.from(s)]),
    run.map(([b, s]) => [Buffer.from(b), Buffer.from(s)]))
})

test('a kv order kept in the kv order cache does not hold its entry\'s bytes', () => {
  const { run } = kvRun(4, 60_000)
  const cache = new KvOrderCache()
  // Keys that had a row before the batch (the cache keeps no others): an empty value at the oldest order.
  const empty = encodeKvRow({ ...decodeEntry(run[0]![0], run[0]![1]), clock: { wallMs: 0, counter: 0 } }, false, '')
  const overlay = new ViewOverlay({ get: view => view === 'kv' ? empty : undefined }, cache)
  for (const [bytes, sig] of run) applyDataEntry(overlay, decodeEntry(bytes, sig))
  cache.remember(overlay)
  let held = 0
  for (let i = 0; i < run.length; i++) {
    const order = cache.get(`k${i}`)
    assert.ok(order != null)
    held += order.author.buffer.byteLength + order.id.buffer.byteLength
  }
  // An author and an id per key: 64 bytes each (a little slack for a pooled copy), not 60 kB.
  assert.ok(held <= run.length * (AUTHOR_SIZE + 32) * 4,
    `the cached orders of ${run.length} keys hold ${held} bytes of buffers (their entries are ${run[0]![0].length} each)`)
})

const nodes: Libp2p[] = []
after(async () => { for (const n of nodes) await n.stop() })

test('entries messages read from the frames a real TLS connection delivers hold only their own bytes', async () => {
  const { space, run } = kvRun(2, 100)
  const message = encodeMessage({ m: 'entries', space, run })
  const [a, b] = [await bareNode('tls'), await bareNode('tls')]
  nodes.push(a, b)
  const FRAMES = 4
  const frames = new Promise<Uint8Array[]>(resolve => {
    void b.handle('/samepage-review/frames/1.0.0', async stream => {
      const lp = lpStream(stream)
      const got: Uint8Array[] = []
      // As src/net/sync-session.ts reads them.
      for (let i = 0; i < FRAMES; i++) got.push((await lp.read()).subarray())
      resolve(got)
    })
  })
  const [out] = await connect(a, b)
  const lp = lpStream(await out.newStream('/samepage-review/frames/1.0.0'))
  for (let i = 0; i < FRAMES; i++) await lp.write(message)
  for (const frame of await frames) {
    const decoded = decodeMessage(frame)
    assert.equal(decoded.m, 'entries')
    if (decoded.m !== 'entries') continue
    for (const bytes of [decoded.space, ...decoded.run.flat()]) {
      assert.equal(bytes.buffer.byteLength, bytes.byteLength,
        `a byte string of ${bytes.byteLength} bytes holds a buffer of ${bytes.buffer.byteLength} (the frame is a ` +
        `${frame.constructor.name} of ${frame.byteLength} in a buffer of ${frame.buffer.byteLength})`)
    }
  }
})
