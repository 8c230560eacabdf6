/**
 * What a member relay does with hop streams that carry no circuit (src/net/relay-views.ts), on real libp2p nodes over
 * loopback TCP. Found by a review: after refusing a stranger (PERMISSION_DENIED) the library left the hop stream
 * open with its reader attached, so three stranger identities parked 163 MiB in a relay's memory on 24 streams, and
 * every byte they sent after the refusal was charged to the relay's cap, which members' circuits share.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Libp2p } from 'libp2p'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { RateLimit } from '../../src/net/index.ts'
import { HOP, STATUS, stranger } from '../e2e/relay-hop.ts'
import { startedNodes, untilHeld } from '../helpers/started-nodes.ts'

const MIB = 1024 * 1024
const RESERVE = Uint8Array.of(0x08, 0x00)
/** R's limits: the defaults but 1 MiB/s at most through it (its token bucket is told apart by its rate). */
const CAPPED = {
  serve: true, maxReservations: 32, circuitsPerPeer: 8, circuitMiB: 1024, circuitMinutes: 60, maxMiBps: 1
}

/** A CONNECT to `target` (HopMessage type 1, peer.id): refused NO_RESERVATION when the target holds no slot. */
function connectTo (target: string): Uint8Array {
  const id = peerIdFromString(target).toMultihash().bytes
  const peer = Uint8Array.of(0x0a, id.length, ...id)
  return Uint8Array.of(0x08, 0x01, 0x12, peer.length, ...peer)
}

/** Bytes charged to RateLimits of `bytesPerSecond` while the test runs (the relay's cap is the only one here). */
function chargedAt (t: { after: (fn: () => void) => void }, bytesPerSecond: number): () => number {
  let charged = 0
  const take = RateLimit.prototype.take
  RateLimit.prototype.take = async function (this: RateLimit, bytes: number) {
    if (this.bytesPerSecond === bytesPerSecond) charged += bytes
    return await take.call(this, bytes)
  }
  t.after(() => { RateLimit.prototype.take = take })
  return () => charged
}

/** Sends `bytes` of garbage on the stream, each 64 KiB as the relay's window allows. */
async function flood (stream: Stream, bytes: number): Promise<void> {
  const chunk = new Uint8Array(64 * 1024)
  for (let sent = 0; sent < bytes && stream.status === 'open'; sent += chunk.length) {
    if (!stream.send(chunk)) await new Promise(resolve => stream.addEventListener('drain', resolve, { once: true }))
  }
}

/** A hop stream to the relay with `request` written on it (unless the relay has reset it already). */
async function hopStream (node: Libp2p, relayAddr: string, request: Uint8Array): Promise<{
  stream: Stream, lp: ReturnType<typeof lpStream>
}> {
  const stream = await node.dialProtocol(multiaddr(relayAddr), HOP, { signal: AbortSignal.timeout(30_000) })
  const lp = lpStream(stream)
  await lp.write(request, { signal: AbortSignal.timeout(30_000) }).catch(() => {})
  return { stream, lp }
}

test('a stranger\'s hop stream is reset unanswered: the relay holds and charges nothing of it', async t => {
  const charged = chargedAt(t, MIB)
  const [r] = await startedNodes(t, ['r'], { relayLimits: CAPPED })
  r!.createSpace('s')
  const s = await stranger()
  t.after(async () => { await s.stop() })
  const relayAddr = r!.id().addrs.find(a => a.startsWith('/ip4/127.0.0.1/')) as string
  const { stream: raw, lp } = await hopStream(s, relayAddr, RESERVE)
  // Before, the relay answered PERMISSION_DENIED and kept reading (and charging) all the stranger sent after it.
  await assert.rejects(lp.read({ signal: AbortSignal.timeout(30_000) }), 'no answer: the stream is reset')
  await flood(raw, MIB)
  await untilHeld(() => raw.status !== 'open', 'the stranger\'s hop stream ends')
  assert.equal(raw.status, 'reset')
  assert.equal(charged(), 0)
})

test('a member\'s hop stream that carries no circuit is answered, then ended; what it sends after is not charged',
  async t => {
    const charged = chargedAt(t, MIB)
    const [r] = await startedNodes(t, ['r'], { relayLimits: CAPPED })
    const space = r!.createSpace('s').id
    const m = await stranger()
    const target = await stranger()
    t.after(async () => { await m.stop(); await target.stop() })
    r!.grant(space, m.peerId.toString(), 'writer')
    r!.grant(space, target.peerId.toString(), 'writer')
    const relayAddr = r!.id().addrs.find(a => a.startsWith('/ip4/127.0.0.1/')) as string
    // The target holds no slot at R: the member is refused, as the library says.
    const { stream: raw, lp } = await hopStream(m, relayAddr, connectTo(target.peerId.toString()))
    const answer = (await lp.read({ signal: AbortSignal.timeout(30_000) })).subarray()
    assert.ok(answer.includes(STATUS.NO_RESERVATION), `answered ${Buffer.from(answer).toString('hex')}`)
    lp.unwrap()
    // R closes its end after its answer (before, the stream stayed open, and R read on)...
    await untilHeld(() => raw.remoteWriteStatus === 'closed', 'R closes its end of the hop stream')
    // ...and resets it when the member neither closes its own end nor stops sending.
    await flood(raw, MIB)
    await untilHeld(() => raw.status !== 'open', 'R ends the hop stream')
    assert.equal(raw.status, 'reset')
    assert.equal(charged(), 0, 'a refused hop stream is no leg of a circuit: nothing of it is charged to the cap')
  })
