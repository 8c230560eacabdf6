/**
 * Which relays may bring a node circuits, and how many addresses through a relay it lists as its own
 * (src/net/relay-views.ts), on real libp2p nodes over loopback TCP. Found by a review: on a STOP stream from any
 * peer it held no reservation at, @libp2p/circuit-relay-v2's transport reserved a slot there and listed every address
 * that peer named as its own, before reading the request or asking the gater. A stranger with one unwritten STOP
 * stream had a node announce 41 addresses of its choosing; with 120, identify of the node failed (8 KiB), and a
 * member behind a NAT never learnt the node relays.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { circuitRelayServer, RELAY_V2_STOP_CODEC } from '@libp2p/circuit-relay-v2'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { multiaddr } from '@multiformats/multiaddr'
import { startedNodes, untilHeld } from '../helpers/started-nodes.ts'

const MADE_UP = Array.from({ length: 40 }, (_, i) => `/ip4/127.0.9.${i + 1}/tcp/${20000 + i}`)

/** A stock libp2p relay (it grants anyone a slot) announcing 40 made-up addresses; stopped at the test's end. */
async function stockRelay (t: TestContext): Promise<Libp2p<{ relay: CircuitRelayService }>> {
  const relay = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: MADE_UP },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), relay: circuitRelayServer() }
  })
  t.after(async () => { await relay.stop() })
  return relay
}

for (const sender of ['a stranger', 'a member the node did not choose as its relay'] as const) {
  test(`a STOP stream from ${sender} is reset: no slot there, no address through it`, async t => {
    const [x] = await startedNodes(t, ['x'])
    const space = x!.createSpace('s').id
    const s = await stockRelay(t)
    if (sender !== 'a stranger') x!.grant(space, s.peerId.toString(), 'writer')
    const xAddr = x!.id().addrs.find(a => a.startsWith('/ip4/127.0.0.1/')) as string
    const stream = await s.dialProtocol(multiaddr(xAddr), RELAY_V2_STOP_CODEC, { signal: AbortSignal.timeout(30_000) })
    // Before, the library reserved a slot at the sender first, then waited for a request that never came.
    await untilHeld(() => stream.status !== 'open', 'the STOP stream ends')
    assert.equal(stream.status, 'reset')
    assert.equal(s.services.relay.reservations.size, 0, 'no slot reserved at the sender')
    assert.deepEqual(x!.id().addrs.filter(a => a.includes('/p2p-circuit')), [])
  })
}

test('a member behind a NAT lists 4 of the 70 addresses its relay names, not all', async t => {
  // R listens on 70 addresses, all in its reservations; A listens on 127.0.0.2 but dials from 127.0.0.1, where R's
  // dial-back finds no one: A is not reachable and reserves a slot at R (as in test/e2e/relay.test.ts).
  const listen = Array.from({ length: 70 }, (_, i) => `/ip4/127.0.1.${i + 1}/tcp/0`)
  const [r, a] = await startedNodes(t, ['r', 'a'],
    name => ({ listen: name === 'r' ? listen : ['/ip4/127.0.0.2/tcp/0'], meshLinks: false }))
  const space = r!.createSpace('s').id
  await a!.join(r!.invite(space, 'writer', 1, 3_600_000).token)
  const viaR = (): string[] => a!.id().addrs.filter(x => x.includes(`/p2p/${r!.peerId}/p2p-circuit`))
  await untilHeld(() => viaR().length > 0, 'A lists an address through R')
  assert.deepEqual(a!.reachability().relays, [r!.peerId])
  assert.equal(viaR().length, 4, `${viaR().length} addresses through R`)
})
