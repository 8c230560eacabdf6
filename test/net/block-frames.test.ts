import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { streamPair } from '@libp2p/utils'
import { serveBlocks } from '../../src/net/blocks.ts'
import { BlockLink } from '../../src/net/block-link.ts'
import type { BlockCounters, BlockServed } from '../../src/net/blocks.ts'
import { RateLimit } from '../../src/net/rate-limit.ts'

/**
 * The block protocol's framing over a pair of connected streams: answers whose lengths take one to four varint
 * bytes arrive whole (the bytes less the status byte, in the pieces they came in), and a length that runs on past
 * four bytes ends the stream instead of being read on.
 */
function counters (): BlockCounters {
  return { bytesIn: 0, bytesOut: 0, blocksIn: 0, blocksOut: 0, cancelled: 0, changed: 0 }
}

function joined (answer: unknown): Uint8Array {
  assert.ok(Array.isArray(answer) || answer instanceof Uint8Array, `bytes expected, got ${String(answer)}`)
  return Buffer.concat(answer instanceof Uint8Array ? [answer] : answer as Uint8Array[])
}

describe('block frames', () => {
  test('answers of every length size arrive whole, in request order, with the other statuses between', async () => {
    const [asking, answering] = await streamPair()
    const chunks = new Map<string, Uint8Array>()
    for (const size of [1, 126, 127, 128, 16_383, 16_384, 300_000, 2_097_152]) {
      const bytes = crypto.randomBytes(size)
      chunks.set(crypto.createHash('sha256').update(bytes).digest('hex'), bytes)
    }
    const provider = async (_author: string, space: string, hash: Uint8Array): Promise<BlockServed> =>
      space !== 'sp' ? 'denied' : chunks.get(Buffer.from(hash).toString('hex')) ?? 'missing'
    const served = serveBlocks(answering, 'asker', provider, new RateLimit(undefined), counters())
    const link = new BlockLink(asking, new RateLimit(undefined), counters())
    const asked = [...chunks.keys()].map(hex => link.request('sp', Buffer.from(hex, 'hex')))
    const missing = link.request('sp', new Uint8Array(32))
    const denied = link.request('other', new Uint8Array(32))
    const answers = await Promise.all(asked)
    assert.deepEqual(answers.map(joined), [...chunks.values()].map(b => Buffer.from(b)))
    assert.equal(await missing, 'missing')
    assert.equal(await denied, 'denied')
    link.close()
    await served
  })

  test('a request whose length runs on past four bytes ends the serving stream', async () => {
    const [asking, answering] = await streamPair()
    let asked = 0
    const provider = async (): Promise<BlockServed> => { asked++; return 'missing' }
    const served = serveBlocks(answering, 'asker', provider, new RateLimit(undefined), counters())
    asking.send(new Uint8Array(64).fill(0x80))
    await served
    assert.equal(asked, 0)
  })

  test('an answer whose length runs on past four bytes fails the request', async () => {
    const [asking, answering] = await streamPair()
    const link = new BlockLink(asking, new RateLimit(undefined), counters())
    const answer = link.request('sp', new Uint8Array(32))
    answering.send(new Uint8Array(64).fill(0x80))
    await assert.rejects(answer, /frame length over 4 bytes/)
    assert.equal(link.closed, true)
  })
})
