import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { AVG_BYTES_MAX, giveBackServedBuffer, isServedBuffer } from '../blocks/index.ts'
import type { RateLimit } from './rate-limit.ts'
import { drained } from './drained.ts'
import { answerSent, servingPaused } from './served-gone.ts'
import { receivedCopy } from './received-buffers.ts'
import type { SentBarrier } from './served-gone.ts'
import { capReading, paidPaused } from './yamux-window.ts'

/**
 * The block protocol: a peer asks for file chunks by hash, within one
 * shared space, and gets one answer per request, in the order it asked (so
 * requests pipeline on one stream): the chunk's bytes, "missing", "denied"
 * (not a member of the space, or a space this node does not hold: a
 * stranger learns nothing), "cancelled" when the asker took the request
 * back before its bytes were sent (an endgame copy that lost, a request
 * asked elsewhere after a timeout), so a cancel saves the upload, or
 * "changed" when the server indexed the chunk but the file moved on since
 * its scan (the server checks every chunk it reads against its scan before
 * it sends it, and rescans that file). Status 0 is the sender's word that the bytes are
 * right: the asker verifies every chunk against its hash and blames only
 * those (block-fetch.ts); the other answers cost the sender nothing.
 *
 *   request:  1 || hash (32 bytes) || space key (UTF-8)
 *   cancel:   2 || hash (32 bytes)
 *   answer:   status (1 byte: 0 bytes follow, 1 missing, 2 denied, 3 cancelled, 4 changed) || bytes
 */
export const BLOCK_PROTOCOL = '/samepage/blocks/1.0.0'
/** The biggest chunk (4 × the biggest average, blocks/chunkingFor) plus the status byte. */
const BLOCK_FRAME_BYTES_MAX = 4 * AVG_BYTES_MAX + 1
const REQUEST_BYTES_MAX = 1 + 32 + 256
/** Requests a server holds for one stream; the scheduler's pipelines stay well under it. */
const QUEUED_REQUESTS_MAX = 512
/** Streams a node opens to one peer for chunks: more bytes in flight than one stream's window holds. */
export const BLOCK_LINKS_PER_PEER = 2
/** Inbound per connection: the peer's links, and spares for a reconnect race. */
export const BLOCK_STREAMS_PER_CONNECTION_MAX = 2 * BLOCK_LINKS_PER_PEER
/** Answers the asker has not read yet: its pipeline is at most a few hundred ms of transfer. */
const ANSWERS_UNREAD_BYTES_MAX = 96 * 1024 * 1024
/** Requests read from disk ahead of the one being sent: the read of the next overlaps the sending of this one. */
const SERVE_AHEAD = 4
/** Answers in served buffers proven gone together (one barrier for them). */
const GIVE_BACK_BATCH = 4

const OP_GET = 1
const OP_CANCEL = 2
/** A varint of the biggest frame (16 MiB and the status byte) takes 4 bytes. */
const FRAME_LENGTH_BYTES_MAX = 4
/** What lpStream reads into (uint8arraylist's list, named through @libp2p/utils, the dependency this file has). */
type Uint8ArrayList = Awaited<ReturnType<LengthPrefixedStream<Stream>['read']>>
const LENGTH_NEEDS_MORE = new RangeError('a frame length needs more bytes')
const STATUS = { bytes: 0, missing: 1, denied: 2, cancelled: 3, changed: 4 } as const

/** What a server answers for a request it did not see cancelled. */
export type BlockServed = Uint8Array | 'missing' | 'denied' | 'changed'
/**
 * What the asker gets: a chunk's bytes in one received buffer (a link made `intoReceived`; received-buffers.ts: its
 * holder may give it back once nothing reads it), or as the pieces they arrived in.
 */
export type BlockAnswer = BlockServed | readonly Uint8Array[] | 'cancelled'
/** Finds a chunk for a peer: checks it is a member of the space and reads the bytes (or says why not). */
export type BlockProvider = (author: string, space: string, hash: Uint8Array) => Promise<BlockServed>

/** `changed`: requests this node answered "changed" (a file that moved on since its scan). */
export interface BlockCounters {
  bytesIn: number
  bytesOut: number
  blocksIn: number
  blocksOut: number
  cancelled: number
  changed: number
}

/** The asking side of one stream to one peer. */
export class BlockLink {
  readonly #lp: LengthPrefixedStream<Stream>
  readonly #stream: Stream
  readonly #down: RateLimit
  readonly #counters: BlockCounters
  readonly #onClose: () => void
  readonly #waiting: { resolve: (a: BlockAnswer) => void, reject: (e: Error) => void }[] = []
  readonly #outbox: Uint8Array[] = []
  #closed: Error | null = null
  #reading = false
  /** Answers are read into received buffers: its asker gives them back (BlockFetch does; received-buffers.ts). */
  readonly #intoReceived: boolean

  /**
   * `intoReceived`: each answer's bytes are copied into a received buffer as soon as its frame is read, for an asker
   * that gives them back. Otherwise they come as the pieces they arrived in (a buffer never given back would only
   * add a fresh allocation and a copy per answer).
   */
  constructor (stream: Stream, down: RateLimit, counters: BlockCounters, onClose: () => void = () => {},
    intoReceived = false) {
    this.#intoReceived = intoReceived
    this.#onClose = onClose
    this.#stream = stream
    this.#down = down
    this.#counters = counters
    this.#lp = lpStream(stream, {
      maxDataLength: BLOCK_FRAME_BYTES_MAX, maxBufferSize: ANSWERS_UNREAD_BYTES_MAX, lengthDecoder: frameLength
    })
    capReading(stream, down)
  }

  get closed (): boolean {
    return this.#closed !== null
  }

  /** Requests asked and not answered yet. */
  get waiting (): number {
    return this.#waiting.length
  }

  request (space: string, hash: Uint8Array): Promise<BlockAnswer> {
    if (this.#closed !== null) return Promise.reject(this.#closed)
    const frame = new Uint8Array(33 + Buffer.byteLength(space))
    frame[0] = OP_GET
    frame.set(hash, 1)
    frame.set(Buffer.from(space, 'utf8'), 33)
    const answer = new Promise<BlockAnswer>((resolve, reject) => { this.#waiting.push({ resolve, reject }) })
    this.#send(frame)
    if (!this.#reading) void this.#read()
    return answer
  }

  /** Takes a request back: its answer is "cancelled", unless its bytes were already on their way. */
  cancel (hash: Uint8Array): void {
    if (this.#closed !== null) return
    const frame = new Uint8Array(33)
    frame[0] = OP_CANCEL
    frame.set(hash, 1)
    this.#send(frame)
  }

  close (why: Error = new Error('block link closed')): void {
    if (this.#closed !== null) return
    this.#closed = why
    this.#onClose()
    this.#stream.abort(why)
    for (const w of this.#waiting.splice(0)) w.reject(why)
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
        const waiter = this.#waiting.shift()
        if (waiter === undefined) throw new Error('an answer nobody asked for')
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
    } catch (err) {
      this.close(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.#reading = false
    }
  }
}

interface Queued {
  readonly hashHex: string
  readonly space: string
  readonly hash: Uint8Array
  cancelled: boolean
  answer: Promise<BlockServed> | null
}

/**
 * The answering side of one stream: requests are queued as they come (so a
 * cancel can reach one still waiting), the first SERVE_AHEAD read from disk
 * ahead, and answered in order, each paid for (--max-up) before it is sent.
 * A chunk read into a served buffer (blocks/served-buffers.ts) is given back
 * once `sent` proves its bytes gone (a few answers at a time); one that
 * cannot be proven so (no `sent` for this connection, the stream ends
 * first) is left to the collector.
 */
export async function serveBlocks (
  stream: Stream, author: string, provider: BlockProvider, up: RateLimit, counters: BlockCounters,
  sent: SentBarrier | null = null
): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: REQUEST_BYTES_MAX, lengthDecoder: frameLength })
  const queue: Queued[] = []
  let wake: (() => void) | null = null
  let ended = false
  const poke = (): void => { const w = wake; wake = null; w?.() }
  /** Bytes of every frame sent on the stream so far (the stream holds the last `writeBufferLength` of them). */
  let sentBytes = 0
  const send = (...parts: Uint8Array[]): Promise<void> => {
    for (const part of parts) sentBytes += part.length
    return sendFrame(stream, ...parts)
  }
  /** Answers sent in served buffers, not yet proven gone, with where each ends in the stream's bytes. */
  const sending: { bytes: Uint8Array, end: number }[] = []
  const giveBack = (least: number): void => {
    if (sent === null) return
    // Passed down to the muxer: what the stream no longer holds.
    const handed = sentBytes - stream.writeBufferLength
    let n = 0
    while (n < sending.length && (sending[n] as { end: number }).end <= handed) n++
    if (n < least) return
    const batch = sending.splice(0, n)
    const out = sent()
    // The connection is closing: they go to the collector.
    if (out === null) return
    void out.then(gone => {
      if (gone) for (const { bytes } of batch) giveBackServedBuffer(bytes)
    })
  }
  const startReads = (): void => {
    for (const q of queue.slice(0, SERVE_AHEAD)) {
      if (q.answer === null && !q.cancelled) {
        q.answer = provider(author, q.space, q.hash)
        q.answer.catch(() => {})
      }
    }
  }
  const reading = (async () => {
    try {
      for (;;) {
        const frame = (await lp.read()).subarray()
        const op = frame[0]
        if (frame.length < 33 || (op !== OP_GET && op !== OP_CANCEL)) throw new Error('not a block request')
        const hashHex = Buffer.from(frame.subarray(1, 33)).toString('hex')
        if (op === OP_CANCEL) {
          const q = queue.find(x => x.hashHex === hashHex && !x.cancelled)
          if (q !== undefined) q.cancelled = true
          continue
        }
        if (queue.length >= QUEUED_REQUESTS_MAX) throw new Error(`over ${QUEUED_REQUESTS_MAX} requests queued`)
        const space = Buffer.from(frame.subarray(33)).toString('utf8')
        queue.push({ hashHex, space, hash: frame.slice(1, 33), cancelled: false, answer: null })
        startReads()
        poke()
      }
    } finally {
      ended = true
      poke()
    }
  })()
  reading.catch(() => {})
  try {
    for (;;) {
      if (queue.length === 0) {
        // Nothing asked: the last answers are proven gone now, not after the next ones.
        giveBack(1)
        servingPaused()
      }
      while (queue.length === 0 && !ended) await new Promise<void>(resolve => { wake = resolve })
      const q = queue[0]
      if (q === undefined) break
      const answer = q.cancelled ? 'cancelled' : await (q.answer ?? provider(author, q.space, q.hash))
      queue.shift()
      startReads()
      if (answer instanceof Uint8Array) {
        await up.take(answer.length)
        // Cancelled while it waited for its turn at the rate limit: the bytes stay here.
        if (q.cancelled) {
          // Read and hashed here, seen by no one else.
          if (isServedBuffer(answer)) giveBackServedBuffer(answer)
          await send(answerHead(STATUS.cancelled, 0))
          counters.cancelled++
          continue
        }
        // The chunk goes out as it was read, after its own head: never copied into a frame.
        const framed = send(answerHead(STATUS.bytes, answer.length), answer)
        if (sent !== null && isServedBuffer(answer)) sending.push({ bytes: answer, end: sentBytes })
        giveBack(GIVE_BACK_BATCH)
        await framed
        counters.bytesOut += answer.length
        counters.blocksOut++
        answerSent()
      } else {
        if (answer === 'cancelled') counters.cancelled++
        if (answer === 'changed') counters.changed++
        await send(answerHead(STATUS[answer], 0))
      }
    }
  } catch {
    // The asker went away, or a read failed: the stream ends.
  } finally {
    stream.abort(new Error('block stream ended'))
  }
}

/** The head of an answer frame: its length as lpStream reads it (a varint, status byte included), the status. */
function answerHead (status: number, bytesLength: number): Uint8Array {
  const head = new Uint8Array(varintLength(bytesLength + 1) + 1)
  head[putVarint(head, 0, bytesLength + 1)] = status
  return head
}

/**
 * lpStream reads a frame's length a byte at a time and asks again while its decoder throws a RangeError. The
 * library's decoder builds a new RangeError (with its stack) for each byte short, twice for every chunk's 3-byte
 * length; this one throws one made once. A length that runs on past FRAME_LENGTH_BYTES_MAX bytes ends the stream
 * (the library's check comes only after a length decoded, so an endless varint would be read on).
 */
function frameLength (bytes: Uint8ArrayList | Uint8Array): number {
  let value = 0
  let read = 0
  for (const piece of isList(bytes) ? bytes : [bytes]) {
    for (const b of piece) {
      value += (b & 0x7f) * 2 ** (7 * read++)
      if (b < 0x80) return value
      if (read >= FRAME_LENGTH_BYTES_MAX) throw new Error(`a frame length over ${FRAME_LENGTH_BYTES_MAX} bytes`)
    }
  }
  throw LENGTH_NEEDS_MORE
}

function isList (bytes: Uint8ArrayList | Uint8Array): bytes is Uint8ArrayList {
  return !(bytes instanceof Uint8Array)
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

function varintLength (n: number): number {
  let length = 1
  for (; n >= 0x80; n >>>= 7) length++
  return length
}

/** Writes `n` as an unsigned varint at `at`; returns where it ends. */
function putVarint (out: Uint8Array, at: number, n: number): number {
  for (; n >= 0x80; n >>>= 7) out[at++] = (n & 0x7f) | 0x80
  out[at++] = n
  return at
}

/** One frame in parts, sent in order without being copied together; resolves once the stream takes more. */
async function sendFrame (stream: Stream, ...parts: Uint8Array[]): Promise<void> {
  let more = true
  for (const part of parts) more = stream.send(part)
  if (!more) await drained(stream)
}
