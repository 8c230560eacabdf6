import { FILE_CHUNK_BYTES_MAX, sha256 } from '../codec/index.ts'

/**
 * Content-defined chunking, FastCDC style (Xia et al., USENIX ATC 2016): a
 * gear hash rolls over the bytes and a chunk ends where its top bits are
 * zero, so an insertion or a deletion moves only the chunks around it and
 * the rest of a file keeps its chunk hashes. Normalized chunking: a stricter
 * mask before the average size and a looser one after it keep sizes close
 * to the average; the first minBytes of a chunk are skipped unhashed.
 *
 * The gear table is part of the format (every node must cut the same bytes
 * at the same places): 256 words from SHA-256("samepage/gear/v1" || i),
 * never to change without a new format version.
 */
export interface ChunkerOptions {
  readonly minBytes: number
  /** A power of two. */
  readonly avgBytes: number
  readonly maxBytes: number
}

/** 64 KiB on average: small and middling files; an insert costs one or two chunks. Measured in npm run bench. */
export const CHUNKING: ChunkerOptions = { minBytes: 16 * 1024, avgBytes: 64 * 1024, maxBytes: 256 * 1024 }

/**
 * Files up to this size have CHUNKING's 64 KiB chunks (an insert moves about
 * its size); bigger ones BIG_AVG_BYTES, 256 KiB, since a transfer pays per
 * chunk. Measured with two daemons here, 1 GiB synced then 1 MiB inserted
 * in its middle: 64 KiB chunks 29 s and 1.1–1.3 MiB moved; 128 KiB 25 s,
 * 1.2 MiB; 256 KiB 21 s, 1.35 MiB; 1 MiB (before parts) 18–22 s, 4–11 MiB.
 */
const SMALL_FILE_MAX = 256 * 1024 * 1024
const BIG_AVG_BYTES = 256 * 1024
/**
 * Past this many chunks (16 GiB at 256 KiB) the chunks of a bigger file double. A chunk list over 1,500 goes in parts
 * (space/file-versions.ts).
 */
const CHUNKS_AIMED = 65_536
/** So that no chunk is over FILE_CHUNK_BYTES_MAX, 16 MiB (one block message; a record that names more is refused). */
export const AVG_BYTES_MAX = FILE_CHUNK_BYTES_MAX / 4

/**
 * The chunk sizes for a file of `size` bytes: 64 KiB on average up to
 * 256 MiB, 256 KiB above, doubled past CHUNKS_AIMED chunks (as Syncthing
 * scales its block size with the file, in few steps: a file whose size
 * crosses a step is cut anew). `tier` doubles them again (a file with more
 * chunks than a record lists). Part of the format: every node must choose
 * the same sizes for the same file.
 */
export function chunkingFor (size: number, tier = 0): ChunkerOptions {
  let avg = size <= SMALL_FILE_MAX ? CHUNKING.avgBytes : BIG_AVG_BYTES
  while (avg < AVG_BYTES_MAX && size > CHUNKS_AIMED * avg) avg *= 2
  avg = Math.min(AVG_BYTES_MAX, avg * 2 ** tier)
  return { minBytes: avg / 4, avgBytes: avg, maxBytes: avg * 4 }
}

// Int32 throughout (the same bits as unsigned): V8 keeps the rolling hash in a register instead of a heap number.
const GEAR = ((): Int32Array => {
  const table = new Int32Array(256)
  const prefix = new TextEncoder().encode('samepage/gear/v1')
  for (let i = 0; i < 256; i++) {
    const input = new Uint8Array(prefix.length + 1)
    input.set(prefix)
    input[prefix.length] = i
    const h = sha256(input)
    table[i] = (h[0] as number) << 24 | (h[1] as number) << 16 | (h[2] as number) << 8 | (h[3] as number)
  }
  return table
})()

/** The top `bits` bits of a 32-bit word: the bits of the gear hash that depend on the most bytes. */
function topMask (bits: number): number {
  return bits <= 0 ? 0 : (0xffffffff << (32 - Math.min(32, bits))) | 0
}

function checkOptions (o: ChunkerOptions): void {
  const pow2 = Number.isInteger(Math.log2(o.avgBytes))
  if (!pow2 || !(o.minBytes > 0 && o.minBytes < o.avgBytes && o.avgBytes < o.maxBytes)) {
    const got = `${o.minBytes}, ${o.avgBytes}, ${o.maxBytes}`
    throw new RangeError(`chunker: need 0 < minBytes < avgBytes < maxBytes with avgBytes a power of two (got ${got})`)
  }
}

/**
 * Where the chunk starting at `start` ends in data[start, end): an offset
 * after start, or -1 if the chunk may go on past `end` (more bytes needed,
 * unless `end` is the end of the file).
 */
export function cutPoint (data: Uint8Array, start: number, end: number, opts: ChunkerOptions = CHUNKING): number {
  const bits = Math.log2(opts.avgBytes)
  const maskS = topMask(bits + 2)
  const maskL = topMask(bits - 2)
  const normal = Math.min(end, start + opts.avgBytes)
  const limit = Math.min(end, start + opts.maxBytes)
  let i = start + opts.minBytes
  if (i >= limit) return limit - start >= opts.maxBytes ? limit : -1
  let h = 0
  // Four bytes a turn, each still tested (the same cuts): half the time of a byte a turn, measured (V8 keeps fewer
  // loop checks). The two loops differ only in their mask.
  for (const last4 = normal - 3; i < last4; i += 4) {
    h = ((h << 1) + (GEAR[data[i] as number] as number)) | 0
    if ((h & maskS) === 0) return i + 1
    h = ((h << 1) + (GEAR[data[i + 1] as number] as number)) | 0
    if ((h & maskS) === 0) return i + 2
    h = ((h << 1) + (GEAR[data[i + 2] as number] as number)) | 0
    if ((h & maskS) === 0) return i + 3
    h = ((h << 1) + (GEAR[data[i + 3] as number] as number)) | 0
    if ((h & maskS) === 0) return i + 4
  }
  for (; i < normal; i++) {
    h = ((h << 1) + (GEAR[data[i] as number] as number)) | 0
    if ((h & maskS) === 0) return i + 1
  }
  for (const last4 = limit - 3; i < last4; i += 4) {
    h = ((h << 1) + (GEAR[data[i] as number] as number)) | 0
    if ((h & maskL) === 0) return i + 1
    h = ((h << 1) + (GEAR[data[i + 1] as number] as number)) | 0
    if ((h & maskL) === 0) return i + 2
    h = ((h << 1) + (GEAR[data[i + 2] as number] as number)) | 0
    if ((h & maskL) === 0) return i + 3
    h = ((h << 1) + (GEAR[data[i + 3] as number] as number)) | 0
    if ((h & maskL) === 0) return i + 4
  }
  for (; i < limit; i++) {
    h = ((h << 1) + (GEAR[data[i] as number] as number)) | 0
    if ((h & maskL) === 0) return i + 1
  }
  return limit - start >= opts.maxBytes ? limit : -1
}

/**
 * A chunker for bytes that come in pieces (a file read in buffers): push()
 * returns the chunks completed so far, finish() the last one. Chunks are
 * the same whatever the pieces' sizes. Holds at most maxBytes plus one piece.
 * A chunk returned is a view of the piece (or of a copy): use it before
 * changing the piece.
 */
export class Chunker {
  readonly #opts: ChunkerOptions
  #buffer = new Uint8Array(0)

  constructor (opts: ChunkerOptions = CHUNKING) {
    checkOptions(opts)
    this.#opts = opts
  }

  push (piece: Uint8Array): Uint8Array[] {
    const data = this.#buffer.length === 0 ? piece : concat(this.#buffer, piece)
    const chunks: Uint8Array[] = []
    let start = 0
    for (;;) {
      const cut = cutPoint(data, start, data.length, this.#opts)
      if (cut < 0) break
      chunks.push(data.subarray(start, cut))
      start = cut
    }
    // Copied, so the caller may reuse its buffer for the next piece (not data.slice: on a Buffer it is a view).
    this.#buffer = Uint8Array.prototype.slice.call(data, start)
    return chunks
  }

  finish (): Uint8Array[] {
    const rest = this.#buffer
    this.#buffer = new Uint8Array(0)
    const chunks: Uint8Array[] = []
    let start = 0
    while (start < rest.length) {
      const cut = cutPoint(rest, start, rest.length, this.#opts)
      const end = cut < 0 ? rest.length : cut
      chunks.push(rest.subarray(start, end))
      start = end
    }
    return chunks
  }
}

/** The chunks of one whole buffer. */
export function chunk (data: Uint8Array, opts: ChunkerOptions = CHUNKING): Uint8Array[] {
  const c = new Chunker(opts)
  return [...c.push(data), ...c.finish()]
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
