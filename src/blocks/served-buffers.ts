/**
 * The buffers a node reads chunks into to serve them to peers, used again
 * once a block stream has proven the bytes gone (net/blocks.ts): files/
 * takes one per chunk it serves (ChunkIndex.serve), net/ gives it back.
 *
 * Why: a fresh buffer per chunk served is 1 GiB of ArrayBuffers per GiB
 * sent. V8 counts ArrayBuffer bytes allocated since its last full
 * collection as old-generation growth, and with the daemon's young
 * generation held small (lib/daemon-v8.js) the buffers that wait in the
 * send queues outlive a scavenge or two: the sender ran ~60 full
 * collections per GiB for ~9 MB of that each (measured, issue 14).
 *
 * The rule that keeps it safe: a buffer comes back only from its one
 * holder, once nothing else can read it (a stream that proved the bytes
 * handed to TLS, or a read found stale before anyone saw it); one not
 * given back is simply collected. Only buffers born here are taken back,
 * each at most once until it is taken again.
 */

/**
 * Free buffers kept, in bytes in all: about what the answers in flight on a busy link use (measured: with 16 MiB a
 * third of the buffers were still new ones, as answers come back in bursts), no more; net/ drops them all when
 * serving pauses (dropFreeServedBuffers), so an idle node keeps none.
 */
const FREE_BYTES_MAX = 48 * 1024 * 1024
/**
 * Capacities are powers of two from here: content-defined chunks vary in size, and a buffer serves a smaller one, down
 * to half its capacity (an answer waiting in a send queue holds its whole buffer: never many times its bytes). Smaller
 * chunks (small files) take Node's own buffers, cut from its shared slab.
 */
const CAPACITY_MIN = 4 * 1024

const born = new WeakSet<ArrayBuffer>()
/** Oldest first. */
const free: ArrayBuffer[] = []
const freeSet = new Set<ArrayBuffer>()
let freeBytes = 0

/** A buffer of exactly `size` bytes (contents undefined): the smallest free one it fits in, else a new one. */
export function takeServedBuffer (size: number): Uint8Array {
  if (size < CAPACITY_MIN) return Buffer.allocUnsafe(size)
  let best = -1
  for (let i = 0; i < free.length; i++) {
    const capacity = (free[i] as ArrayBuffer).byteLength
    const fits = capacity >= size && capacity <= 2 * size
    if (fits && (best < 0 || capacity < (free[best] as ArrayBuffer).byteLength)) best = i
  }
  if (best >= 0) {
    const b = free[best] as ArrayBuffer
    free.splice(best, 1)
    freeSet.delete(b)
    freeBytes -= b.byteLength
    return new Uint8Array(b, 0, size)
  }
  let capacity = CAPACITY_MIN
  while (capacity < size) capacity *= 2
  // Not zeroed (every byte served is read from the file first), nor cut from Node's shared pool.
  const b = Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer
  born.add(b)
  return new Uint8Array(b, 0, size)
}

/** `bytes` (from takeServedBuffer) is read by nothing any more: it may be given out again. */
export function giveBackServedBuffer (bytes: Uint8Array): void {
  const b = bytes.buffer as ArrayBuffer
  if (!born.has(b) || freeSet.has(b) || bytes.byteOffset !== 0) return
  // Over the bound, the oldest free ones go (to the collector).
  while (free.length > 0 && freeBytes + b.byteLength > FREE_BYTES_MAX) {
    const old = free.shift() as ArrayBuffer
    freeSet.delete(old)
    freeBytes -= old.byteLength
  }
  if (b.byteLength > FREE_BYTES_MAX) return
  free.push(b)
  freeSet.add(b)
  freeBytes += b.byteLength
}

/** Whether `bytes` lies in a buffer of this pool (its holder must give it back, or let it go). */
export function isServedBuffer (bytes: Uint8Array): boolean {
  return born.has(bytes.buffer as ArrayBuffer)
}

/** Lets every free buffer go (serving paused): an idle node holds none. */
export function dropFreeServedBuffers (): void {
  free.length = 0
  freeSet.clear()
  freeBytes = 0
}
