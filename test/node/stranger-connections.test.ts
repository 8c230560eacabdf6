/**
 * One stranger identity (no member of anything) dials a node again and again with libp2p's `force` option and keeps
 * every connection idle (no sync stream, nothing sent). Found by a review: nothing closed a stranger's idle link and
 * nothing bounded links per peer or per host, so libp2p's maxConnections (300) filled and every inbound connection
 * was refused: a joiner with a valid token got "the inviter did not answer". Now the node keeps at most
 * PEER_CONNECTIONS_MAX of one peer's links, closes a stranger's after its grace, and the joiner joins
 * (src/net/connection-guard.ts; its bounds one by one: test/net/connection-guard.test.ts). The stranger dials from
 * 10 loopback source addresses only to be quick: libp2p takes 5 inbound connections a second from one host.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { PEER_CONNECTIONS_MAX } from '../../src/net/connection-guard.ts'
import { startedNodes, untilHeld } from '../helpers/started-nodes.ts'

const SOURCES = 10
/** Rounds of one dial from each source: 350 dials, past libp2p's 300 connections. */
const ROUNDS = 35

test('one stranger identity\'s idle connections cannot lock a joiner out', { timeout: 300_000 }, async t => {
  const [a, b] = await startedNodes(t, ['a', 'b'])
  a!.createSpace('team')
  const token = a!.invite('team', 'writer', 1, 3_600_000).token
  const target = multiaddr(a!.id().addrs[0] as string)

  const key = await generateKeyPair('Ed25519')
  const strangers: Libp2p[] = []
  t.after(async () => { for (const s of strangers) await s.stop() })
  for (let i = 0; i < SOURCES; i++) {
    strangers.push(await createLibp2p({
      privateKey: key, // the same stranger identity on every source address
      addresses: { listen: [] },
      transports: [tcp({ dialOpts: { localAddress: `127.0.0.${2 + i}` } as object })],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
      services: {}
    }))
  }
  const open = (): number => strangers.reduce((n, s) => n + s.getConnections().filter(c => c.status === 'open').length, 0)

  for (let round = 0; round < ROUNDS; round++) {
    await Promise.allSettled(strangers.map(async s =>
      await s.dial(target, { force: true, signal: AbortSignal.timeout(10_000) })))
    // Paced under libp2p's 5 inbound connections a second from one host, which would refuse the dials themselves.
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  await untilHeld(() => open() <= PEER_CONNECTIONS_MAX, `the node keeps at most ${PEER_CONNECTIONS_MAX} of its links`)

  const joined = await b!.join(token, 60_000).then(() => 'joined', (err: Error) => `refused: ${err.message}`)
  assert.equal(joined, 'joined', 'a joiner with a valid token is not locked out by one stranger\'s idle connections')
  // The stranger presented no join: its last links go once their grace is over.
  await untilHeld(() => open() === 0, 'a stranger\'s idle links are closed after their grace')
})
