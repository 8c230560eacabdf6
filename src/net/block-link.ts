import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { BlockAnswer, BlockCounters } from './blocks.ts'
import {
  ANSWER_FRAME_BYTES_MAX, BLOCK_FRAME_BYTES_MAX, OP_CANCEL, OP_GET, STATUS, answerFrameBytes, frameLength, putVarint,
  varintLength
} from './block-frames.ts'
import type { Uint8ArrayList } from './block-frames.ts'
import type { RateLimit } from './rate-limit.ts'
import { receivedCopy } from './received-buffers.ts'
import { capReading, paidPaused } from './yamux-window.ts'

/**
 * Answers the asker has not read yet, lpStream's own bound: a backstop only, as a link closes as soon as it holds
 * more than its requests asked for (#measure).
 */
const ANSWERS_UNREAD_BYTES_MAX = 96 * 1024 * 1024
/**
 * What all links together may hold beyond what their requests asked for: an answer bigger than the size its request
 * named (a record that named a real chunk with another size; its bytes still hash right) fits in one link's margin of
 * one frame, and two such at a time in all. An honest peer's answers, as asked, never use it.
 */
const BEYOND_ASKED_IN_ALL_MAX = 2 * ANSWER_FRAME_BYTES_MAX
let beyondAskedInAll = 0

interface Waiting {
  readonly resolve: (a: BlockAnswer) => void
  readonly reject: (e: Error) => void
  readonly hashHex: string
  readonly space: string
  /** The most its answer takes on the stream: the chunk of the size asked for, as a frame. */
  readonly frameBytes: number
  cancelled: boolean
}

/**
 * Why a link ended: `violation` names what the peer did against the protocol (bytes nobody asked for), for its
 * owner to charge; null when it ended for any other reason.
 */
type BlockLinkClosed = (violation: string | null) => void

/**
 * The asking side of one stream to one peer. Every byte that arrives is counted against what the waiting requests
 * asked for: a byte with no request waiting is a protocol violation (the link ends at once and its owner charges the
 * sender), and a link holding more than its requests asked for (plus one frame) ends too, so nothing a peer sends
 * between or beyond answers is kept unread.
 */
export class BlockLink {
  readonly #lp: LengthPrefixedStream<Stream>
  readonly #stream: Stream
  readonly #down: RateLimit
  readonly #counters: BlockCounters
  readonly #onClose: BlockLinkClosed
  readonly #waiting: Waiting[] = []
  readonly #outbox: Uint8Array[] = []
  #closed: Error | null = null
  #reading = false
  /** Answers are read into received buffers: its asker gives them back (BlockFetch does; received-buffers.ts). */
  readonly #intoReceived: boolean
  /** Bytes handed to the reader (the stream's 'message's) and not yet read as a frame. */
  #unread = 0
  /** What the waiting requests' answers may take on the stream, in all. */
  #owed = 0
  /** What of #unread is beyond #owed (counted in beyondAskedInAll). */
  #beyond = 0
  /** The length bytes of the frame read last (the decoder sees them). */
  #lengthBytes = 0

  /**
   * `intoReceived`: each answer's bytes are copied into a received buffer as soon as its frame is read, for an asker
   * that gives them back. Otherwise they come as the pieces they arrived in (a buffer never given back would only
   * add a fresh allocation and a copy per answer).
   */
  constructor (stream: Stream, down: RateLimit, counters: BlockCounters, onClose: BlockLinkClosed = () => {},
    intoReceived = false) {
    this.#intoReceived = intoReceived
    this.#onClose = onClose
    this.#stream = stream
    this.#down = down
    this.#counters = counters
    this.#lp = lpStream(stream, {
      maxDataLength: BLOCK_FRAME_BYTES_MAX,
      maxBufferSize: ANSWERS_UNREAD_BYTES_MAX,
      lengthDecoder: (bytes: Uint8ArrayList | Uint8Array) => {
        const length = frameLength(bytes)
        this.#lengthBytes = bytes.byteLength
        return length
      }
    })
    // After lpStream's own listener: both see each message as it is handed on (never while the stream is paused).
    stream.addEventListener('message', evt => { this.#arrived(evt.data.byteLength) })
    capReading(stream, down)
  }

  get closed (): boolean {
    return this.#closed !== null
  }

  /** Requests asked and not answered yet. */
  get waiting (): number {
    return this.#waiting.length
  }

  /** `size`: the chunk's size as its record says (its answer may take that much); unknown, the biggest chunk's. */
  request (space: string, hash: Uint8Array, size?: number): Promise<BlockAnswer> {
    if (this.#closed !== null) return Promise.reject(this.#closed)
    const spaceBytes = Buffer.from(space, 'utf8')
    const frame = new Uint8Array(33 + spaceBytes.length)
    frame[0] = OP_GET
    frame.set(hash, 1)
    frame.set(spaceBytes, 33)
    const frameBytes = size === undefined || !(size >= 0 && size < BLOCK_FRAME_BYTES_MAX)
      ? ANSWER_FRAME_BYTES_MAX
      : answerFrameBytes(size)
    const hashHex = Buffer.from(hash).toString('hex')
    const answer = new Promise<BlockAnswer>((resolve, reject) => {
      this.#waiting.push({ resolve, reject, hashHex, space, frameBytes, cancelled: false })
    })
    this.#owed += frameBytes
    this.#send(frame)
    if (!this.#reading) void this.#read()
    return answer
  }

  /**
   * Takes a request back: its answer is "cancelled", unless its bytes were already on their way. Only a request of
   * this space still unanswered here is named, and the cancel names its space as well as its hash, so it reaches no
   * other space's request of the same chunk on this stream (links are shared by every folder's pass).
   */
  cancel (space: string, hash: Uint8Array): void {
    if (this.#closed !== null) return
    const hashHex = Buffer.from(hash).toString('hex')
    const request = this.#waiting.find(w => !w.cancelled && w.hashHex === hashHex && w.space === space)
    if (request === undefined) return
    request.cancelled = true
    const spaceBytes = Buffer.from(space, 'utf8')
    const frame = new Uint8Array(33 + spaceBytes.length)
    frame[0] = OP_CANCEL
    frame.set(hash, 1)
    frame.set(spaceBytes, 33)
    this.#send(frame)
  }

  close (why: Error = new Error('block link closed')): void {
    this.#end(why, null)
  }

  #end (why: Error, violation: string | null): void {
    if (this.#closed !== null) return
    this.#closed = why
    beyondAskedInAll -= this.#beyond
    this.#beyond = 0
    this.#owed = 0
    this.#onClose(violation)
    this.#stream.abort(why)
    for (const w of this.#waiting.splice(0)) w.reject(why)
  }

  /** The peer broke the protocol: the link ends, and its owner is told what the peer did. */
  #violated (what: string): void {
    this.#end(new Error(`the peer ${what}`), what)
  }

  #arrived (bytes: number): void {
    if (this.#closed !== null) return
    this.#unread += bytes
    // Every answer asked for was read: these bytes answer nothing (and would wait, unread, for ever).
    if (this.#waiting.length === 0) {
      this.#violated(`sent ${this.#unread} bytes on a block stream with no request waiting`)
      return
    }
    this.#measure()
  }

  /** Ends the link if it holds more than its requests asked for, beyond one frame's margin (or the node's). */
  #measure (): void {
    const beyond = Math.max(0, this.#unread - this.#owed)
    beyondAskedInAll += beyond - this.#beyond
    this.#beyond = beyond
    if (beyond > ANSWER_FRAME_BYTES_MAX || (beyond > 0 && beyondAskedInAll > BEYOND_ASKED_IN_ALL_MAX)) {
      // Not charged: an answer bigger than asked may be a real chunk that a record gave another size.
      this.close(new Error(`the peer sent ${beyond} bytes more than the requests on its block stream asked for`))
    }
  }

  /**
   * Frames asked in one turn of the event loop go out in one write (a scheduler refills a pipeline a batch at a
   * time): one yamux frame, one TLS record and one read at the peer, rather than one of each per request.
   */
  #send (frame: Uint8Array): void {
    this.#outbox.push(frame)
    if (this.#outbox.length === 1) process.nextTick(() => { this.#flush() })
  }

  #flush (): void {
    const frames = this.#outbox.splice(0)
    if (this.#closed !== null || frames.length === 0) return
    let size = 0
    for (const f of frames) size += varintLength(f.length) + f.length
    const out = new Uint8Array(size)
    let at = 0
    for (const f of frames) {
      at = putVarint(out, at, f.length)
      out.set(f, at)
      at += f.length
    }
    try {
      // Requests are small, and the scheduler bounds how many are out: no need to wait for the stream to drain.
      this.#stream.send(out)
    } catch (err) {
      this.close(err instanceof Error ? err : new Error(String(err)))
    }
  }

  async #read (): Promise<void> {
    this.#reading = true
    try {
      while (this.#waiting.length > 0 && this.#closed === null) {
        const frame = await this.#lp.read()
        if (this.#closed !== null) return
        const waiter = this.#waiting.shift()
        if (waiter === undefined) throw new Error('an answer nobody asked for')
        this.#unread -= this.#lengthBytes + frame.byteLength
        this.#owed -= waiter.frameBytes
        this.#measure()
        const status = frame.get(0)
        if (status === STATUS.bytes) {
          const length = frame.byteLength - 1
          this.#counters.bytesIn += length
          this.#counters.blocksIn++
          // Copied out of the connection's read buffers at once, so that they die young (received-buffers.ts).
          const bytes = this.#intoReceived ? receivedCopy(piecesAfterStatus(frame), length) : piecesAfterStatus(frame)
          // --max-down: the next answer is not read until this one is paid for, the stream paused meanwhile.
          await paidPaused(this.#stream, this.#down, length)
          waiter.resolve(bytes)
        } else if (status === STATUS.missing) {
          waiter.resolve('missing')
        } else if (status === STATUS.denied) {
          waiter.resolve('denied')
        } else if (status === STATUS.cancelled) {
          waiter.resolve('cancelled')
        } else if (status === STATUS.changed) {
          waiter.resolve('changed')
        } else {
          throw new Error(`an answer with status ${String(status)}`)
        }
      }
      // Every answer asked for was read, and more came with the last one.
      if (this.#closed === null && this.#unread > 0) {
        this.#violated(`sent ${this.#unread} bytes on a block stream beyond the answers asked for`)
      }
    } catch (err) {
      this.close(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.#reading = false
    }
  }
}

/** An answer's bytes as the pieces they arrived in, less the status byte (no copy, no intermediate list). */
function piecesAfterStatus (frame: Uint8ArrayList): Uint8Array[] {
  const pieces: Uint8Array[] = []
  let skip = 1
  for (const piece of frame) {
    if (skip > 0 && piece.length <= skip) { skip -= piece.length; continue }
    pieces.push(skip > 0 ? piece.subarray(skip) : piece)
    skip = 0
  }
  return pieces
}
