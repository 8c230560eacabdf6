import net from 'node:net'
import tls from 'node:tls'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { generateCertificate } from '@libp2p/tls/utils'
import type { Libp2p } from 'libp2p'

/**
 * A stranger on TCP for the review's TLS tests: it speaks multistream-select
 * for `/tls/1.0.0` by hand and then does what a test says with the raw
 * socket or with a TLS client of its own (Node's, any key it likes).
 */
const TLS_ID = '/tls/1.0.0'

function lp (text: string): Buffer {
  const body = Buffer.from(`${text}\n`)
  return Buffer.concat([Buffer.from([body.length]), body])
}

/** A TCP socket to `node` that has agreed on `/tls/1.0.0` with it (both lines answered), nothing buffered after. */
export async function negotiatedTls (node: Libp2p): Promise<net.Socket> {
  // /ip4/127.0.0.1/tcp/<port>/p2p/<id>
  const port = Number(node.getMultiaddrs()[0]!.toString().split('/')[4])
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve).once('error', reject) })
  socket.write(Buffer.concat([lp('/multistream/1.0.0'), lp(TLS_ID)]))
  let got = Buffer.alloc(0)
  await new Promise<void>((resolve, reject) => {
    const onData = (buf: Buffer): void => {
      got = Buffer.concat([got, buf])
      const want = Buffer.concat([lp('/multistream/1.0.0'), lp(TLS_ID)])
      if (got.length < want.length) return
      socket.off('data', onData)
      socket.pause()
      if (!got.equals(want)) reject(new Error(`unexpected answer ${got.toString('latin1')}`))
      else resolve()
    }
    socket.on('data', onData)
    socket.once('close', () => { reject(new Error('closed during multistream-select')) })
  })
  return socket
}

/** A self-signed libp2p TLS certificate for a fresh key (a stranger's: keys are free). */
export async function strangerCertificate (): Promise<{ cert: string, key: string }> {
  return await generateCertificate(await generateKeyPair('Ed25519'))
}

/** A TLS 1.3 client over `socket`, offering Yamux by ALPN as libp2p does. */
export function tlsClient (socket: net.Socket, cert: { cert: string, key: string }): tls.TLSSocket {
  return tls.connect({
    socket,
    ...cert,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    rejectUnauthorized: false,
    ALPNProtocols: ['/yamux/1.0.0', 'libp2p']
  })
}

/** Resolves once `socket` is closed (at once if it is). */
export async function socketClosed (socket: net.Socket): Promise<void> {
  if (socket.closed) return
  await new Promise(resolve => socket.once('close', resolve))
}

/** The first flight (ClientHello) a TLS 1.3 client with `cert` sends, captured without a server. */
export async function clientHello (cert: { cert: string, key: string }): Promise<Buffer> {
  const { Duplex } = await import('node:stream')
  let client: tls.TLSSocket | undefined
  const hello = await new Promise<Buffer>(resolve => {
    const duplex = new Duplex({
      read () {},
      write (chunk: Buffer, _encoding, callback) {
        resolve(chunk)
        callback()
      }
    })
    client = tlsClient(duplex as unknown as net.Socket, cert)
    client.on('error', () => {})
  })
  client?.destroy()
  return hello
}
