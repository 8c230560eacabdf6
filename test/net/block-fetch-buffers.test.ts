import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { BlockFetch } from '../../src/net/index.ts'
import type { BlockLink } from '../../src/net/index.ts'
import type { FileChunk } from '../../src/codec/index.ts'
import { receivedBuffers, receivedCopy } from '../../src/net/received-buffers.ts'

/**
 * Received chunks lie in buffers used again (net/received-buffers.ts): BlockLink reads each answer into one, and
 * BlockFetch gives it back only once nothing holds it, neither its own store of arrived chunks nor any writer that
 * was handed it and has not said done. A buffer given back while a writer still wrote from it would put another
 * chunk's bytes in that writer's file.
 */
const SIZE = 64 * 1024
const chunkOf = (bytes: Uint8Array): FileChunk => [crypto.hash('sha256', bytes, 'buffer'), bytes.length] as unknown as FileChunk

/** A link that answers as BlockLink does: each answer read into a received buffer of its own. */
function linkServing (data: readonly Uint8Array[]): BlockLink {
  return {
    closed: false,
    waiting: 0,
    request: async (_space: string, hash: Uint8Array) => {
      const d = data.find(x => crypto.hash('sha256', x, 'buffer').equals(hash))
      return d === undefined ? 'missing' : receivedCopy([d], d.length)
    },
    cancel: () => {},
    close: () => {}
  } as unknown as BlockLink
}

/** Whether the pool would give out `buffer` now (a take of its size; what is taken is kept out of the pool). */
function givenOutNext (buffer: ArrayBufferLike): boolean {
  return receivedBuffers.take(SIZE).buffer === buffer
}

test('a received buffer is used again only once every writer handed the chunk said done (a second done counts for nothing)', async () => {
  receivedBuffers.dropFree()
  const data = crypto.randomBytes(SIZE)
  const chunk = chunkOf(data)
  const fetch = new BlockFetch({ space: 's', peers: ['p'], link: async () => linkServing([data]), onCorrupt: () => {}, stallMs: 60_000 })
  // The same chunk twice (two files, or twice in one): two writers take it.
  fetch.plan([chunk, chunk])
  const first = await fetch.getPieces(chunk[0], chunk[1])
  const second = await fetch.getPieces(chunk[0], chunk[1])
  const buffer = (first[0] as Uint8Array).buffer
  assert.equal((second[0] as Uint8Array).buffer, buffer, 'both writers were handed the one received buffer')
  fetch.done(first)
  fetch.done(first)
  assert.equal(givenOutNext(buffer), false, 'the second writer still holds it')
  assert.ok(Buffer.from(second[0] as Uint8Array).equals(data), 'its bytes are intact')
  fetch.done(second)
  assert.equal(givenOutNext(buffer), true, 'every holder said done: it is read into again')
  fetch.close()
})

test('a chunk arrived but not yet taken holds its buffer; a closed fetch lets go of what no writer took', async () => {
  receivedBuffers.dropFree()
  const data = [crypto.randomBytes(SIZE), crypto.randomBytes(SIZE)]
  const [a, b] = data.map(chunkOf) as [FileChunk, FileChunk]
  const fetch = new BlockFetch({ space: 's', peers: ['p'], link: async () => linkServing(data), onCorrupt: () => {}, stallMs: 60_000 })
  fetch.plan([a, b])
  // b arrives while the writer waits for a: kept for it, in its buffer.
  const gotA = await fetch.getPieces(a[0], a[1])
  await new Promise(resolve => setImmediate(resolve))
  fetch.done(gotA)
  assert.equal(givenOutNext((gotA[0] as Uint8Array).buffer), true, 'a: done and taken')
  const gotB = await fetch.getPieces(b[0], b[1])
  assert.ok(Buffer.from(gotB[0] as Uint8Array).equals(data[1] as Uint8Array))
  fetch.close()
  assert.equal(givenOutNext((gotB[0] as Uint8Array).buffer), false, 'closing does not take back what a writer holds')
  fetch.done(gotB)
  assert.equal(givenOutNext((gotB[0] as Uint8Array).buffer), true)
})

test('bytes that fail the hash are not kept: their buffer is used again at once, and the sender is blamed', async () => {
  receivedBuffers.dropFree()
  const data = crypto.randomBytes(SIZE)
  const chunk = chunkOf(data)
  let bad: ArrayBufferLike | null = null
  const liar = {
    closed: false,
    waiting: 0,
    request: async () => { const b = receivedCopy([crypto.randomBytes(SIZE)], SIZE); bad = b.buffer; return b },
    cancel: () => {},
    close: () => {}
  } as unknown as BlockLink
  const blamed: string[] = []
  const fetch = new BlockFetch({ space: 's', peers: ['liar'], link: async () => liar, onCorrupt: p => blamed.push(p), stallMs: 60_000 })
  await assert.rejects(fetch.get(chunk[0], chunk[1]))
  assert.deepEqual(blamed, ['liar'])
  assert.notEqual(bad, null)
  assert.equal(givenOutNext(bad as unknown as ArrayBufferLike), true)
  fetch.close()
})
