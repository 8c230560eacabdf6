import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { giveBackServedBuffer, isServedBuffer } from '../blocks/index.ts'
import type { RateLimit } from './rate-limit.ts'
import { drained } from './drained.ts'
import { answerSent, servingPaused } from './served-gone.ts'
import type { SentBarrier } from './served-gone.ts'
import { OP_CANCEL, OP_GET, STATUS, answerHead, frameLength } from './block-frames.ts'

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
 * those (block-fetch.ts); the other answers cost the sender nothing. The
 * asking side is block-link.ts; the framing both share, block-frames.ts.
 *
 *   request:  1 || hash (32 bytes) || space key (UTF-8)
 *   cancel:   2 || hash (32 bytes) || space key (UTF-8)
 *   answer:   status (1 byte: 0 bytes follow, 1 missing, 2 denied, 3 cancelled, 4 changed) || bytes
 *
 * A cancel names the space of the request it takes back: links are shared by every space's pass, and a cancel of
 * one space's request must not reach another's of the same chunk. A cancel of an earlier version names only the
 * hash (and a server of an earlier version reads only the hash): it takes back the first request of that chunk
 * still queued, whatever its space.
 */
export const BLOCK_PROTOCOL = '/samepage/blocks/1.0.0'
const REQUEST_BYTES_MAX = 1 + 32 + 256
/** Requests a server holds for one stream; the scheduler's pipelines stay well under it. */
const QUEUED_REQUESTS_MAX = 512
/** Streams a node opens to one peer for chunks: more bytes in flight than one stream's window holds. */
export const BLOCK_LINKS_PER_PEER = 2
/** Inbound per connection: the peer's links, and spares for a reconnect race. */
export const BLOCK_STREAMS_PER_CONNECTION_MAX = 2 * BLOCK_LINKS_PER_PEER
/** Requests read from disk ahead of the one being sent: the read of the next overlaps the sending of this one. */
const SERVE_AHEAD = 4
/** Answers in served buffers proven gone together (one barrier for them). */
const GIVE_BACK_BATCH = 4

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
        const space = Buffer.from(frame.subarray(33)).toString('utf8')
        if (op === OP_CANCEL) {
          // No space named: an asker of an earlier version, whose cancel names the hash alone.
          const q = queue.find(x => x.hashHex === hashHex && !x.cancelled && (space === '' || x.space === space))
          if (q !== undefined) q.cancelled = true
          continue
        }
        if (queue.length >= QUEUED_REQUESTS_MAX) throw new Error(`over ${QUEUED_REQUESTS_MAX} requests queued`)
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

/** One frame in parts, sent in order without being copied together; resolves once the stream takes more. */
async function sendFrame (stream: Stream, ...parts: Uint8Array[]): Promise<void> {
  let more = true
  for (const part of parts) more = stream.send(part)
  if (!more) await drained(stream)
}
