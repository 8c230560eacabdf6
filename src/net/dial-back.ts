import net from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { PeerId } from '@libp2p/interface'

/**
 * Whether the listener at host:port is `peer`'s own libp2p node: the dial-back
 * of reachability.ts. A bare TCP connect proves only that something listens
 * there, and that is often someone else: two nodes behind one NAT that use
 * the same port, where the port is forwarded to one of them (the other would
 * believe itself reachable and never reserve a relay slot); on loopback, any
 * process listening at that port on 127.0.0.1 (seen in CI). So the dial-back
 * goes as far as libp2p's TLS handshake does to prove the listener's key: it
 * selects `/tls/1.0.0` by multistream-select, takes the server's certificate,
 * checks its libp2p extension names `peer` (`@libp2p/tls`'s own check), and
 * hangs up before it would send a certificate of its own, so the listener
 * never counts a connection from it (its handshake fails for want of one).
 * A listener that offers no TLS (an older samepage, Noise only) is not
 * proven, so not reachable: it reserves a relay slot it might not have
 * needed, which costs little, where a wrong "reachable" cuts it off.
 */
const MULTISTREAM = '/multistream/1.0.0\n'
const TLS_PROTOCOL = '/tls/1.0.0\n'
/** The listener's answer is its multistream header and the echo of ours: anything longer is not a libp2p node. */
const ANSWER_BYTES_MAX = 64

export async function dialBack (host: string, port: number, peer: PeerId, timeoutMs: number): Promise<boolean> {
  const socket = net.connect({ host, port })
  // Each step below rejects on a close; errors only come before one, and must not go unheard.
  socket.on('error', () => {})
  let secured: TLSSocket | undefined
  const timer = setTimeout(() => { socket.destroy() }, timeoutMs)
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('close', () => { reject(new Error('not connected')) })
    })
    socket.write(Buffer.concat([lengthPrefixed(MULTISTREAM), lengthPrefixed(TLS_PROTOCOL)]))
    const answer = await readMessages(socket, 2)
    if (answer[0] !== MULTISTREAM || answer[1] !== TLS_PROTOCOL) return false
    // Loaded here, as X.509 and ASN.1 below: a node that never answers a member needs none of them (idle-loads test).
    const { connect } = await import('node:tls')
    // A TLS socket made on a socket already closed (the timer, meanwhile) would never say anything.
    if (socket.destroyed) return false
    const tls = connect({ socket, ALPNProtocols: ['libp2p'], rejectUnauthorized: false, minVersion: 'TLSv1.3' })
    secured = tls
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', resolve)
      tls.on('error', reject)
      tls.once('close', () => { reject(new Error('closed during the handshake')) })
    })
    const raw = tls.getPeerCertificate().raw
    const { verifyPeerCertificate } = await import('@libp2p/tls/utils')
    const remote = await verifyPeerCertificate(new Uint8Array(raw), peer)
    return remote.equals(peer)
  } catch {
    return false
  } finally {
    clearTimeout(timer)
    secured?.destroy()
    socket.destroy()
  }
}

function lengthPrefixed (line: string): Buffer {
  // Every line here is under 128 bytes: its unsigned varint length is one byte.
  return Buffer.concat([Uint8Array.of(Buffer.byteLength(line)), Buffer.from(line)])
}

/**
 * The first `count` length-prefixed messages the socket sends, read whole and
 * no further (what follows is TLS's), as strings. Rejects on a close, or on
 * more than ANSWER_BYTES_MAX bytes without them.
 */
async function readMessages (socket: net.Socket, count: number): Promise<string[]> {
  return await new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0)
    const done = (err?: Error, messages?: string[]): void => {
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.pause()
      if (err !== undefined) reject(err)
      else resolve(messages as string[])
    }
    const onClose = (): void => { done(new Error('closed before answering')) }
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      const messages: string[] = []
      let at = 0
      while (messages.length < count && at < buffered.length) {
        const length = buffered[at] as number
        if (length >= 0x80) { done(new Error('a message over 127 bytes')); return }
        if (at + 1 + length > buffered.length) break
        messages.push(buffered.subarray(at + 1, at + 1 + length).toString())
        at += 1 + length
      }
      if (messages.length === count) {
        // The listener waits for our ClientHello: nothing may follow its answer.
        if (at !== buffered.length) done(new Error('more than the answer'))
        else done(undefined, messages)
      } else if (buffered.length > ANSWER_BYTES_MAX) done(new Error('no multistream answer'))
    }
    socket.on('data', onData)
    socket.on('close', onClose)
  })
}
