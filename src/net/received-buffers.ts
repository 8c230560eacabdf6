/**
 * The buffers received chunks are read into (net/blocks.ts BlockLink), used
 * again once the pass's writers are done with them (net/block-fetch.ts).
 *
 * Why: the connection delivers a chunk in Node's own read buffers (a fresh
 * 16 KiB per TLS record). Kept as they came until the chunk was written, they
 * outlived the young generation's scavenges and counted as old-generation
 * growth (blocks/buffer-pool.ts): the receiver ran ~50 full collections per
 * GiB, each marking its whole heap. Copied out as soon as the answer's frame
 * is read, they die young, and the copy's buffer is reused.
 *
 * Copied any later (in BlockFetch, a few promise hops on) the full
 * collections stayed at 48-52 per GiB (measured, one run each); copied in
 * the frame's read they fell to 4-10.
 */
import { BufferPool } from '../blocks/index.ts'

/** Free buffers kept, in bytes in all: about what the chunk writes in flight hold on a fast link. */
const FREE_BYTES_MAX = 32 * 1024 * 1024
/** Free buffers are dropped once no fetch was open for this long: an idle node keeps none. */
const KEPT_IDLE_MS = 2_000

export const receivedBuffers = new BufferPool(FREE_BYTES_MAX)

let fetchesOpen = 0
let dropTimer: NodeJS.Timeout | undefined

/** A pass's fetch opened: its chunks will take buffers. */
export function receivingOpened (): void {
  fetchesOpen++
}

/** A pass's fetch closed (its writers may still give buffers back). */
export function receivingClosed (): void {
  fetchesOpen--
  receivedBufferBack()
}

/** A buffer came back: with no fetch open, the free ones go after a while. */
export function receivedBufferBack (): void {
  if (dropTimer !== undefined || fetchesOpen > 0) return
  dropTimer = setTimeout(() => {
    dropTimer = undefined
    if (fetchesOpen === 0) receivedBuffers.dropFree()
  }, KEPT_IDLE_MS)
  dropTimer.unref()
}

/** `pieces` in one buffer of the pool. */
export function receivedCopy (pieces: Iterable<Uint8Array>, length: number): Uint8Array {
  const out = receivedBuffers.take(length)
  let at = 0
  for (const p of pieces) {
    out.set(p, at)
    at += p.length
  }
  return out
}
