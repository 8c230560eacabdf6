import { once } from 'node:events'
import type { Connection, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { FRAME_BYTES_MAX, UNREAD_BYTES_MAX } from './constants.ts'

/**
 * One sync session: the stream of one connection to one peer, carrying every
 * shared space (design decision 11). Frames in are handed to `onFrame`;
 * frames out are queued and written in order with backpressure (a write
 * awaits the stream's drain). Any read error ends the session, and a session
 * that ends closes its connection (close()).
 */
/** it-length-prefixed's errors for a frame too long or not length-prefixed. */
/**
 * Frames handled in a row before the session lets the event loop turn: frames already buffered are read as
 * microtasks, so a peer far ahead of a busy node (a review's status flood: 56 MiB of small frames buffered) had all
 * of them handled before any other socket, timer or write got a turn, for seconds.
 */
const FRAMES_PER_TURN = 16
const LENGTH_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'])

interface SessionHandlers {
  /** A promise back: no frame is read until it settles (the stream paused, so the muxer's window holds the sender). */
  onFrame (bytes: Uint8Array): Promise<void> | undefined
  /** A frame over the limit, or bytes that are not frames. */
  onBadFrame (reason: string): void
  onClose (): void
}

export class SyncSession {
  readonly connection: Connection
  readonly stream: Stream
  bytesIn = 0
  bytesOut = 0
  /**
   * Bytes queued and not yet written to the stream (the engine bounds what it serves by it: a peer that does not read
   * is not served more).
   */
  queuedBytes = 0
  readonly #lp: LengthPrefixedStream<Stream>
  readonly #handlers: SessionHandlers
  #queue: Uint8Array[] = []
  #writing = false
  #closed = false
  /** The node is stopping (quiesce()): frames are still written, none read is handed on. */
  #quiesced = false
  /** finish() is closing our end: nothing more is queued (a send now would reset the stream). */
  #sealed = false
  /** Settles when the write loop under way (#flush) has ended. */
  #flushed: Promise<void> = Promise.resolve()
  /** Set before run(): no frame is read until it settles (holdReadingUntil()). */
  #hold: Promise<void> | undefined

  constructor (stream: Stream, connection: Connection, handlers: SessionHandlers) {
    this.stream = stream
    this.connection = connection
    this.#handlers = handlers
    this.#lp = lpStream(stream, { maxDataLength: FRAME_BYTES_MAX, maxBufferSize: UNREAD_BYTES_MAX })
  }

  /** Reads frames until the stream ends; resolves when the session is over (while stopping, finish() ends it). */
  async run (): Promise<void> {
    try {
      if (this.#hold !== undefined) await this.#pausedUntil(this.#hold)
      for (let n = 1; ; n++) {
        if (this.#closed) break
        if (n % FRAMES_PER_TURN === 0) await new Promise(resolve => setImmediate(resolve))
        const frame = await this.#lp.read()
        this.bytesIn += frame.byteLength
        if (this.#quiesced) continue // the node is stopping: read on to the peer's end, take nothing more
        const paused = this.#handlers.onFrame(frame.subarray())
        if (paused !== undefined) await this.#pausedUntil(paused)
        if (this.#closed) break
      }
    } catch (err) {
      const name = err instanceof Error ? err.name : ''
      if (this.#quiesced) {
        // Stopping: what the peer sends now is neither handled nor charged.
      } else if (LENGTH_ERRORS.has(name)) {
        this.#handlers.onBadFrame(`frame over ${FRAME_BYTES_MAX} bytes or not length-prefixed`)
      } else if (name === 'StreamBufferError') {
        this.#handlers.onBadFrame(`over ${UNREAD_BYTES_MAX} bytes sent that nobody asked for`)
      }
    } finally {
      // Stopping, the peer's end (it stops too, or it read ours) leaves finish() to close once our queue is out.
      if (!this.#quiesced) this.close()
    }
  }

  async #pausedUntil (settled: Promise<void>): Promise<void> {
    if (this.#closed) return
    if (this.stream.readStatus === 'readable') this.stream.pause()
    await settled
    if (!this.#closed && this.stream.readStatus === 'paused') this.stream.resume()
  }

  /**
   * Its first frame is read only once `settled` settles: a peer over its bound of frames committed and not yet synced
   * (durable-gate.ts) gets no frame taken by connecting again, as onFrame's promise holds the frames after the first.
   */
  holdReadingUntil (settled: Promise<void>): void {
    this.#hold = settled
  }

  send (bytes: Uint8Array): void {
    if (this.#closed || this.#sealed) return
    this.#queue.push(bytes)
    this.queuedBytes += bytes.byteLength
    if (!this.#writing) void this.#flush()
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#queue = []
    this.queuedBytes = 0
    // Once finish() closed our end gracefully, a reset would race what we wrote: the peer might drop frames
    // it has received and not yet read. The connection's close ends the stream instead.
    if (this.stream.writeStatus !== 'closed') this.stream.abort(new Error('sync session closed'))
    // A session that ends while the node runs takes its connection with it, whatever ended it (a full disk, an error
    // out of onFrame, a failed write, the peer's end, a newer link that replaced it): only the dialler opens a
    // session, once per connection, and redial.ts does not dial a peer that is connected, so a link left open
    // without a session kept the pair connected and silent for good. Closed, both ends see the peer gone and
    // their redial schedules reconnect it on their backoff (a node that stays full is retried ever more slowly);
    // a banned peer stays refused by the connection gater. Stopping (quiesced), libp2p's stop closes it after
    // finish() let our queue out.
    if (!this.#quiesced) void this.connection.close().catch(() => {})
    this.#handlers.onClose()
  }

  /** The node is stopping: no frame read from now on is handed on (nor charged); what is queued is still written. */
  quiesce (): void {
    this.#quiesced = true
  }

  /**
   * The node is stopping: the frames queued so far are written, then our end
   * is closed as TCP closes (the peer reads them all, then the end), and the
   * session closes. `signal` bounds the wait: a peer that does not read
   * cannot hold a stop, and what it did not take is dropped as close() drops it.
   */
  async finish (signal: AbortSignal): Promise<void> {
    this.quiesce()
    const cutShort = signal.aborted ? Promise.resolve() : once(signal, 'abort').then(() => {})
    try {
      while (!this.#closed && !signal.aborted && (this.#writing || this.#queue.length > 0)) {
        await Promise.race([this.#flushed, cutShort])
      }
      if (!this.#closed && !signal.aborted) {
        this.#sealed = true
        await this.stream.close({ signal })
        // Written is not yet read: closing the connection now could cut off what the muxer still sends. The peer
        // reads every frame before it meets our end and then ends its session, so its close says it read them.
        const open = this.stream.status === 'open' || this.stream.status === 'closing'
        if (open) await once(this.stream, 'close', { signal })
      }
    } catch {
      // Cut short by the bound or by the stream: close() below drops the rest.
    } finally {
      this.close()
    }
  }

  get closed (): boolean {
    return this.#closed
  }

  async #flush (): Promise<void> {
    this.#writing = true
    let done = (): void => {}
    this.#flushed = new Promise(resolve => { done = resolve })
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const batch = this.#queue.splice(0, 64)
        let n = 0
        for (const b of batch) n += b.byteLength
        this.bytesOut += n
        await this.#lp.writeV(batch)
        if (!this.#closed) this.queuedBytes -= n
      }
    } catch {
      this.close()
    } finally {
      this.#writing = false
      done()
    }
  }
}

