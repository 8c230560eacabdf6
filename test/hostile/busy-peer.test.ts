import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { byteStream, lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection } from '@libp2p/interface'
import { decodeMessage, MESSAGE_BYTES_MAX } from '../../src/codec/index.ts'
import { SYNC_PROTOCOL } from '../../src/net/index.ts'
import { noiseCrypto } from '../../src/net/noise-crypto.ts'
import { PING_TIMEOUT_MIN_MS } from '../../src/net/constants.ts'
import { ok, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import type { Daemon } from '../e2e/harness.ts'

/**
 * A peer whose event loop is busy for seconds (a huge message to handle, a
 * loaded machine) answers the daemon's link pings late: the daemon keeps the
 * link. libp2p's connection monitor pings every 10 s and used to cut a link
 * whose answer took over 5 s, so one busy spell cut honest links (seen with
 * a member's hello of 40,000 feeds at load 10). The busy peer here is this
 * test's own process, blocked for longer than any ping interval plus the old
 * timeout and shorter than the new one: a ping of the daemon is in flight
 * during it whatever the timing.
 */
describe('a peer busy for seconds', { timeout: 180_000 }, () => {
  const root = tempRoot()
  let daemon: Daemon
  let node: Libp2p

  // The daemon's first hello to this node, on the sync stream the daemon opens.
  let hello: Promise<string>

  before(async () => {
    // Its own monitor off: this side's pings would time out during its own busy spell.
    node = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()], connectionEncrypters: [noise({ crypto: noiseCrypto })], streamMuxers: [yamux()],
      connectionMonitor: { enabled: false }
    })
    hello = new Promise(resolve => {
      void node.handle(SYNC_PROTOCOL, async stream => {
        const lp = lpStream(stream, { maxDataLength: MESSAGE_BYTES_MAX })
        resolve(decodeMessage((await lp.read()).subarray()).m)
      })
    })
    // Dialled by the daemon (--peer): a stranger's link it did not dial is closed after a grace (connection-guard.ts),
    // and this node is no member; a link the daemon chose is its own, as a member's is.
    const addr = node.getMultiaddrs()[0]?.toString() as string
    daemon = await startDaemon(path.join(root, 'd'), ['--peer', addr])
    ok(path.join(root, 'd'), 'space', 'create', 'team')
  })
  after(async () => {
    await node?.stop()
    await stop(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('keeps its link to the daemon through a busy spell of 20 s', async () => {
    assert.equal(await hello, 'hello')
    const conn = node.getConnections(peerIdFromString(daemon.peerId))[0] as Connection
    assert.equal(conn.direction, 'inbound', 'the daemon dialled this node')
    const busyMs = 20_000 // > the monitor's 10 s interval + the 5 s it allowed; < the time it allows now
    assert.ok(busyMs + 5_000 < PING_TIMEOUT_MIN_MS)
    const until = Date.now() + busyMs
    while (Date.now() < until) { /* busy: nothing this process received is read */ }
    // A ping round trip on this very connection (never a new one): it fails if the daemon cut the link meanwhile.
    const signal = AbortSignal.timeout(60_000)
    const bytes = byteStream(await conn.newStream('/ipfs/ping/1.0.0', { signal }))
    const probe = crypto.getRandomValues(new Uint8Array(32))
    await bytes.write(probe, { signal })
    assert.deepEqual(Buffer.from((await bytes.read({ bytes: 32, signal })).subarray()), Buffer.from(probe))
    assert.equal(conn.status, 'open')
    assert.equal(node.getConnections(conn.remotePeer).length, 1)
  })
})
