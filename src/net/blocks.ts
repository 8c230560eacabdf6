import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { AVG_BYTES_MAX } from '../blocks/index.ts'
import type { RateLimit } from './rate-limit.ts'

/**
 * The block protocol: a peer asks for file chunks by hash, within one
 * shared space, and gets each chunk's bytes, "missing" or "denied", in the
 * order it asked (so requests pipeline on one stream). The asker verifies
 * every chunk against its hash (block-fetch.ts); the server reads it from
 * its own files and checks it too, so a file changed behind its back is
 * answered "missing", not with wrong bytes.
 *
 *   request:  hash (32 bytes) || space key (UTF-8)
 *   answer:   status (1 byte: 0 bytes follow, 1 missing, 2 denied) || bytes
 */
export const BLOCK_PROTOCOL = '/samepage/blocks/1.0.0'
/** The biggest chunk (4 × the biggest average, blocks/chunkingFor) plus the status byte. */
export const BLOCK_FRAME_BYTES_MAX = 4 * AVG_BYTES_MAX + 1
const REQUEST_BYTES_MAX = 32 + 256
/** Streams a node opens to one peer for chunks: more bytes in flight than one stream's window holds. */
export const BLOCK_LINKS_PER_PEER = 2
/** Inbound per connection: the peer's links, and spares for a reconnect race. */
export const BLOCK_STREAMS_PER_CONNECTION_MAX = 2 * BLOCK_LINKS_PER_PEER
/** Answers the asker has not read yet: its pipeline is at most a few hundred ms of transfer. */
const ANSWERS_UNREAD_BYTES_MAX = 96 * 1024 * 1024

export type BlockAnswer = Uint8Array | 'missing' | 'denied'
/** Finds a chunk for a peer: checks it is a member of the space and reads the bytes (or says why not). */
export type BlockProvider = (author: string, space: string, hash: Uint8Array) => Promise<BlockAnswer>

export interface BlockCounters { bytesIn: number, bytesOut: number, blocksIn: number, blocksOut: number }

/** The asking side of one stream to one peer. */
export class BlockLink {
  readonly #lp: LengthPrefixedStream<Stream>
  readonly #stream: Stream
  readonly #down: RateLimit
  readonly #counters: BlockCounters
  readonly #waiting: { resolve: (a: BlockAnswer) => void, reject: (e: Error) => void }[] = []
  #closed: Error | null = null
  #reading = false

  readonly #onClose: () => void

  constructor (stream: Stream, down: RateLimit, counters: BlockCounters, onClose: () => void = () => {}) {
    this.#onClose = onClose
    this.#stream = stream
    this.#down = down
    this.#counters = counters
    this.#lp = lpStream(stream, { maxDataLength: BLOCK_FRAME_BYTES_MAX, maxBufferSize: ANSWERS_UNREAD_BYTES_MAX })
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
    const frame = new Uint8Array(32 + Buffer.byteLength(space))
    frame.set(hash, 0)
    frame.set(Buffer.from(space, 'utf8'), 32)
    const answer = new Promise<BlockAnswer>((resolve, reject) => { this.#waiting.push({ resolve, reject }) })
    this.#lp.write(frame).catch(err => { this.close(err as Error) })
    if (!this.#reading) void this.#read()
    return answer
  }

  close (why: Error = new Error('block link closed')): void {
    if (this.#closed !== null) return
    this.#closed = why
    this.#onClose()
    this.#stream.abort(why)
    for (const w of this.#waiting.splice(0)) w.reject(why)
  }

  async #read (): Promise<void> {
    this.#reading = true
    try {
      while (this.#waiting.length > 0 && this.#closed === null) {
        const frame = (await this.#lp.read()).subarray()
        const waiter = this.#waiting.shift()
        if (waiter === undefined) throw new Error('an answer nobody asked for')
        const status = frame[0]
        if (status === 0) {
          const bytes = frame.subarray(1)
          this.#counters.bytesIn += bytes.length
          this.#counters.blocksIn++
          // --max-down: the next answer is not read until this one's bytes are paid for (TCP pushes back on the sender).
          await this.#down.take(bytes.length)
          waiter.resolve(bytes)
        } else if (status === 1 || status === 2) {
          waiter.resolve(status === 1 ? 'missing' : 'denied')
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

/** Requests read from disk ahead of the one being sent: the disk read and hash of the next overlap the sending of this one. */
const SERVE_AHEAD = 4

/** The answering side: answers in the order asked, each read from disk and paid for (--max-up) before it is sent. */
export async function serveBlocks (stream: Stream, author: string, provider: BlockProvider, up: RateLimit, counters: BlockCounters): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: REQUEST_BYTES_MAX })
  const ahead: Promise<BlockAnswer>[] = []
  let wake: (() => void) | null = null
  let ended = false
  const reading = (async () => {
    try {
      for (;;) {
        while (ahead.length >= SERVE_AHEAD) await new Promise<void>(resolve => { wake = resolve })
        const req = (await lp.read()).subarray()
        if (req.length < 33) throw new Error('a block request without a hash and a space')
        const answer = provider(author, Buffer.from(req.subarray(32)).toString('utf8'), req.slice(0, 32))
        answer.catch(() => {})
        ahead.push(answer)
        const w = wake as (() => void) | null
        wake = null
        w?.()
      }
    } finally {
      ended = true
      const w = wake as (() => void) | null
      w?.()
    }
  })()
  reading.catch(() => {})
  try {
    for (;;) {
      while (ahead.length === 0 && !ended) await new Promise<void>(resolve => { wake = resolve })
      const next = ahead.shift()
      if (next === undefined) break
      const w = wake as (() => void) | null
      wake = null
      w?.()
      const answer = await next
      if (answer instanceof Uint8Array) {
        await up.take(answer.length)
        const frame = new Uint8Array(answer.length + 1)
        frame.set(answer, 1)
        await lp.write(frame)
        counters.bytesOut += answer.length
        counters.blocksOut++
      } else {
        await lp.write(Uint8Array.of(answer === 'missing' ? 1 : 2))
      }
    }
  } catch {
    // The asker went away, or a read failed: the stream ends.
  } finally {
    stream.abort(new Error('block stream ended'))
  }
}
