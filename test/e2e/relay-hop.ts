import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'

/**
 * A stranger that speaks circuit relay v2's hop protocol by hand, to see
 * exactly what a relay answers: a RESERVE for itself, a CONNECT to a peer.
 * The messages are tiny protobufs (HopMessage: type = field 1, peer = 2 with
 * id = its field 1, status = field 5), written here so the test does not
 * depend on the library's internals.
 */
export const HOP = '/libp2p/circuit/relay/0.2.0/hop'
export const STATUS = { OK: 100, RESERVATION_REFUSED: 200, PERMISSION_DENIED: 202, NO_RESERVATION: 204 } as const
/** What a member relay answers a stranger: nothing, its hop stream reset at once (src/net/relay-views.ts). */
export const RESET = 'reset'

export async function stranger (): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

/** Sends one hop request to `relayAddr` and returns the status the relay answers, or RESET if it reset the stream. */
export async function hop (
  node: Libp2p, relayAddr: string, request: 'reserve' | { connectTo: string }
): Promise<number | typeof RESET> {
  const stream = await node.dialProtocol(multiaddr(relayAddr), HOP, { signal: AbortSignal.timeout(30_000) })
  const lp = lpStream(stream)
  const signal = AbortSignal.timeout(30_000)
  try {
    if (request === 'reserve') {
      await lp.write(Uint8Array.of(0x08, 0x00), { signal })
    } else {
      const id = peerIdFromString(request.connectTo).toMultihash().bytes
      const peer = Uint8Array.of(0x0a, id.length, ...id)
      await lp.write(Uint8Array.of(0x08, 0x01, 0x12, peer.length, ...peer), { signal })
    }
    const answer = (await lp.read({ signal })).subarray()
    stream.abort(new Error('done'))
    return statusOf(answer)
  } catch (err) {
    if (stream.status === 'reset') return RESET
    throw err
  }
}

/** Field 5 (varint) of a HopMessage; the other fields are skipped by their wire type. */
function statusOf (msg: Uint8Array): number {
  let i = 0
  const varint = (): number => {
    let v = 0
    let shift = 0
    for (;;) {
      const b = msg[i++]
      if (b === undefined) throw new Error('truncated hop message')
      v += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) return v
      shift += 7
    }
  }
  while (i < msg.length) {
    const tag = varint()
    if (tag >> 3 === 5) return varint()
    if ((tag & 7) === 0) varint()
    else if ((tag & 7) === 2) i += varint()
    else throw new Error(`unexpected wire type in hop message: ${tag}`)
  }
  throw new Error('hop message without a status')
}
