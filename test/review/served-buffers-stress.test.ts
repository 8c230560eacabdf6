/**
 * Review (served chunks read into reused buffers, 0b923e7): try to make a buffer read into again while some layer
 * still holds bytes of an answer sent from it. One server, two askers over real TLS connections (TLS on the socket
 * handle), at once: several block streams per connection, answers of sizes across the pool's capacities, one asker
 * reading slowly (--max-down: its streams pause, and their Yamux windows hold the server's sends back), cancels, a
 * stream aborted mid-answer, and other protocols' traffic both ways on the same connections. Every buffer is
 * filled with its chunk's bytes as it is taken (the pool's next reader overwrites it at once): an answer whose
 * buffer came back early arrives with bytes that do not hash to what was asked. Found sound: every answer arrives as
 * served, while buffers are reused.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import type { Connection } from '@libp2p/interface'
import { takeServedBuffer } from '../../src/blocks/index.ts'
import { BlockLink } from '../../src/net/block-link.ts'
import type { BlockCounters, BlockServed } from '../../src/net/blocks.ts'
import { BlockLinks } from '../../src/net/block-links.ts'
import { RateLimit } from '../../src/net/rate-limit.ts'
import type { SessionTable } from '../../src/net/sessions.ts'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { connectionEncrypters } from '../../src/net/index.ts'
import { connect, sendToSink, serveSink } from '../net/tls-nodes.ts'

const PROTOCOL = '/samepage-test/blocks/1.0.0'
const PIPELINE = 24

/**
 * tls-nodes.ts's bare node, with dial timeouts past the test's length and no connection monitor (no timer of libp2p's
 * fires mid-test): the monitor's ping, answered within ~5 s or the connection is closed, was seen closing a loaded
 * test's connections (three nodes, their streams and the check of every chunk on one event loop).
 */
async function bareNode (): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: connectionEncrypters(['tls']),
    streamMuxers: [yamux()],
    connectionManager: { dialTimeout: 600_000, addressDialTimeout: 600_000 },
    connectionMonitor: { enabled: false }
  })
}

function counters (): BlockCounters {
  return { bytesIn: 0, bytesOut: 0, blocksIn: 0, blocksOut: 0, cancelled: 0, changed: 0 }
}

/** Chunk `hash`'s bytes: a size from 1 KiB to ~300 KiB and pseudo-random contents, both from the hash. */
function chunkOf (hash: Uint8Array, into?: Uint8Array): Uint8Array {
  const size = 1024 + (((hash[0] as number) << 8 | (hash[1] as number)) * 5) % (300 * 1024)
  const out = into ?? new Uint8Array(size)
  let block = crypto.createHash('sha512').update(hash).digest()
  for (let at = 0; at < size; at += block.length) {
    out.set(block.subarray(0, Math.min(block.length, size - at)), at)
    block = crypto.createHash('sha512').update(block).digest()
  }
  return out
}

function sizeOf (hash: Uint8Array): number {
  return 1024 + (((hash[0] as number) << 8 | (hash[1] as number)) * 5) % (300 * 1024)
}

function sha (pieces: readonly Uint8Array[]): string {
  const h = crypto.createHash('sha256')
  for (const p of pieces) h.update(p)
  return h.digest('hex')
}

interface Run { readonly answered: number, readonly cancelled: number }

/** Asks `count` chunks on one new block stream of `connection`; checks each answer's bytes. */
async function ask (connection: Connection, tag: string, count: number,
  opts: { down?: number, cancelEvery?: number, abortAfter?: number } = {}): Promise<Run> {
  // A signal of our own: libp2p's default one for the protocol negotiation (10 s) was seen aborting the stream later.
  const stream = await connection.newStream(PROTOCOL, { signal: new AbortController().signal })
  const link = new BlockLink(stream, new RateLimit(opts.down), counters())
  let answered = 0
  let cancelled = 0
  const pending: Promise<void>[] = []
  for (let i = 0; i < count; i++) {
    const hash = crypto.createHash('sha256').update(`${tag}:${i}`).digest()
    const expected = sha([chunkOf(hash)])
    const asked = link.request('sp', hash).then(answer => {
      if (answer === 'cancelled') { cancelled++; return }
      assert.ok(Array.isArray(answer) || answer instanceof Uint8Array, `${tag} ${i}: ${String(answer)}`)
      const pieces = answer instanceof Uint8Array ? [answer] : answer as Uint8Array[]
      assert.equal(sha(pieces), expected, `${tag} chunk ${i} arrived as it was served`)
      answered++
      if (opts.abortAfter !== undefined && answered === opts.abortAfter) link.close(new Error('aborted by the asker'))
    }, (err: Error) => {
      // Only the aborted link's requests may fail.
      assert.ok(opts.abortAfter !== undefined, `${tag} ${i}: ${err.message}`)
    })
    pending.push(asked)
    if (opts.cancelEvery !== undefined && i % opts.cancelEvery === 0) link.cancel('sp', hash)
    if (link.closed) break
    if (i >= PIPELINE) await pending[i - PIPELINE]
  }
  await Promise.all(pending)
  link.close()
  return { answered, cancelled }
}

test('over TLS, streams at once, a slow reader, cancels, an abort and other traffic: every chunk arrives as served',
  async t => {
    const server = await bareNode()
    const askers = [await bareNode(), await bareNode()]
    t.after(async () => { await Promise.all([server, ...askers].map(async n => { await n.stop() })) })
    const links = new BlockLinks({ sessions: new Map() as unknown as SessionTable })
    const buffers = new Set<ArrayBufferLike>()
    let served = 0
    const provider = async (_author: string, _space: string, hash: Uint8Array): Promise<BlockServed> => {
      // Overwritten as it is taken: a buffer still on its way to a peer would change under it.
      const bytes = takeServedBuffer(sizeOf(hash))
      buffers.add(bytes.buffer)
      served++
      // A turn of the event loop between reads, as a disk read gives, for the sends and drains in between.
      await new Promise(resolve => setImmediate(resolve))
      return chunkOf(hash, bytes)
    }
    await server.handle(PROTOCOL, (stream, connection) => { links.serve(stream, 'asker', provider, connection) },
      { maxInboundStreams: 16 })
    await Promise.all([server, ...askers].map(async n => { await serveSink(n) }))
    const pairs = await Promise.all(askers.map(async a => await connect(a, server)))
    const [[outA, inA], [outB, inB]] = pairs as [[Connection, Connection], [Connection, Connection]]
    const runs = await Promise.all([
      ask(outA, 'a1', 300),
      ask(outA, 'a2', 300, { cancelEvery: 7 }),
      ask(outA, 'a3', 200, { abortAfter: 40 }),
      ask(outB, 'b1', 200, { down: 8 * 1024 * 1024 }),
      ask(outB, 'b2', 200, { down: 8 * 1024 * 1024, cancelEvery: 5 }),
      // Other protocols' bytes on the same connections, both ways.
      sendToSink(outA, 24 * 1024 * 1024, 1).then(([sent, got]) => { assert.equal(got, sent) }),
      sendToSink(inA, 24 * 1024 * 1024, 2).then(([sent, got]) => { assert.equal(got, sent) }),
      sendToSink(inB, 8 * 1024 * 1024, 3).then(([sent, got]) => { assert.equal(got, sent) })
    ])
    const answered = runs.reduce<number>((n, r) => n + ((r as Run | undefined)?.answered ?? 0), 0)
    assert.ok(answered > 900, `${answered} answered`)
    assert.ok(buffers.size < served / 2, `${buffers.size} buffers for ${served} chunks read: reuse was exercised`)
  })
