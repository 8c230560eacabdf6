/**
 * The reachability dial-back (src/net/dial-back.ts): a member is reached at
 * a port only if the listener there proves the member's key, as libp2p's TLS
 * handshake does; anything else listening there (another node, a plain
 * server, a node that offers only Noise) is "not reached", and the proven
 * listener is left with no connection from it.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import type { Libp2p } from 'libp2p'
import { dialBack } from '../../src/net/dial-back.ts'
import { bareNode, connect } from './tls-nodes.ts'

const started: Libp2p[] = []
const servers: net.Server[] = []
after(async () => {
  for (const n of started) await n.stop()
  for (const s of servers) s.close()
})

async function node (encrypter: 'tls' | 'noise'): Promise<Libp2p> {
  const n = await bareNode(encrypter)
  started.push(n)
  return n
}

const portOf = (n: Libp2p): number => Number(n.getMultiaddrs()[0]?.getComponents().find(c => c.name === 'tcp')?.value)

/** A plain TCP server on 127.0.0.1 that does `onSocket` with each connection it takes. */
async function plainServer (onSocket: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer(onSocket)
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as net.AddressInfo).port
}

// Long enough for any loaded machine: each case below ends by what the listener does, not by this timeout.
const TIMEOUT_MS = 60_000

describe('dial-back', () => {
  test('reaches the listener that proves the asker\'s key, and makes no connection to it', async () => {
    const b = await node('tls')
    let opened = 0
    b.addEventListener('connection:open', () => { opened++ })
    assert.equal(await dialBack('127.0.0.1', portOf(b), b.peerId, TIMEOUT_MS), true)
    assert.equal(opened, 0, 'the listener never had a connection from the dial-back')
    assert.equal(b.getConnections().length, 0)
  })

  test('another node listening at that port is not the asker', async () => {
    const [other, asker] = [await node('tls'), await node('tls')]
    assert.equal(await dialBack('127.0.0.1', portOf(other), asker.peerId, TIMEOUT_MS), false)
  })

  test('a server that is no libp2p node is not the asker: one that answers something else, one that hangs up', async () => {
    const asker = await node('tls')
    const chatty = await plainServer(socket => { socket.on('error', () => {}); socket.end('HTTP/1.1 400 Bad Request\r\n\r\n') })
    const rude = await plainServer(socket => { socket.destroy() })
    assert.equal(await dialBack('127.0.0.1', chatty, asker.peerId, TIMEOUT_MS), false)
    assert.equal(await dialBack('127.0.0.1', rude, asker.peerId, TIMEOUT_MS), false)
  })

  test('a server that says nothing is not the asker once the dial-back gives up', async () => {
    const asker = await node('tls')
    const silent = await plainServer(socket => { socket.on('error', () => {}) })
    assert.equal(await dialBack('127.0.0.1', silent, asker.peerId, 200), false)
  })

  test('a node offering only Noise is not proven, so not reached; nothing listening, not reached', async () => {
    const old = await node('noise')
    assert.equal(await dialBack('127.0.0.1', portOf(old), old.peerId, TIMEOUT_MS), false)
    const gone = await plainServer(() => {})
    servers.pop()?.close()
    assert.equal(await dialBack('127.0.0.1', gone, old.peerId, TIMEOUT_MS), false)
  })

  test('the listener still takes real connections after being dialled back', async () => {
    const [a, b] = [await node('tls'), await node('tls')]
    assert.equal(await dialBack('127.0.0.1', portOf(b), b.peerId, TIMEOUT_MS), true)
    const [out] = await connect(a, b)
    assert.ok(out.remotePeer.equals(b.peerId))
  })
})
