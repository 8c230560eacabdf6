import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import net from 'node:net'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { MessageStream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { connectionEncrypters } from '../../src/net/index.ts'
import { bareTcpSocket } from '../../src/net/tls-direct.ts'
import { bareNode, connect, layersOf, rawBytesRead, sendOn, sendToSink, serveSink, SINK, TLS, until } from './tls-nodes.ts'

/**
 * TLS on the TCP socket's own handle (src/net/tls-direct.ts), between real
 * libp2p nodes over TCP on 127.0.0.1: it talks to itself and to the stock
 * `@libp2p/tls` (the same wire), both ways; no ciphertext reaches JS on its
 * side; a dial to a peer id answered by another key is refused; a large
 * transfer that fills the TCP buffers arrives whole; and it leaves to
 * `@libp2p/tls` whatever is not a bare TCP socket with nothing buffered,
 * such as a connection relayed by circuit relay v2, which still works.
 * Closing, resetting and timing out: tls-direct-close.test.ts.
 */
const started: Libp2p[] = []
after(async () => { for (const n of started) await n.stop() })

async function node (encrypter: 'tls' | 'tls-js'): Promise<Libp2p> {
  const n = await bareNode(encrypter)
  started.push(n)
  await serveSink(n)
  return n
}

describe('direct TLS between real nodes', { timeout: 300_000 }, () => {
  const pairs = [['tls', 'tls'], ['tls', 'tls-js'], ['tls-js', 'tls']] as const
  for (const [dialler, listener] of pairs) {
    test(`${dialler} dials ${listener}: they agree on ${TLS}, bytes arrive whole both ways, direct sides read no ciphertext`,
      async () => {
        const a = await node(dialler)
        const b = await node(listener)
        const [out, inb] = await connect(a, b)
        assert.equal(out.encryption, TLS)
        assert.equal(inb.encryption, TLS)
        const rawOut = rawBytesRead(out)
        const rawIn = rawBytesRead(inb)
        const [sentAB, gotAB] = await sendToSink(out, 4 * 1024 * 1024 + 17, 1)
        assert.equal(gotAB, sentAB)
        const [sentBA, gotBA] = await sendToSink(inb, 3 * 1024 * 1024 + 5, 2)
        assert.equal(gotBA, sentBA)
        // The stock side reads every encrypted byte it receives in JS; the direct side none.
        for (const [side, read, received] of [[dialler, rawOut(), 3 << 20], [listener, rawIn(), 4 << 20]] as const) {
          if (side === 'tls') assert.equal(read, 0, 'ciphertext reached JS on the direct side')
          else assert.ok(read > received, `the stock side read ${read} bytes of ciphertext`)
        }
      })
  }

  for (const [dialler, listener] of pairs) {
    test(`${dialler} dialling ${listener} at a peer id that is not the listener's is refused`, async () => {
      const a = await node(dialler)
      const b = await node(listener)
      const claimed = await node(listener)
      const tcpAddr = b.getMultiaddrs()[0]!.toString().split('/p2p/')[0]!
      await assert.rejects(a.dial(multiaddr(`${tcpAddr}/p2p/${claimed.peerId.toString()}`)),
        { name: 'EncryptionFailedError', message: /Unexpected Peer/ })
      assert.deepEqual(a.getConnections(), [])
      await until(() => b.getConnections().length === 0, 60_000, 'the listener to drop the refused connection')
      const honest = await a.dial(b.getMultiaddrs()[0]!)
      assert.equal(honest.remotePeer.toString(), b.peerId.toString())
    })
  }

  test('a large transfer that fills the TCP buffers (TLS writes refused, then drained) arrives whole', async () => {
    const a = await node('tls')
    const b = await node('tls')
    const [out, inb] = await connect(a, b)
    const rawIn = rawBytesRead(inb)
    // Streams open first (their negotiation needs the receiver reading); then
    // the receiver stops reading its TLS socket: the kernel's buffers fill and
    // TLS refuses the sender's writes until they drain again.
    const streams = await Promise.all(Array.from({ length: 32 }, async () => await out.newStream(SINK)))
    layersOf(inb).encrypted.pause()
    const transfers = streams.map(async (stream, i) => await sendOn(stream, 2 * 1024 * 1024 + i, 100 + i))
    await until(() => layersOf(out).encrypted.writableNeedsDrain, 120_000, 'the sender to be told to wait for drain')
    layersOf(inb).encrypted.resume()
    for (const [sent, got] of await Promise.all(transfers)) assert.equal(got, sent)
    assert.equal(layersOf(out).encrypted.writableNeedsDrain, false)
    assert.equal(rawIn(), 0)
  })
})

describe('which connections take the direct path', () => {
  const fakeStream = (extra: Record<string, unknown>): MessageStream =>
    ({ status: 'open', readBufferLength: 0, writeBufferLength: 0, ...extra }) as unknown as MessageStream

  test('a stream that is not a TCP socket (a relayed or protected connection) is left to @libp2p/tls', () => {
    assert.equal(bareTcpSocket(fakeStream({})), 'not a TCP socket')
    assert.equal(bareTcpSocket(fakeStream({ socket: {}, sendClose: async () => {}, onTransportClosed: () => {} })), 'not a TCP socket')
  })

  test('a connected TCP socket with nothing buffered is taken; bytes read or queued, or closing, are not', async () => {
    const server = net.createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const accepted = new Promise<net.Socket>(resolve => server.once('connection', resolve))
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    await new Promise(resolve => socket.once('connect', resolve))
    const peer = await accepted
    try {
      const tcp = (extra: Record<string, unknown> = {}): MessageStream =>
        fakeStream({ socket, sendClose: async () => {}, onTransportClosed: () => {}, ...extra })
      assert.equal(bareTcpSocket(tcp()), socket)
      assert.equal(bareTcpSocket(tcp({ readBufferLength: 3 })), 'bytes were read but not consumed')
      assert.equal(bareTcpSocket(tcp({ writeBufferLength: 3 })), 'bytes are queued to write')
      assert.equal(bareTcpSocket(tcp({ status: 'closing' })), 'the connection is closing')
      socket.pause()
      peer.write('early')
      await until(() => socket.readableLength > 0, 60_000, 'the bytes to reach the paused socket')
      assert.equal(bareTcpSocket(tcp()), 'bytes were read but not consumed')
      socket.end()
      assert.equal(bareTcpSocket(tcp()), 'the socket is closing')
    } finally {
      socket.destroy()
      peer.destroy()
      server.close()
    }
  })
})

describe('a relayed connection over TLS', { timeout: 300_000 }, () => {
  test('goes through @libp2p/tls (it is no TCP socket) and carries bytes whole',
    async () => {
      const relay = await relayedNode('tls', { relay: circuitRelayServer() })
      const listener = await relayedNode('tls', {}, ['/p2p-circuit'])
      const dialler = await relayedNode('tls', {})
      await listener.dial(relay.getMultiaddrs()[0]!)
      await until(() => listener.getMultiaddrs().some(a => a.toString().includes('/p2p-circuit')), 60_000,
        'the listener to hold a reservation at the relay')
      const circuit = listener.getMultiaddrs().find(a => a.toString().includes('/p2p-circuit'))!
      const relayed = await dialler.dial(circuit)
      assert.equal(relayed.limits != null, true, 'not a relayed connection')
      assert.equal(relayed.encryption, TLS)
      const stream = await relayed.newStream(SINK, { runOnLimitedConnection: true })
      const [sent, got] = await sendOn(stream, 32 * 1024 + 3, 9)
      assert.equal(got, sent)
    })
})

async function relayedNode (encrypter: 'tls', services: Record<string, unknown>, listen: string[] = []): Promise<Libp2p> {
  const n = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0', ...listen] },
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: connectionEncrypters([encrypter]),
    streamMuxers: [yamux()],
    services: { identify: identify(), ...services }
  })
  started.push(n)
  await n.handle(SINK, async stream => {
    const hash = crypto.createHash('sha256')
    for await (const buf of stream) hash.update(buf.subarray())
    stream.send(hash.digest())
    await stream.close()
  }, { runOnLimitedConnection: true })
  return n
}
