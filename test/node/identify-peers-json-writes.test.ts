import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { privateKeyFromRaw, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { Connection, PublicKey } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Node } from '../../src/node/index.ts'
import { noiseCrypto } from '../../src/net/noise-crypto.ts'
import { startedNodes, untilHeld } from '../helpers/started-nodes.ts'

const RECONNECTS = 30

/** An Identify protobuf: the public key (field 1, libp2p's protobuf of it) and listenAddrs (field 2, bytes). */
function identifyWith (publicKey: Uint8Array, addrs: readonly string[]): Uint8Array {
  const parts: number[] = [0x0a, publicKey.length, ...publicKey]
  for (const a of addrs) {
    const b = multiaddr(a).bytes
    parts.push(0x12, b.length, ...b) // each address is far below 128 bytes: a one-byte length
  }
  return Uint8Array.from(parts)
}

/**
 * A member (a reader will do) that reconnects in a loop, answering each identify with a new listen address, had the
 * node rewrite peers.json (a new file, two fsyncs, on the main thread) once per connection (a review's probe: 30
 * reconnects in 10 s, 30 rewrites). The file follows the list at most once per spell (known-peers.ts), here made an
 * hour long so that the count cannot depend on the machine's speed, and at a clean stop.
 */
test('a member reconnecting with new addresses does not make the node rewrite peers.json each time', {
  timeout: 180_000
}, async t => {
  const nodes = await startedNodes(t, ['a', 'b'], name => name === 'a' ? { peersSaveEveryMs: 3_600_000 } : {})
  const [a, b] = nodes as [Node, Node]
  const stop = async (n: Node): Promise<void> => { nodes.splice(nodes.indexOf(n), 1); await n.stop() }
  a.createSpace('team')
  await b.join(a.invite('team', 'reader', 1, 3_600_000).token, 30_000)
  const peersFile = path.join(a.dir, 'peers.json')
  const text = (): string => fs.existsSync(peersFile) ? fs.readFileSync(peersFile, 'utf8') : ''
  await untilHeld(() => text().includes(b.peerId), 'a new member is written at once (the spell was quiet)')
  const bKey = b.keyPair
  await stop(b)

  // B's key in a bare libp2p node: each connection's identify (the node asks on every one) names a new address.
  const raw = new Uint8Array(64)
  raw.set(bKey.seed, 0)
  raw.set(bKey.publicKey, 32)
  const member = await createLibp2p({
    privateKey: privateKeyFromRaw(raw),
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    services: {}
  })
  t.after(async () => { await member.stop() })
  const named = (i: number): string => `/ip4/127.0.0.1/tcp/${20_000 + i}`
  let current = -1
  let asked = 0
  await member.handle('/ipfs/id/1.0.0', async stream => {
    const publicKey = publicKeyToProtobuf(member.peerId.publicKey as PublicKey)
    await lpStream(stream).write(identifyWith(publicKey, [named(current)]))
    await stream.close()
    asked++
  })

  const realRename = fs.renameSync
  let rewrites = 0
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    if (String(to) === peersFile) rewrites++
    realRename(from, to)
  }) as typeof fs.renameSync
  t.after(() => { fs.renameSync = realRename })

  const target = multiaddr(a.id().addrs[0] as string)
  // The node admits a few inbound connections a second per host (libp2p's rate limit): one refused is dialled again.
  const dialAdmitted = async (): Promise<Connection> => {
    for (;;) {
      try {
        return await member.dial(target, { force: true })
      } catch {
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    }
  }
  for (current = 0; current < RECONNECTS; current++) {
    const conn = await dialAdmitted()
    await untilHeld(() => asked > current, `identify ${current} asked`)
    await conn.close()
  }
  assert.equal(rewrites, 0, `${RECONNECTS} identifies naming new addresses, all within one spell`)

  await stop(a)
  assert.equal(rewrites, 1, 'a clean stop writes what changed in one go')
  const kept = (JSON.parse(text()) as Record<string, string[]>)[b.peerId] ?? []
  const namedNow = Array.from({ length: RECONNECTS }, (_, i) => `${named(i)}/p2p/${b.peerId}`)
  assert.ok(kept.length === 1 && namedNow.includes(kept[0] as string), `an address the member named: ${kept.join(' ')}`)
})
