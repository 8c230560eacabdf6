import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { Node } from '../../src/node/index.ts'
import { keyPairFromSeed, peerIdOf } from '../../src/identity/index.ts'
import { noiseCrypto } from '../../src/net/noise-crypto.ts'

/**
 * What a member's identify says it listens at passes the rule a member's status record does (net/peer-exchange.ts)
 * before the node remembers it in peers.json, which it dials at every start. Remembered raw, a reader had the node
 * dial the unspecified address, a DNS name and a relay that is a stranger, at every start (a review's probe).
 */
test('a member\'s identify addresses are remembered only as the peer-exchange rule takes them', { timeout: 120_000 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-identify-'))
  const m = keyPairFromSeed(new Uint8Array(32).fill(7))
  const stranger = keyPairFromSeed(new Uint8Array(32).fill(9))
  const good = '/ip4/127.0.0.1/tcp/40001'
  const claimed = [
    '/ip4/0.0.0.0/tcp/40002',
    `/ip4/127.0.0.1/tcp/40003/p2p/${peerIdOf(stranger.publicKey)}/p2p-circuit`,
    '/dns4/localhost/tcp/40004',
    good
  ]
  const dir = path.join(root, 'h')
  const h = Node.open({ dir, listen: ['/ip4/127.0.0.1/tcp/0'] })
  await h.start()
  const raw = new Uint8Array(64)
  raw.set(m.seed, 0)
  raw.set(m.publicKey, 32)
  const member = await createLibp2p({
    privateKey: privateKeyFromRaw(raw),
    addresses: { listen: [], announce: claimed },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  try {
    const space = h.createSpace('s')
    h.grant(space.id, peerIdOf(m.publicKey), 'reader')
    await member.dial(multiaddr(h.id().addrs[0] as string))
    // The one address the rule takes (loopback: this node listens on loopback alone) gets the file written.
    const file = path.join(dir, 'peers.json')
    while (!fs.existsSync(file)) await new Promise(resolve => setTimeout(resolve, 50))
    const written = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string[]>
    assert.deepEqual(written[peerIdOf(m.publicKey)], [`${good}/p2p/${peerIdOf(m.publicKey)}`])
  } finally {
    await member.stop()
    await h.stop()
    fs.rmSync(root, { recursive: true, force: true })
  }
})
