/**
 * Chunk-sized buffers used again once their one holder says nothing reads
 * them any more (blocks/served-buffers.ts for chunks served; net/'s
 * BlockFetch for chunks received).
 *
 * Why: V8 counts the bytes of ArrayBuffers allocated since its last full
 * collection as old-generation growth, and with the daemon's young
 * generation held small (lib/daemon-v8.js) a chunk that waits for a send or a
 * disk write outlives a scavenge or two. A fresh buffer per chunk was a full
 * collection for about every 9 MB moved (measured, issue 14): ~60 per GiB on
 * each side, each marking the whole heap.
 *
 * The rule that keeps it safe: a buffer comes back only from its holder,
 * once nothing else can read it; one not given back is simply collected.
 * Only buffers born in this pool are taken back, each at most once until it
 * is taken again.
 */

/**
 * Capacities are powers of two from here: content-defined chunks vary in size, and a buffer serves a smaller one, down
 * to half its capacity (a chunk held holds its whole buffer: never many times its bytes). Smaller chunks (small files)
 * take Node's own buffers, cut from its shared slab.
 */
const CAPACITY_MIN = 4 * 1024

export class BufferPool {
  /** Free buffers kept, in bytes in all; past it the oldest free ones go to the collector. */
  readonly #freeBytesMax: number
  readonly #born = new WeakSet<ArrayBuffer>()
  /** Oldest first. */
  readonly #free: ArrayBuffer[] = []
  readonly #freeSet = new Set<ArrayBuffer>()
  #freeBytes = 0

  constructor (freeBytesMax: number) {
    this.#freeBytesMax = freeBytesMax
  }

  /** Bytes held free now. */
  get freeBytes (): number {
    return this.#freeBytes
  }

  /** A buffer of exactly `size` bytes (contents undefined): the smallest free one it fits in, else a new one. */
  take (size: number): Uint8Array {
    if (size < CAPACITY_MIN) return Buffer.allocUnsafe(size)
    let best = -1
    for (let i = 0; i < this.#free.length; i++) {
      const capacity = (this.#free[i] as ArrayBuffer).byteLength
      const fits = capacity >= size && capacity <= 2 * size
      if (fits && (best < 0 || capacity < (this.#free[best] as ArrayBuffer).byteLength)) best = i
    }
    if (best >= 0) {
      const b = this.#free[best] as ArrayBuffer
      this.#free.splice(best, 1)
      this.#freeSet.delete(b)
      this.#freeBytes -= b.byteLength
      return new Uint8Array(b, 0, size)
    }
    let capacity = CAPACITY_MIN
    while (capacity < size) capacity *= 2
    // Not zeroed (every byte is written before it is read), nor cut from Node's shared pool.
    const b = Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer
    this.#born.add(b)
    return new Uint8Array(b, 0, size)
  }

  /** `bytes` (from take) is read by nothing any more: it may be given out again. */
  giveBack (bytes: Uint8Array): void {
    const b = bytes.buffer as ArrayBuffer
    if (!this.#born.has(b) || this.#freeSet.has(b) || bytes.byteOffset !== 0) return
    while (this.#free.length > 0 && this.#freeBytes + b.byteLength > this.#freeBytesMax) {
      const old = this.#free.shift() as ArrayBuffer
      this.#freeSet.delete(old)
      this.#freeBytes -= old.byteLength
    }
    if (b.byteLength > this.#freeBytesMax) return
    this.#free.push(b)
    this.#freeSet.add(b)
    this.#freeBytes += b.byteLength
  }

  /** Whether `bytes` lies in a buffer of this pool (its holder must give it back, or let it go). */
  owns (bytes: Uint8Array): boolean {
    return this.#born.has(bytes.buffer as ArrayBuffer)
  }

  /** Lets every free buffer go (the pool's user paused): an idle node holds none. */
  dropFree (): void {
    this.#free.length = 0
    this.#freeSet.clear()
    this.#freeBytes = 0
  }
}
