/**
 * When the chunks a block stream served are gone, so that their buffers
 * (blocks/served-buffers.ts) may be read into again: the proof a connection
 * gives (tlsBarrier), and the pause after which the free ones are dropped.
 */
import type { TLSSocket } from 'node:tls'
import type { Connection } from '@libp2p/interface'
import { dropFreeServedBuffers } from '../blocks/index.ts'

/**
 * A connection's proof that the bytes a stream passed down to its muxer are gone: a promise of true once every byte
 * passed down before the call is read by nothing in this process any more (false: the connection failed first), or
 * null at once if it is closing.
 */
export type SentBarrier = () => Promise<boolean> | null

/** Free served buffers are kept while answers go out, and dropped once none went for this long. */
const SERVED_BUFFERS_KEPT_IDLE_MS = 2_000
/** Answers sent by every block stream of this process. */
let answersSent = 0
let dropTimer: NodeJS.Timeout | undefined

export function answerSent (): void {
  answersSent++
}

/** A stream has nothing to answer: once no stream sent an answer for a while, the free served buffers go. */
export function servingPaused (): void {
  if (dropTimer !== undefined) return
  const before = answersSent
  dropTimer = setTimeout(() => {
    dropTimer = undefined
    if (answersSent === before) dropFreeServedBuffers(); else servingPaused()
  }, SERVED_BUFFERS_KEPT_IDLE_MS)
  dropTimer.unref()
}

interface Encrypted { readonly writeBufferLength?: unknown, readonly socket?: unknown }
interface MuxedOver { readonly muxer?: { readonly maConn?: Encrypted } }
const NOTHING = new Uint8Array(0)
/** A barrier waiting for its socket to have been given `upTo` bytes (`bytesWritten`: all its writes so far). */
interface Waiting { readonly upTo: number, readonly then: () => void }
const waiting = new WeakMap<TLSSocket, Waiting[]>()

/**
 * When the bytes a block stream passed down to the muxer have been taken by TLS (serveBlocks gives the buffers of the
 * chunks it sent back for reuse then). Yamux hands a stream's bytes to the encrypted connection under it at once
 * (a frame whose header wraps them, no copy), and that connection writes what it holds to the TLSSocket first in,
 * first out (net/tls-direct.ts or `@libp2p/tls`; it holds bytes only while the socket asks it to wait, and writes
 * them on the socket's 'drain'). So once the socket was given as many bytes more as the connection held at the call
 * (the socket's `bytesWritten` counts what it was given), they were all written to it, and an empty write's callback
 * comes after theirs (a Writable calls back in order), when OpenSSL has taken the plaintext. Node's TLS socket allows
 * empty writes (it sends nothing). A socket that closes first proves nothing. Over any other connection (Noise) it
 * never tells, and the buffers are left to the collector.
 */
export function tlsBarrier (connection: Connection | undefined): SentBarrier | null {
  const encrypted = (connection as MuxedOver | undefined)?.muxer?.maConn
  const socket = encrypted?.socket
  if (encrypted === undefined || !isTlsSocket(socket) || typeof encrypted.writeBufferLength !== 'number') return null
  const writable = (): boolean => !socket.destroyed && socket.writable && !socket.writableEnded
  return () => {
    if (!writable()) return null
    return new Promise<boolean>(resolve => {
      const written = (): void => {
        if (!writable()) { resolve(false); return }
        socket.write(NOTHING, err => { resolve(err == null) })
      }
      const held = encrypted.writeBufferLength as number
      if (held === 0) { written(); return }
      let list = waiting.get(socket)
      if (list === undefined) {
        const mine: Waiting[] = list = []
        waiting.set(socket, mine)
        // The connection may write what it held only in a microtask after this 'drain': a waiter whose bytes are not
        // counted yet waits for a later drain (late, never early).
        socket.on('drain', () => {
          const at = socket.bytesWritten
          while (mine.length > 0 && (mine[0] as Waiting).upTo <= at) (mine.shift() as Waiting).then()
        })
        socket.once('close', () => { for (const w of mine.splice(0)) w.then() })
      }
      list.push({ upTo: socket.bytesWritten + held, then: written })
    })
  }
}

/**
 * A TLSSocket, told by the flag Node's TLSSocket sets (`encrypted`), so that this module does not load node:tls: an
 * idle daemon has no connection, and TLS comes with the first one (net/tls-direct.ts, @libp2p/tls).
 */
function isTlsSocket (socket: unknown): socket is TLSSocket {
  return typeof socket === 'object' && socket !== null && (socket as { encrypted?: unknown }).encrypted === true &&
    typeof (socket as { write?: unknown }).write === 'function'
}
