/**
 * TLS 1.3 (libp2p's `/tls/1.0.0`) run by OpenSSL on the TCP socket's own
 * handle, so that JS sees only plaintext.
 *
 * Why: `@libp2p/tls` runs Node's TLS over a JS Duplex made from the libp2p
 * connection, so every encrypted byte crosses JS twice (a copy of every
 * encrypted write on the sender, fresh 64 KiB reads on the receiver); on a
 * 1 GiB transfer about 40% of the CPU went to V8's garbage collector cleaning
 * up after that. When the connection is a bare `@libp2p/tcp` socket, this
 * encrypter builds the TLSSocket on the `net.Socket` itself, as `tls.Server`
 * does: Node's TLSWrap then reads and writes the TCP handle in C++.
 *
 * The wire is `@libp2p/tls`'s (same protocol id, certificate, ALPN muxer
 * negotiation, TLS 1.3 only), so either side may be the stock encrypter; the
 * certificate checks are `@libp2p/tls`'s own (`@libp2p/tls/utils`), as is the
 * plaintext stream handed to the muxer. Anything that is not a bare TCP
 * socket (a relayed connection, a protected one, a socket with bytes read or
 * queued but not yet consumed, one closing) goes through `@libp2p/tls`
 * unchanged.
 *
 * What changes for the TCP connection (the maConn) underneath, checked in
 * test/net/tls-direct*.test.ts:
 *   - its 'data' listener gets nothing more: the TLSWrap takes the handle's
 *     reads, ciphertext never reaches JS;
 *   - its inactivity timer on the raw socket is refreshed by the TLSSocket's
 *     reads and writes (Node walks a TLSSocket's `_parent`, the raw socket,
 *     for that), so a busy link stays and an idle one times out as before;
 *   - closing it goes through TLS (pending writes flushed, close_notify, FIN):
 *     ending the raw socket under TLS would cut off writes TLS still queues;
 *   - a reset (its own, or the encrypted stream's) is an RST on the TCP handle
 *     as before; the TLSSocket follows the raw socket's 'close'.
 */
import net from 'node:net'
import { once } from 'node:events'
import { TLSSocket, connect } from 'node:tls'
import type { ConnectionOptions } from 'node:tls'
import { InvalidCryptoExchangeError, serviceCapabilities } from '@libp2p/interface'
import type {
  AbortOptions, ConnectionEncrypter, Logger, MessageStream, SecureConnectionOptions, SecuredConnection,
  StreamMuxerFactory
} from '@libp2p/interface'
import { tls as stockTls } from '@libp2p/tls'
import type { TLSComponents } from '@libp2p/tls'
import { generateCertificate, toMessageStream, verifyPeerCertificate } from '@libp2p/tls/utils'

const PROTOCOL = '/tls/1.0.0'

/** The members of `@libp2p/tcp`'s connection this encrypter reads or takes over. */
interface TcpConnection extends MessageStream {
  readonly socket: net.Socket
  readonly writeBufferLength: number
  sendClose: (options?: AbortOptions) => Promise<void>
  onTransportClosed: () => void
}

/** The encrypted stream's member taken over (`@libp2p/utils` AbstractMessageStream). */
interface Resettable { sendReset: (err: Error) => void }

/**
 * The raw TCP socket of `connection` if TLS may take its handle now, else why
 * not: the caller then leaves the connection to `@libp2p/tls`.
 */
export function bareTcpSocket (connection: MessageStream): net.Socket | string {
  const tcp = connection as Partial<TcpConnection>
  const socket = tcp.socket
  const takesOver = typeof tcp.sendClose === 'function' && typeof tcp.onTransportClosed === 'function'
  if (!(socket instanceof net.Socket) || !takesOver) return 'not a TCP socket'
  const handle = (socket as { _handle?: unknown })._handle
  if (handle == null || socket.connecting) return 'the socket has no connected handle'
  if (socket.destroyed || !socket.readable || !socket.writable) return 'the socket is closing'
  if (connection.status !== 'open') return `the connection is ${connection.status}`
  // Bytes read but not consumed would be ciphertext TLS must see first; bytes
  // queued to write would go out after TLS's own: leave both to the JS path.
  if (connection.readBufferLength > 0 || socket.readableLength > 0) return 'bytes were read but not consumed'
  if ((tcp.writeBufferLength ?? 0) > 0 || socket.writableLength > 0) return 'bytes are queued to write'
  return socket
}

/** libp2p's factory for this encrypter: TLS on the socket's handle where it can, `@libp2p/tls` elsewhere. */
export function directTls (): (components: TLSComponents) => ConnectionEncrypter {
  return components => new DirectTls(components)
}

class DirectTls implements ConnectionEncrypter {
  readonly protocol = PROTOCOL
  readonly [serviceCapabilities] = ['@libp2p/connection-encryption']
  readonly #components: TLSComponents
  readonly #stock: ConnectionEncrypter
  readonly #log: Logger

  constructor (components: TLSComponents) {
    this.#components = components
    this.#stock = stockTls()(components)
    this.#log = components.logger.forComponent('samepage:tls-direct')
  }

  async secureInbound (connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return await this.#encrypt(connection, true, options)
  }

  async secureOutbound (connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return await this.#encrypt(connection, false, options)
  }

  async #encrypt (connection: MessageStream, isServer: boolean,
    options?: SecureConnectionOptions): Promise<SecuredConnection> {
    const log = connection.log?.newScope('tls') ?? this.#log
    const before = bareTcpSocket(connection)
    if (typeof before === 'string') return await this.#viaStock(connection, isServer, before, log, options)
    const certificate = await generateCertificate(this.#components.privateKey, options)
    // Looked at again after the await: bytes may have come in meanwhile. From
    // here to the TLSSocket's constructor nothing yields, so none can slip in.
    const socket = bareTcpSocket(connection)
    if (typeof socket === 'string') return await this.#viaStock(connection, isServer, socket, log, options)
    log('TLS on the TCP socket handle of %s connection', connection.direction)
    return await this.#handshake(connection as TcpConnection, socket, isServer, certificate, log, options)
  }

  async #viaStock (connection: MessageStream, isServer: boolean, why: string, log: Logger,
    options?: SecureConnectionOptions): Promise<SecuredConnection> {
    log('TLS through @libp2p/tls: %s', why)
    return isServer
      ? await this.#stock.secureInbound(connection, options)
      : await this.#stock.secureOutbound(connection, options)
  }

  /** `@libp2p/tls`'s handshake (tls.js `_encrypt`), on the raw socket instead of a JS Duplex. */
  async #handshake (connection: TcpConnection, raw: net.Socket, isServer: boolean,
    certificate: { cert: string, key: string }, log: Logger,
    options?: SecureConnectionOptions): Promise<SecuredConnection> {
    const upgrader = this.#components.upgrader
    let streamMuxer: StreamMuxerFactory | undefined
    const streamMuxers = options?.skipStreamMuxerNegotiation === true ? [] : [...upgrader.getStreamMuxers().keys()]
    const opts: ConnectionOptions = {
      ...certificate,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      // self-signed: the peer id is proven by the libp2p extension, checked below
      rejectUnauthorized: false,
      // early muxer negotiation; 'libp2p' means "none, negotiate after"
      ALPNProtocols: [...streamMuxers, 'libp2p'],
      ALPNCallback: ({ protocols }) => {
        let chosen: string | undefined
        for (const protocol of protocols) {
          if (protocol === 'libp2p') chosen = 'libp2p'
          streamMuxer = upgrader.getStreamMuxers().get(protocol)
          if (streamMuxer != null) {
            chosen = protocol
            break
          }
        }
        return chosen
      }
    }
    const socket = isServer
      ? new TLSSocket(raw, { ...opts, isServer: true, requestCert: true })
      : connect({ ...opts, socket: raw })
    destroyedAfterRaw(socket, raw)
    // Node forwards the raw socket's errors to the TLSSocket itself.
    const onAbort = (): void => {
      const err = new Error('Handshake timeout')
      err.name = 'HandshakeTimeoutError'
      socket.emit('error', err)
    }
    options?.signal?.addEventListener('abort', onAbort)
    try {
      return await new Promise<SecuredConnection>((resolve, reject) => {
        socket.on('error', err => {
          log.error('error encrypting %s connection - %e', connection.direction, err)
          socket.destroy()
          connection.abort(err)
          reject(err)
        })
        socket.once('secure', () => {
          verifyPeerCertificate(socket.getPeerCertificate().raw, options?.remotePeer, log).then(remotePeer => {
            log('remote certificate ok, remote peer %p', remotePeer)
            const alpn = socket.alpnProtocol
            const early = !isServer && options?.skipStreamMuxerNegotiation !== true
            if (early && typeof alpn === 'string' && alpn !== 'libp2p') {
              streamMuxer = upgrader.getStreamMuxers().get(alpn)
              if (streamMuxer == null) {
                const err = new InvalidCryptoExchangeError(`Selected muxer ${alpn} did not exist`)
                connection.abort(err)
                reject(err)
                return
              }
            }
            const secured = { remotePeer, connection: plaintextOver(connection, socket) }
            resolve(streamMuxer == null ? secured : { ...secured, streamMuxer })
          }, (err: Error) => { socket.emit('error', err) })
        })
      })
    } finally {
      options?.signal?.removeEventListener('abort', onAbort)
    }
  }
}

/**
 * A TLSSocket destroyed while its raw socket is closing (destroyed, 'close'
 * not yet emitted) frees OpenSSL's state at once, and if that happens inside
 * one of OpenSSL's callbacks (the 'secure' event, as when an abort follows
 * the handshake at once) Node crashes with a segmentation fault
 * (test/net/tls-direct-close.test.ts found it). The connection's abort does
 * just that (an RST on the raw socket, then `@libp2p/tls`'s stream destroys
 * the TLSSocket), so in that window the TLSSocket waits for the raw socket's
 * 'close', as Node's own teardown of a wrapped socket does.
 */
function destroyedAfterRaw (socket: TLSSocket, raw: net.Socket): void {
  let rawClosed = false
  raw.prependOnceListener('close', () => { rawClosed = true })
  const destroy = socket.destroy.bind(socket)
  socket.destroy = (error?: Error) => {
    if (!raw.destroyed || rawClosed) return destroy(error)
    raw.once('close', () => destroy(error))
    return socket
  }
}

/**
 * `@libp2p/tls`'s plaintext stream over `socket`, with the TCP connection's
 * close and the stream's reset routed as the module comment says.
 */
function plaintextOver (connection: TcpConnection, socket: TLSSocket): MessageStream {
  const raw = connection.socket
  connection.sendClose = async options => {
    if (raw.destroyed) return
    const closed = once(raw, 'close', { signal: options?.signal })
    // ends TLS once its queued writes are out, then destroys the raw socket
    socket.destroySoon()
    await closed
  }
  // The remote's FIN now reaches the TLSSocket, not the raw socket whose 'end'
  // the connection listens for: tell it the same, before TLS (which allows no
  // half-open connection) ends its own side under the muxer's feet.
  socket.once('end', () => { connection.onTransportClosed() })
  const dataListeners = socket.listenerCount('data')
  const plaintext = toMessageStream(connection, socket)
  // It listens to 'data' once (utils.js, EncryptedMultiaddrConnection); anything else, it is left as it is.
  if (socket.listenerCount('data') === dataListeners + 1) readsBatched(socket, plaintext as unknown as BatchTarget)
  // `@libp2p/tls` destroys its TLSSocket first (here a FIN on the real
  // socket) and then aborts the connection: abort it alone, an RST as before,
  // and the TLSSocket follows the raw socket (see destroyedAfterRaw).
  ;(plaintext as unknown as Resettable).sendReset = err => {
    connection.abort(err)
    socket.destroy()
  }
  return plaintext
}

/** The plaintext stream's members readsBatched uses (`@libp2p/utils` AbstractMessageStream). */
interface BatchTarget { onData: (data: Uint8Array | BytesList) => void, readonly readBuffer: BytesList }
interface BytesList { readonly byteLength: number }

/**
 * Held past this, the reads go on at once: the stream takes at most its 4 MiB read buffer while paused (a read
 * handed over after a pause waits there), and what is held stays well under it.
 */
const HELD_BYTES_MAX = 1024 * 1024

/**
 * The TLSSocket's reads handed to the plaintext stream as one list per turn of the event loop, not one per TLS
 * record. OpenSSL gives JS the plaintext 16 KiB at a time (a record), and each read went through the stream's buffer,
 * a message event, the muxer's decoder, and the muxed stream's own buffer and event. The reads that one poll of the
 * socket brings (libuv reads up to 32 × 64 KiB while the kernel holds more; ~76 records a turn on a 1 GiB transfer)
 * go on together, in order, from setImmediate; an 'end', 'close' or 'error' hands over what is held first. The
 * receiver's garbage fell by a quarter (young collections per GiB 380–395 → 287–321).
 */
function readsBatched (socket: TLSSocket, plaintext: BatchTarget): void {
  const listeners = socket.listeners('data')
  socket.off('data', listeners[listeners.length - 1] as (buf: Uint8Array) => void)
  // uint8arraylist's list, the type the stream buffers in (no dependency of samepage's own).
  const List = plaintext.readBuffer.constructor as new (...bufs: Uint8Array[]) => BytesList
  let held: Uint8Array[] = []
  let heldBytes = 0
  let scheduled = false
  const flush = (): void => {
    if (held.length === 0) return
    const bufs = held
    held = []
    heldBytes = 0
    plaintext.onData(bufs.length === 1 ? bufs[0] as Uint8Array : new List(...bufs))
  }
  socket.on('data', (buf: Uint8Array) => {
    held.push(buf)
    heldBytes += buf.byteLength
    if (heldBytes >= HELD_BYTES_MAX) flush()
    else if (!scheduled) {
      scheduled = true
      setImmediate(() => { scheduled = false; flush() })
    }
  })
  for (const event of ['end', 'close', 'error']) socket.prependListener(event, flush)
}
