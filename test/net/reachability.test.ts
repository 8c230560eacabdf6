/**
 * The reachability service's retries (src/net/reachability.ts), on fake
 * libp2p components and a real stream pair: a reservation that fails after
 * the retry timer of the round that started it has fired is tried again
 * (found in a hunt for a CI flake: that round found the reservation in
 * flight, had nothing to do and armed no timer, so nothing ever tried
 * again); and one libp2p drops while the link stays is made again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, Libp2pEvents, Stream, TypedEventTarget } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import { byteStream, streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { reachability } from '../../src/net/reachability.ts'
import { until } from './tls-nodes.ts'

/** A ReachService on fake components, linked to one relay member that answers every dial-back "not reached". */
async function linkedToRelay (): Promise<{
  service: ReturnType<ReturnType<typeof reachability>>, events: TypedEventTarget<Libp2pEvents>, connection: Connection,
  listens: { addrs: Multiaddr[], accept: () => void, refuse: (err: Error) => void }[], circuits: Multiaddr[], lookups: () => number,
  reservations: string[]
}> {
  const relay = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const connection = {
    remotePeer: relay,
    remoteAddr: multiaddr(`/ip4/127.0.0.1/tcp/4815/p2p/${relay.toString()}`),
    direction: 'outbound',
    newStream: async (): Promise<Stream> => {
      const [ours, theirs] = await streamPair()
      void (async () => {
        const bytes = byteStream(theirs)
        await bytes.read({ bytes: 2 })
        await bytes.write(Uint8Array.of(0))
        await theirs.close()
      })()
      return ours
    }
  } as unknown as Connection
  let lookups = 0
  const listens: { addrs: Multiaddr[], accept: () => void, refuse: (err: Error) => void }[] = []
  // What the circuit listeners listen on: a reservation made adds its address, libp2p dropping it takes it away.
  const circuits: Multiaddr[] = []
  const events = new EventTarget() as unknown as TypedEventTarget<Libp2pEvents>
  const reservations: string[] = []
  const service = reachability({ member: () => true, onReservation: (_peer, addr) => { reservations.push(addr) } })({
    registrar: { handle: async () => {}, unhandle: async () => {} },
    transportManager: {
      getAddrs: () => [multiaddr('/ip4/127.0.0.3/tcp/4000'), ...circuits],
      listen: async addrs => {
        await new Promise<void>((resolve, reject) => {
          listens.push({ addrs, accept: () => { circuits.push(...addrs); resolve() }, refuse: reject })
        })
      }
    },
    connectionManager: { getConnections: () => { lookups++; return [connection] } },
    addressManager: { confirmObservedAddr: () => {} },
    events
  })
  await service.start()
  events.dispatchEvent(new CustomEvent('peer:identify', { detail: { peerId: relay, protocols: [RELAY_V2_HOP_CODEC], connection } }))
  await until(() => listens.length === 1, 60_000, 'the first reservation')
  assert.equal(service.status, 'unreachable')
  assert.match(listens[0]?.addrs[0]?.toString() ?? '', /p2p-circuit$/)
  return { service, events, connection, listens, circuits, lookups: () => lookups, reservations }
}

test('a reservation refused after the retry timer fired is tried again', async () => {
  const { service, listens, lookups } = await linkedToRelay()
  try {
    // The round that reserved armed the retry timer: wait for it to fire (its round looks up the connections).
    const before = lookups()
    await until(() => lookups() > before, 60_000, 'the retry timer\'s round')
    listens[0]?.refuse(new Error('reservation refused: not a member here yet'))
    await until(() => listens.length === 2, 60_000, 'a second reservation')
  } finally {
    await service.stop()
  }
})

test('a reservation libp2p drops while the link stays (its address gone) is made again', async () => {
  const { service, events, listens, circuits, reservations } = await linkedToRelay()
  try {
    listens[0]?.accept()
    await until(() => reservations.length === 1, 60_000, 'the reservation')
    // An address change that keeps it changes nothing.
    events.dispatchEvent(new CustomEvent('transport:listening', {}))
    assert.equal(listens.length, 1)
    circuits.splice(0)
    events.dispatchEvent(new CustomEvent('transport:listening', {}))
    await until(() => listens.length === 2, 60_000, 'a new reservation')
  } finally {
    await service.stop()
  }
})
