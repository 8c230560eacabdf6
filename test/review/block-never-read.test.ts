/**
 * Review (served chunks read into reused buffers, 0b923e7): a peer that asks for chunks and never reads the answers.
 * serveBlocks waits for `stream.onDrain()` when the stream takes no more, but libp2p (@libp2p/utils
 * AbstractMessageStream) keeps the promise of a stream's first 'drain' resolved for good, and a drain of the connection
 * reaches every stream: after the first one the server never waits again. Every chunk asked is read from disk and
 * queued in the stream's write buffer (no limit: yamux's maxWriteBufferLength is Infinity), so one member holds the
 * server's memory at will (2 GB for 8,000 requests of 256 KiB measured). Expected: the server reads no more chunks
 * than it can hand on, about one answer queued per stream.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { takeServedBuffer } from '../../src/blocks/index.ts'
import type { BlockServed } from '../../src/net/blocks.ts'
import { BlockLinks } from '../../src/net/block-links.ts'
import type { SessionTable } from '../../src/net/sessions.ts'
import { bareNode, connect } from '../net/tls-nodes.ts'

const PROTOCOL = '/samepage-test/blocks/1.0.0'
const SIZE = 256 * 1024
const REQUESTS = 64

for (const encrypter of ['tls', 'noise'] as const) {
  test(`over ${encrypter}: a peer that never reads holds about one answer of the server's, not every one asked`,
    async t => {
      const [asker, server] = [await bareNode(encrypter), await bareNode(encrypter)]
      t.after(async () => { await Promise.all([asker.stop(), server.stop()]) })
      const links = new BlockLinks({ sessions: new Map() as unknown as SessionTable })
      let served: Stream | undefined
      let reads = 0
      let queuedMax = 0
      let allRead: () => void = () => {}
      const everyRequestRead = new Promise<void>(resolve => { allRead = resolve })
      const provider = async (_author: string, _space: string, hash: Uint8Array): Promise<BlockServed> => {
        queuedMax = Math.max(queuedMax, served?.writeBufferLength ?? 0)
        if (++reads === REQUESTS) allRead()
        return takeServedBuffer(SIZE).fill(hash[0] as number)
      }
      await server.handle(PROTOCOL, (stream, connection) => {
        served = stream
        links.serve(stream, 'asker', provider, connection)
      })
      const [outbound] = await connect(asker, server)
      const stream = await outbound.newStream(PROTOCOL)
      // No window updates: the server's stream can hand on one window of answers, then must wait.
      stream.pause()
      const frames: Buffer[] = []
      for (let i = 0; i < REQUESTS; i++) {
        const hash = crypto.createHash('sha256').update(String(i)).digest()
        frames.push(Buffer.concat([Buffer.from([1 + 32 + 2, 1]), hash, Buffer.from('sp')]))
      }
      stream.send(Buffer.concat(frames))
      // A server that waits reads a few ahead and stops; the timer only ends the look (it decides nothing).
      const look = setTimeout(allRead, 1500)
      await everyRequestRead
      clearTimeout(look)
      queuedMax = Math.max(queuedMax, served?.writeBufferLength ?? 0)
      assert.ok(queuedMax <= 2 * SIZE,
        `the server queued ${queuedMax} bytes (${reads} chunks read) for a peer that reads nothing`)
      stream.abort(new Error('done'))
    })
}
