import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { lpStream, streamPair } from '@libp2p/utils'
import { serveBlocks } from '../../src/net/blocks.ts'
import type { BlockCounters, BlockServed } from '../../src/net/blocks.ts'
import { BlockLink } from '../../src/net/block-link.ts'
import { NoSourceError } from '../../src/blocks/index.ts'
import { BlockFetch } from '../../src/net/index.ts'
import type { BlockAnswer } from '../../src/net/index.ts'
import { RateLimit } from '../../src/net/rate-limit.ts'
import type { FileChunk } from '../../src/codec/index.ts'

/**
 * A cancel reaches only the request it was meant for (review G, 2). Block links are per peer, shared by every
 * space's pass: spaces A and B asked the same peer for the same chunk on one stream, A took its request back after
 * its answer had gone, and the server's cancel, naming only the hash, took back B's instead. B's fetch ignored the
 * "cancelled" it never asked for, kept the request in flight, and after its stall deadline dropped the honest peer and
 * closed the shared link. Now a cancel names the space too (a cancel of an earlier version, the hash alone, still
 * works as before), a link sends a cancel only for a request of that space it has not read the answer of, and a fetch
 * takes a "cancelled" it did not ask for as a refusal (the chunk is asked of another peer, or in the next pass).
 */
function counters (): BlockCounters {
  return { bytesIn: 0, bytesOut: 0, blocksIn: 0, blocksOut: 0, cancelled: 0, changed: 0 }
}

function frame (op: number, hash: Uint8Array, space: string): Uint8Array {
  return Buffer.concat([Uint8Array.from([op]), hash, Buffer.from(space, 'utf8')])
}

const chunkOf = (bytes: Uint8Array): FileChunk =>
  [crypto.hash('sha256', bytes, 'buffer'), bytes.length] as unknown as FileChunk

describe('block cancels', () => {
  for (const [named, expected] of [['A', ['bytes', 'bytes']], ['', ['bytes', 'cancelled']]] as const) {
    test(`a cancel ${named === '' ? 'of an earlier version (the hash alone)' : 'naming space A'} after A's answer ` +
      `went: B's request of the same chunk is answered ${expected[1]}`, async () => {
      const [asking, answering] = await streamPair()
      const bytes = crypto.randomBytes(4096)
      const hash = crypto.hash('sha256', bytes, 'buffer')
      // B's read is held until the cancel is in: B's request is still queued when it comes.
      let readB: () => void = () => {}
      const heldB = new Promise<void>(resolve => { readB = resolve })
      const provider = async (_author: string, space: string): Promise<BlockServed> => {
        if (space === 'B') await heldB
        return Uint8Array.from(bytes)
      }
      const served = serveBlocks(answering, 'asker', provider, new RateLimit(undefined), counters())
      const asker = lpStream(asking)
      await asker.writeV([frame(1, hash, 'A'), frame(1, hash, 'B')])
      const answerA = await asker.read()
      assert.equal(answerA.get(0), 0, "A's chunk was sent")
      await asker.write(frame(2, hash, named))
      // The cancel is read before B's answer is chosen: the server reads frames as they come, in order.
      await new Promise(resolve => setImmediate(resolve))
      readB()
      const answerB = await asker.read()
      assert.deepEqual(['bytes', answerB.get(0) === 0 ? 'bytes' : answerB.get(0) === 3 ? 'cancelled' : 'other'],
        expected)
      asking.abort(new Error('done'))
      await served
    })
  }

  test("a link sends no cancel for a request whose answer it read, nor for another space's", async () => {
    const [asking, answering] = await streamPair()
    const link = new BlockLink(asking, new RateLimit(undefined), counters())
    const server = lpStream(answering)
    const hash = crypto.randomBytes(32)
    const asked = link.request('A', hash)
    assert.deepEqual(Buffer.from((await server.read()).subarray()), frame(1, hash, 'A'))
    await server.write(Uint8Array.from([1]))
    assert.equal(await asked, 'missing')
    link.cancel('A', hash)
    const pending = link.request('B', hash)
    link.cancel('A', hash)
    link.cancel('B', hash)
    assert.deepEqual(Buffer.from((await server.read()).subarray()), frame(1, hash, 'B'))
    assert.deepEqual(Buffer.from((await server.read()).subarray()), frame(2, hash, 'B'), "only B's own cancel goes out")
    await server.write(Uint8Array.from([3]))
    assert.equal(await pending, 'cancelled')
    link.close()
  })

  test('a "cancelled" the fetch never asked for counts as a refusal, not as silence: the peer is not taken as stalled',
    async () => {
      const bytes = crypto.randomBytes(4096)
      const chunk = chunkOf(bytes)
      let closedWith: Error | null = null
      const link = {
        closed: false,
        waiting: 0,
        request: async () => 'cancelled',
        cancel: () => {},
        close: (why: Error) => { closedWith = why }
      } as unknown as BlockLink
      // A stall deadline no test run reaches: the answer must settle the chunk, not a timer.
      const fetch = new BlockFetch({ space: 'B', peers: ['only'], link: async () => link, onCorrupt: () => {},
        stallMs: 600_000 })
      fetch.plan([chunk])
      // Refused by its only holder: the chunk fails this pass at once (its file waits for the next) and is asked again.
      await assert.rejects(fetch.get(chunk[0], chunk[1]), NoSourceError)
      assert.equal(closedWith, null)
      fetch.close()
    })
})
