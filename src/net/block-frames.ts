import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { AVG_BYTES_MAX } from '../blocks/index.ts'

/** The framing both sides of the block protocol (blocks.ts) share: lengths, opcodes, statuses. */

/** The biggest chunk (4 × the biggest average, blocks/chunkingFor) plus the status byte. */
export const BLOCK_FRAME_BYTES_MAX = 4 * AVG_BYTES_MAX + 1
export const OP_GET = 1
export const OP_CANCEL = 2
export const STATUS = { bytes: 0, missing: 1, denied: 2, cancelled: 3, changed: 4 } as const
/** A varint of the biggest frame (16 MiB and the status byte) takes 4 bytes. */
const FRAME_LENGTH_BYTES_MAX = 4
/** What lpStream reads into (uint8arraylist's list, named through @libp2p/utils, the dependency this file has). */
export type Uint8ArrayList = Awaited<ReturnType<LengthPrefixedStream<Stream>['read']>>
const LENGTH_NEEDS_MORE = new RangeError('a frame length needs more bytes')

/** The bytes an answer of a chunk of `size` bytes takes on the stream, its length and status byte included. */
export function answerFrameBytes (size: number): number {
  return varintLength(size + 1) + size + 1
}

/** The most an answer may take on the stream: the biggest chunk's. */
export const ANSWER_FRAME_BYTES_MAX = varintLength(BLOCK_FRAME_BYTES_MAX) + BLOCK_FRAME_BYTES_MAX

/** The head of an answer frame: its length as lpStream reads it (a varint, status byte included), the status. */
export function answerHead (status: number, bytesLength: number): Uint8Array {
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
export function frameLength (bytes: Uint8ArrayList | Uint8Array): number {
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

export function varintLength (n: number): number {
  let length = 1
  for (; n >= 0x80; n >>>= 7) length++
  return length
}

/** Writes `n` as an unsigned varint at `at`; returns where it ends. */
export function putVarint (out: Uint8Array, at: number, n: number): number {
  for (; n >= 0x80; n >>>= 7) out[at++] = (n & 0x7f) | 0x80
  out[at++] = n
  return at
}
