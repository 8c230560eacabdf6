import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { lpStream, streamPair } from '@libp2p/utils'
import { BlockLink } from '../../src/net/block-link.ts'
import type { BlockCounters } from '../../src/net/blocks.ts'
import { RateLimit } from '../../src/net/rate-limit.ts'
import { drained } from '../../src/net/drained.ts'
import { bareNode, connect, rawBytesRead, until } from './tls-nodes.ts'

/**
 * A block link keeps nothing a peer sends that no request asked for (review G, 1). A hostile member's server answered
 * the chunk it was asked for and went on writing well-formed answers nobody asked for: the link read only while
 * answers were awaited, the stream buffered the rest (96 MiB a link, past --max-down, nothing charged). Now a byte
 * with no request waiting ends the link at once and names the violation to its owner (BlockLinks charges the peer),
 * and an answer may be bigger than the size its request named only by one frame's margin (a record may give a real
 * chunk another size: those bytes are still delivered, and nobody is blamed).
 */
const MIB = 1024 * 1024

function counters (): BlockCounters {
  return { bytesIn: 0, bytesOut: 0, blocksIn: 0, blocksOut: 0, cancelled: 0, changed: 0 }
}

/** A "missing" answer, framed: length 1, status 1. */
const MISSING = Uint8Array.from([1, 1])

function chunkAnswer (bytes: Uint8Array): Uint8Array {
  return Buffer.concat([Uint8Array.from([0]), bytes])
}

describe('a block link and bytes nobody asked for', () => {
  test('an answer followed by one nobody asked for: the chunk arrives, then the link ends, naming the violation',
    async () => {
      const [asking, answering] = await streamPair()
      const violations: (string | null)[] = []
      const link = new BlockLink(asking, new RateLimit(undefined), counters(), v => { violations.push(v) })
      const server = lpStream(answering)
      const answer = link.request('sp', new Uint8Array(32), 1000)
      await server.read()
      const chunk = crypto.randomBytes(1000)
      // The answer and an unasked one in a single write: they arrive together.
      answering.send(Buffer.concat([Uint8Array.from([0xe9, 0x07]), chunkAnswer(chunk), MISSING]))
      assert.deepEqual(Buffer.concat(await answer as Uint8Array[]), chunk)
      await until(() => link.closed, 5_000, 'the link to end')
      assert.equal(violations.length, 1)
      assert.match(String(violations[0]), /no request waiting|beyond the answers asked for/)
    })

  test('bytes between answers, with nothing asked: the link ends at once and names the violation', async () => {
    const [asking, answering] = await streamPair()
    const violations: (string | null)[] = []
    const link = new BlockLink(asking, new RateLimit(undefined), counters(), v => { violations.push(v) })
    const server = lpStream(answering)
    const first = link.request('sp', new Uint8Array(32))
    await server.read()
    answering.send(MISSING)
    assert.equal(await first, 'missing')
    assert.equal(link.closed, false, 'an answer as asked ends nothing')
    answering.send(MISSING)
    await until(() => link.closed, 5_000, 'the link to end')
    assert.deepEqual(violations, ['sent 2 bytes on a block stream with no request waiting'])
    await assert.rejects(link.request('sp', new Uint8Array(32)), /no request waiting/)
  })

  test('an answer bigger than the size asked (a record that named a real chunk with another size) still arrives',
    async () => {
      const [asking, answering] = await streamPair()
      const violations: (string | null)[] = []
      const link = new BlockLink(asking, new RateLimit(undefined), counters(), v => { violations.push(v) })
      const server = lpStream(answering)
      const chunk = crypto.randomBytes(50_000)
      const answer = link.request('sp', new Uint8Array(32), 1)
      await server.read()
      await server.write(chunkAnswer(chunk))
      assert.deepEqual(Buffer.concat(await answer as Uint8Array[]), chunk)
      assert.equal(link.closed, false)
      assert.deepEqual(violations, [])
      link.close()
      assert.deepEqual(violations, [null], 'a close of our own names no violation')
    })

  test('an answer past the size asked by more than a frame ends the link before it is held, not charged', async () => {
    const [asking, answering] = await streamPair()
    const violations: (string | null)[] = []
    const link = new BlockLink(asking, new RateLimit(undefined), counters(), v => { violations.push(v) })
    const server = lpStream(answering)
    // Two requests of 1 KiB each; a frame that claims 16 MiB is allowed (one frame's margin) but what comes beyond
    // the asked sizes and that margin is not.
    const first = link.request('sp', new Uint8Array(32), 1024)
    const second = link.request('sp', new Uint8Array(32), 1024)
    second.catch(() => {})
    await server.read()
    const claimed = 16 * MIB + 1
    answering.send(Uint8Array.from([0x81, 0x80, 0x80, 0x08])) // the varint of 16 MiB + 1
    try {
      for (let sent = 0; !link.closed && sent < claimed + MIB; sent += MIB) {
        if (!answering.send(new Uint8Array(MIB))) await drained(answering)
        await new Promise(resolve => setImmediate(resolve))
      }
    } catch {} // the link ended, and the stream with it
    await until(() => link.closed, 5_000, 'the link to end')
    await assert.rejects(first, /more than the requests .* asked for/)
    assert.deepEqual(violations, [null])
  })
})

/**
 * The hostile server of the review's probe: answers the first request with a chunk, then pushes `extra` bytes of
 * "missing" answers nobody asked for, as fast as the stream takes them.
 */
function hostile (extra: number, pushed: { bytes: number }) {
  return async (stream: Stream): Promise<void> => {
    const lp = lpStream(stream)
    await lp.read()
    await lp.write(new Uint8Array(1 + 64 * 1024))
    lp.unwrap()
    const piece = new Uint8Array(MIB)
    for (let i = 0; i < piece.length; i += 2) { piece[i] = 1; piece[i + 1] = 1 }
    for (let sent = 0; sent < extra; sent += MIB) {
      try {
        if (!stream.send(piece.slice())) await drained(stream)
      } catch { break }
      pushed.bytes = sent + MIB
    }
  }
}

describe('over libp2p (TCP, Noise, Yamux)', () => {
  for (const down of [undefined, MIB]) {
    test(`unasked answers end the link after a message or so, not 96 MiB later (--max-down ${String(down)})`,
      async t => {
        const protocol = '/samepage-test/blocks-unsolicited/1.0.0'
        const [asker, server] = [await bareNode('noise'), await bareNode('noise')]
        t.after(async () => { await Promise.all([asker.stop(), server.stop()]) })
        const pushed = { bytes: 0 }
        await server.handle(protocol, stream => { void hostile(64 * MIB, pushed)(stream) })
        const [outbound] = await connect(asker, server)
        const wire = rawBytesRead(outbound)
        const violations: (string | null)[] = []
        const link = new BlockLink(await outbound.newStream(protocol), new RateLimit(down), counters(),
          v => { violations.push(v) }, true)
        const answer = await link.request('sp', crypto.randomBytes(32), 64 * 1024)
        assert.ok(answer instanceof Uint8Array && answer.length === 64 * 1024, 'the chunk asked for arrives')
        await until(() => link.closed, 10_000, 'the link to end')
        t.diagnostic(`the asker read ${wire()} bytes off the wire (${pushed.bytes} pushed by the peer)`)
        // The chunk, and what the peer had in flight when the link ended: a Yamux window or so, not what it pushed.
        assert.ok(wire() < 8 * MIB, `${wire()} bytes read off the wire`)
        assert.equal(violations.length, 1)
        assert.match(String(violations[0]), /with no request waiting/)
      })
  }
})
