import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeMessage, MESSAGE_BYTES_MAX } from '../../src/codec/index.ts'
import { keyPairFromSeed } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { SYNC_PROTOCOL } from '../../src/net/index.ts'
import { SIMULTANEOUS_DIAL_MS } from '../../src/net/duplicate-session.ts'
import { noiseCrypto } from '../../src/net/noise-crypto.ts'
import { ok, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import type { Daemon } from '../e2e/harness.ts'

/**
 * Two processes with one key (a copy of a data directory running beside its
 * original) reach one daemon: it holds one session per peer id, and the one
 * that comes second, well after the first, is not locked out while the first
 * lives (restore.test.ts's "two copies": a member that took a session from
 * the copy refused the original's link for good, and the original read
 * nothing more). The processes here are plain libp2p nodes of this test that
 * open the sync stream, as the copies' daemons would.
 */
describe('a second process with the same key', { timeout: 300_000 }, () => {
  const root = tempRoot()
  let daemon: Daemon
  const open: Libp2p[] = []
  const seed = new Uint8Array(32).fill(0x2b)
  const key: KeyPair = keyPairFromSeed(seed)

  /** A libp2p node with `key` that dials the daemon and opens the sync stream; resolves with the first frame read. */
  const link = async (): Promise<{ node: Libp2p, first: Promise<Uint8Array>, openedAt: Promise<number> }> => {
    const raw = new Uint8Array(64)
    raw.set(key.seed, 0)
    raw.set(key.publicKey, 32)
    const node = await createLibp2p({
      privateKey: privateKeyFromRaw(raw),
      transports: [tcp()], connectionEncrypters: [noise({ crypto: noiseCrypto })],
      streamMuxers: [yamux()]
    })
    open.push(node)
    const conn = await node.dial(multiaddr(daemon.addrs[0] as string))
    const lp = lpStream(await conn.newStream(SYNC_PROTOCOL), { maxDataLength: MESSAGE_BYTES_MAX })
    const first = lp.read({ signal: AbortSignal.timeout(120_000) }).then(f => f.subarray())
    // The daemon sends its hello once it adopted the session: by then the link has opened at its end.
    const openedAt = first.then(() => Date.now())
    openedAt.catch(() => {}) // a refused link fails `first`, which the test awaits
    return { node, first, openedAt }
  }

  before(async () => {
    daemon = await startDaemon(path.join(root, 'd'))
    ok(path.join(root, 'd'), 'space', 'create', 'team') // a node with a space says hello to every session (tags only)
  })
  after(async () => {
    for (const n of open) await n.stop()
    await stop(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('a link that comes later than a simultaneous dial replaces the one held: the second process gets the session', async () => {
    const one = await link()
    assert.equal(decodeMessage(await one.first).m, 'hello', 'the first process has a session')
    // Past the window of a simultaneous dial, as the daemon counts it from the first link's opening.
    const wait = await one.openedAt + SIMULTANEOUS_DIAL_MS + 500 - Date.now()
    if (wait > 0) await sleep(wait)
    const two = await link()
    assert.equal(decodeMessage(await two.first).m, 'hello', 'the second process has a session too (it was refused before)')
    const peers = ok(path.join(root, 'd'), 'peers') as { peerId: string }[]
    assert.equal(peers.filter(p => p.peerId === one.node.peerId.toString()).length, 1, 'one session for the peer id')
  })
})
