import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { serveBlocks } from '../../src/net/blocks.ts'
import { BlockLink } from '../../src/net/block-link.ts'
import type { BlockCounters, BlockServed } from '../../src/net/blocks.ts'
import { RateLimit } from '../../src/net/rate-limit.ts'
import { bareNode, connect, rawBytesRead } from './tls-nodes.ts'

/**
 * --max-down on the wire, not only in what is handed on: a block link waiting to pay for an answer reads no more,
 * and Yamux, whose window updates then stop, holds the server to about one window (256 KiB) ahead. It used to read
 * every answer as it came (the stream's reader takes each message at once, and Yamux grants window for what it was
 * given), so the whole pipeline of requests crossed the network at full speed and waited here: 8 MiB asked, all of it
 * on the wire by the second answer, when a 1 MiB/s cap had paid for two chunks (512 KiB).
 *
 * Real libp2p nodes over TCP (Noise, so that the test can count the bytes JS reads off the socket). What is asserted
 * is an upper bound on bytes against what was paid for: a slower machine only moves fewer.
 */
const PROTOCOL = '/samepage-test/blocks-max-down/1.0.0'
const CHUNK = 256 * 1024
const ASKED = 32
const RATE = 1024 * 1024
/** Beyond what is paid for: one window (256 KiB) and the update in flight, with a margin: four windows and a chunk. */
const AHEAD_MAX = 4 * 256 * 1024 + CHUNK

function counters (): BlockCounters {
  return { bytesIn: 0, bytesOut: 0, blocksIn: 0, blocksOut: 0, cancelled: 0, changed: 0 }
}

test('under --max-down the server is held about a window ahead of what the asker paid for', async t => {
  const [asker, server] = [await bareNode('noise'), await bareNode('noise')]
  t.after(async () => { await Promise.all([asker.stop(), server.stop()]) })
  const provider = async (_author: string, _space: string, hash: Uint8Array): Promise<BlockServed> =>
    Buffer.alloc(CHUNK, hash[0] as number)
  await server.handle(PROTOCOL, stream => {
    void serveBlocks(stream, 'asker', provider, new RateLimit(undefined), counters())
  })
  const [outbound] = await connect(asker, server)
  const wire = rawBytesRead(outbound)
  const link = new BlockLink(await outbound.newStream(PROTOCOL), new RateLimit(RATE), counters(), () => {}, true)
  const answers = Array.from({ length: ASKED }, (_, i) =>
    link.request('sp', crypto.createHash('sha256').update(String(i)).digest()))
  for (const a of answers) a.catch(() => {})
  let aheadMost = 0
  for (const [i, a] of answers.slice(0, 4).entries()) {
    const bytes = await a
    assert.ok(bytes instanceof Uint8Array && bytes.length === CHUNK, `answer ${i} is a whole chunk`)
    const paid = (i + 1) * CHUNK
    aheadMost = Math.max(aheadMost, wire() - paid)
    assert.ok(wire() <= paid + AHEAD_MAX,
      `${wire()} bytes on the wire when ${paid} were paid for (at most ${paid + AHEAD_MAX} expected)`)
  }
  t.diagnostic(`the wire ran at most ${aheadMost} bytes ahead of what was paid for`)
  link.close()
})
