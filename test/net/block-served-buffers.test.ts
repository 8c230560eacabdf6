import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import type { Libp2p } from 'libp2p'
import type { Stream } from '@libp2p/interface'
import { takeServedBuffer } from '../../src/blocks/index.ts'
import { BlockLink } from '../../src/net/block-link.ts'
import type { BlockCounters, BlockServed } from '../../src/net/blocks.ts'
import { BlockLinks } from '../../src/net/block-links.ts'
import { RateLimit } from '../../src/net/rate-limit.ts'
import type { SessionTable } from '../../src/net/sessions.ts'
import type { EncrypterName } from '../../src/net/index.ts'
import { bareNode, connect } from './tls-nodes.ts'

/**
 * Chunks served from reused buffers (blocks/served-buffers.ts) over real libp2p connections: a buffer is read into
 * again only once TLS took the bytes sent from it, so every answer arrives as it was served, while the buffers are
 * reused (over TLS) or never reused (Noise gives no proof). Each chunk is written into its buffer just before it is
 * served: a buffer given back too early would change bytes still on their way, and the asker's hash would differ.
 */
const PROTOCOL = '/samepage-test/blocks/1.0.0'
const CHUNKS = 400
const SIZE = 256 * 1024

function counters (): BlockCounters {
  return { bytesIn: 0, bytesOut: 0, blocksIn: 0, blocksOut: 0, cancelled: 0, changed: 0 }
}

function sha (pieces: readonly Uint8Array[]): string {
  const h = crypto.createHash('sha256')
  for (const p of pieces) h.update(p)
  return h.digest('hex')
}

async function serveOver (encrypter: EncrypterName): Promise<{ nodes: Libp2p[], buffersUsed: number }> {
  const [asker, server] = [await bareNode(encrypter), await bareNode(encrypter)]
  const nodes = [asker, server]
  const links = new BlockLinks({ sessions: new Map() as unknown as SessionTable })
  const buffers = new Set<ArrayBufferLike>()
  // Chunk i is i's seed repeated: its hash is known to the asker without keeping the bytes.
  const provider = async (_author: string, _space: string, hash: Uint8Array): Promise<BlockServed> => {
    const bytes = takeServedBuffer(SIZE)
    buffers.add(bytes.buffer)
    bytes.fill(hash[0] as number)
    bytes.set(hash, 0)
    return bytes
  }
  await server.handle(PROTOCOL, (stream, connection) => { links.serve(stream, 'asker', provider, connection) })
  const [outbound] = await connect(asker, server)
  const stream: Stream = await outbound.newStream(PROTOCOL)
  const link = new BlockLink(stream, new RateLimit(undefined), counters())
  const expected: string[] = []
  const asked: Promise<unknown>[] = []
  for (let i = 0; i < CHUNKS; i++) {
    const hash = crypto.createHash('sha256').update(String(i)).digest()
    const bytes = Buffer.alloc(SIZE, hash[0] as number)
    hash.copy(bytes, 0)
    expected.push(sha([bytes]))
    asked.push(link.request('sp', hash))
    // A pipeline of a few dozen, as a scheduler keeps it.
    if (i >= 32) await asked[i - 32]
  }
  const answers = await Promise.all(asked)
  answers.forEach((answer, i) => {
    assert.ok(Array.isArray(answer) || answer instanceof Uint8Array, `chunk ${i}: ${String(answer)}`)
    const pieces = answer instanceof Uint8Array ? [answer] : answer as Uint8Array[]
    assert.equal(sha(pieces), expected[i], `chunk ${i} arrived as it was served`)
  })
  link.close()
  return { nodes, buffersUsed: buffers.size }
}

describe('served buffers', () => {
  const started: Libp2p[] = []
  after(async () => { await Promise.all(started.map(async n => { await n.stop() })) })

  // First: no buffer comes back over Noise, so none is free yet from another test.
  test('over Noise: every chunk arrives as served, from a buffer of its own', async () => {
    const { nodes, buffersUsed } = await serveOver('noise')
    started.push(...nodes)
    assert.equal(buffersUsed, CHUNKS)
  })

  test('over TLS: every chunk arrives as served, and buffers are read into again', async () => {
    const { nodes, buffersUsed } = await serveOver('tls')
    started.push(...nodes)
    assert.ok(buffersUsed < CHUNKS / 2, `${buffersUsed} buffers for ${CHUNKS} chunks`)
  })
})
