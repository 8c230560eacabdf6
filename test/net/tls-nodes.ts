import crypto from 'node:crypto'
import net from 'node:net'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, MessageStream, Stream, StreamCloseEvent } from '@libp2p/interface'
import { connectionEncrypters } from '../../src/net/index.ts'
import type { EncrypterName } from '../../src/net/index.ts'

/**
 * Bare libp2p nodes for the TLS encrypter tests (test/net/tls-*.test.ts):
 * TCP on 127.0.0.1, one encrypter, Yamux, nothing else (no identify, no
 * ping), so a connection carries only what a test sends on it.
 */
export const TLS = '/tls/1.0.0'
export const SINK = '/samepage-test/sink/1.0.0'

export async function bareNode (encrypter: EncrypterName, inactivityTimeout?: number): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp(inactivityTimeout === undefined
      ? {}
      : { inboundSocketInactivityTimeout: inactivityTimeout, outboundSocketInactivityTimeout: inactivityTimeout })],
    connectionEncrypters: connectionEncrypters([encrypter]),
    streamMuxers: [yamux()]
  })
}

/** What lies under a libp2p connection: the TCP connection, its socket, and the encrypted stream the muxer uses. */
export interface Layers {
  readonly maConn: MessageStream & { readonly socket: net.Socket }
  readonly encrypted: MessageStream & { readonly writableNeedsDrain: boolean }
}

export function layersOf (connection: Connection): Layers {
  const c = connection as unknown as { maConn: Layers['maConn'], muxer: { maConn: Layers['encrypted'] } }
  return { maConn: c.maConn, encrypted: c.muxer.maConn }
}

/** Counts the bytes JS reads off the raw TCP socket from now on: ciphertext, on the JS TLS path. */
export function rawBytesRead (connection: Connection): () => number {
  let bytes = 0
  layersOf(connection).maConn.socket.on('data', (buf: Buffer) => { bytes += buf.byteLength })
  return () => bytes
}

/** `from` dials `to`; both ends of the one connection, once both have it. */
export async function connect (from: Libp2p, to: Libp2p): Promise<[Connection, Connection]> {
  const inbound = new Promise<Connection>(resolve => {
    const onOpen = (evt: CustomEvent<Connection>): void => {
      if (!evt.detail.remotePeer.equals(from.peerId)) return
      to.removeEventListener('connection:open', onOpen)
      resolve(evt.detail)
    }
    to.addEventListener('connection:open', onOpen)
  })
  const outbound = await from.dial(to.getMultiaddrs()[0]!)
  return [outbound, await inbound]
}

/** Resolves with the close event of `connection`'s TCP connection, and how many it dispatched by then. */
export async function closed (connection: Connection): Promise<StreamCloseEvent> {
  const { maConn } = layersOf(connection)
  if (maConn.status !== 'open' && maConn.status !== 'closing') throw new Error(`already ${maConn.status}`)
  return await new Promise(resolve => {
    maConn.addEventListener('close', evt => { resolve(evt) }, { once: true })
  })
}

/** Counts every 'connection:close' each node dispatches, by connection id. */
export function closeCounter (...nodes: Libp2p[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const n of nodes) {
    n.addEventListener('connection:close', evt => {
      counts.set(evt.detail.id, (counts.get(evt.detail.id) ?? 0) + 1)
    })
  }
  return counts
}

/** A sink protocol on `node`: each stream's bytes hashed, answered with the SHA-256 when the stream ends. */
export async function serveSink (node: Libp2p): Promise<void> {
  await node.handle(SINK, async stream => {
    const hash = crypto.createHash('sha256')
    for await (const buf of stream) hash.update(buf.subarray())
    stream.send(hash.digest())
    await stream.close()
  })
}

/** Sends `bytes` of `seed`'s pseudo-random data on a new sink stream; resolves with the sent and received hashes. */
export async function sendToSink (connection: Connection, bytes: number, seed: number): Promise<[string, string]> {
  // A signal of its own: libp2p's default one (the protocol negotiation's 10 s) stays on a lazily negotiated stream
  // that writes before it reads, and fired mid-transfer on a loaded machine (the connection ended with it).
  return await sendOn(await connection.newStream(SINK, { signal: new AbortController().signal }), bytes, seed)
}

/** Sends `bytes` of `seed`'s pseudo-random data on an open sink stream; resolves with the sent and received hashes. */
export async function sendOn (stream: Stream, bytes: number, seed: number): Promise<[string, string]> {
  const answer = (async () => {
    const parts: Uint8Array[] = []
    for await (const buf of stream) parts.push(buf.subarray())
    return Buffer.concat(parts).toString('hex')
  })()
  // awaited at the end; a failure meanwhile (the connection ended) is the sender's to report
  answer.catch(() => {})
  const hash = crypto.createHash('sha256')
  const chunk = 64 * 1024
  for (let sent = 0, i = 0; sent < bytes; sent += chunk, i++) {
    const data = crypto.createHash('sha512').update(`${seed}:${i}`).digest()
    const buf = Buffer.alloc(Math.min(chunk, bytes - sent), data)
    hash.update(buf)
    if (!stream.send(buf)) await stream.onDrain()
  }
  await stream.close()
  return [hash.digest('hex'), await answer]
}

/** Resolves once `ok()` holds, looking every 10 ms; rejects after `ms` (a safety net, not a measure). */
export async function until (ok: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
