/**
 * The buffers a node reads chunks into to serve them to peers, used again
 * once a block stream has proven the bytes gone (net/blocks.ts): files/
 * takes one per chunk it serves (ChunkIndex.serve), net/ gives it back.
 * A fresh buffer per chunk served was 1 GiB of ArrayBuffers per GiB sent,
 * and the sender ran ~60 full collections per GiB for it (why, and the rule
 * that keeps reuse safe: buffer-pool.ts).
 */
import { BufferPool } from './buffer-pool.ts'

/**
 * Free buffers kept, in bytes in all: about what the answers in flight on a busy link use (measured: with 16 MiB a
 * third of the buffers were still new ones, as answers come back in bursts), no more; net/ drops them all when
 * serving pauses (dropFreeServedBuffers), so an idle node keeps none.
 */
const FREE_BYTES_MAX = 48 * 1024 * 1024

const served = new BufferPool(FREE_BYTES_MAX)

/** A buffer of exactly `size` bytes (contents undefined): the smallest free one it fits in, else a new one. */
export function takeServedBuffer (size: number): Uint8Array {
  return served.take(size)
}

/** `bytes` (from takeServedBuffer) is read by nothing any more: it may be given out again. */
export function giveBackServedBuffer (bytes: Uint8Array): void {
  served.giveBack(bytes)
}

/** Whether `bytes` lies in a buffer of this pool (its holder must give it back, or let it go). */
export function isServedBuffer (bytes: Uint8Array): boolean {
  return served.owns(bytes)
}

/** Lets every free buffer go (serving paused): an idle node holds none. */
export function dropFreeServedBuffers (): void {
  served.dropFree()
}
