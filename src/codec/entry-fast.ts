import { wellFormedUtf8WithoutBom } from './cbor.ts'
import {
  AUTHOR_SIZE, CLOCK_COUNTER_MAX, FILE_CHUNKS_MAX, FILE_MODE_BITS, HASH_SIZE, KEY_BYTES_MAX,
  PATH_BYTES_MAX, SPACE_ID_SIZE, SUPERSEDES_MAX
} from './limits.ts'
import type { FileBody } from './entry.ts'

/**
 * The common entries read straight from their bytes: a kv.put whose value
 * is a text string, or a kv.del, and a file record with its chunk list
 * inline, in canonical DAG-CBOR. A late joiner decodes 100,000 kv entries,
 * a receiver of 10,000 small files 10,000 records (and its own store's
 * copies again as it lists them); through cborg each cost ~8 KB of
 * short-lived objects (tokens, maps, copies), which made the young
 * generation promote garbage and the heap grow far past what was live.
 *
 * It accepts only bytes it can prove are one canonical DAG-CBOR entry of
 * that shape (keys present and in canonical order, shortest heads,
 * well-formed UTF-8 without a leading BOM, nothing after the map), with
 * every field inside the bounds decodeEntry checks. For those, what it
 * returns is exactly what decodeEntry's general path returns (the test
 * compares them over generated entries). Anything else, valid or not, gives
 * undefined, and the caller takes the general path, which decides and
 * names the error: this reader never refuses anything itself.
 */
type FastKvBody = { readonly t: 'kv.put', readonly key: string, readonly value: string } |
  { readonly t: 'kv.del', readonly key: string }

export interface FastFields<B = FastKvBody> {
  readonly space: Uint8Array
  readonly author: Uint8Array
  readonly epoch: number
  readonly seq: number
  readonly prev: Uint8Array | null
  readonly wallMs: number
  readonly counter: number
  readonly body: B
}

const TWO_32 = 2 ** 32
/** Epochs, seqs and clock milliseconds (entry.ts POSITION_MAX). */
const POSITION_MAX = 2 ** 48 - 1

// The entry map's head and keys, in canonical order (length, then bytes): a b c e p q s.
const ENTRY_MAP = 0xa7
const KEY = { a: 0x61, b: 0x62, c: 0x63, e: 0x65, p: 0x70, q: 0x71, s: 0x73 } as const
const NULL = 0xf6
const KV_PUT = texts('t', 'kv.put')
const KV_DEL = texts('t', 'kv.del')
const KEY_KEY = texts('key')
const VALUE_KEY = texts('value')
/**
 * A file record's body as its bytes lay it out: a map of 8 keys in canonical order (t, mode, path, size, chunks,
 * deleted, mtimeMs, supersedes), each key with its head; `head` runs from the map's head to the mode's key. The writer
 * (entry-fast-write.ts) writes the same.
 */
export const FILE_LAYOUT = {
  head: new Uint8Array([0xa8, ...texts('t', 'file', 'mode')]),
  path: texts('path'),
  size: texts('size'),
  chunks: texts('chunks'),
  deleted: texts('deleted'),
  mtimeMs: texts('mtimeMs'),
  supersedes: texts('supersedes')
} as const
const FALSE = 0xf4
const TRUE = 0xf5

/** Short ASCII text items, each with its head, end to end. */
function texts (...items: string[]): Uint8Array {
  return new Uint8Array(items.flatMap(t => [0x60 + t.length, ...Buffer.from(t, 'latin1')]))
}

/** Reads the fields of a canonical kv.put (text value) or kv.del entry; undefined for anything else. */
export function readKvEntry (b: Uint8Array): FastFields | undefined {
  return readEntry(b, readKvBody)
}

/**
 * Reads the fields of a canonical file record with its chunk list inline (no `parts`); undefined for anything else,
 * or for a path `pathProblem` refuses (the general path's rule for it: entry.ts fileBody's `arriving`).
 * The chunks' hashes and the superseded ids are copies, as the general decoder makes: a decoded version is kept
 * (space/view-reads.ts DecodedVersions), and a view would keep the whole frame it came in.
 */
export function readFileEntry (
  b: Uint8Array, pathProblem: (path: string) => string | null
): FastFields<FileBody> | undefined {
  return readEntry(b, r => {
    const body = readFileBody(r)
    return body === undefined || pathProblem(body.path) !== null ? undefined : body
  })
}

function readEntry<B> (b: Uint8Array, bodyOf: (r: Reader) => B | undefined): FastFields<B> | undefined {
  const r = new Reader(b)
  if (b[0] !== ENTRY_MAP) return undefined
  r.pos = 1
  if (!r.key(KEY.a)) return undefined
  const author = r.bytes(AUTHOR_SIZE)
  if (author === undefined || !r.key(KEY.b)) return undefined
  const body = bodyOf(r)
  if (body === undefined || !r.key(KEY.c) || b[r.pos++] !== 0x82) return undefined
  const wallMs = r.uint(POSITION_MAX)
  const counter = r.uint(CLOCK_COUNTER_MAX)
  if (!r.key(KEY.e)) return undefined
  const epoch = r.uint(POSITION_MAX)
  if (!r.key(KEY.p)) return undefined
  let prev: Uint8Array | null | undefined = null
  if (b[r.pos] === NULL) r.pos++
  else prev = r.bytes(HASH_SIZE)
  if (prev === undefined || !r.key(KEY.q)) return undefined
  const seq = r.uint(POSITION_MAX)
  if (!r.key(KEY.s)) return undefined
  const space = r.bytes(SPACE_ID_SIZE)
  if (space === undefined || r.pos !== b.length || r.bad) return undefined
  return { space, author, epoch, seq, prev, wallMs, counter, body }
}

function readFileBody (r: Reader): FileBody | undefined {
  const b = r.b
  if (!r.literal(FILE_LAYOUT.head)) return undefined
  const mode = r.uint(0o7777)
  if (!r.literal(FILE_LAYOUT.path)) return undefined
  const path = r.text(PATH_BYTES_MAX)
  if (path === undefined || path.length === 0 || !r.literal(FILE_LAYOUT.size)) return undefined
  const size = r.uint(Number.MAX_SAFE_INTEGER)
  if (!r.literal(FILE_LAYOUT.chunks)) return undefined
  const count = r.head(4)
  if (count < 0 || count > FILE_CHUNKS_MAX) return undefined
  const chunks: [Uint8Array, number][] = []
  for (let i = 0; i < count; i++) {
    if (b[r.pos++] !== 0x82) return undefined
    const hash = r.bytes(HASH_SIZE)
    const n = r.uint(Number.MAX_SAFE_INTEGER)
    if (hash === undefined || n < 1) return undefined
    chunks.push([new Uint8Array(hash), n])
  }
  if (!r.literal(FILE_LAYOUT.deleted)) return undefined
  const flag = b[r.pos++]
  if (flag !== FALSE && flag !== TRUE) return undefined
  const deleted = flag === TRUE
  if (!r.literal(FILE_LAYOUT.mtimeMs)) return undefined
  const mtimeMs = r.uint(POSITION_MAX)
  if (!r.literal(FILE_LAYOUT.supersedes)) return undefined
  const ids = r.head(4)
  if (ids < 0 || ids > SUPERSEDES_MAX) return undefined
  const supersedes: Uint8Array[] = []
  for (let i = 0; i < ids; i++) {
    const id = r.bytes(HASH_SIZE)
    if (id === undefined) return undefined
    supersedes.push(new Uint8Array(id))
  }
  // The general path's rules (entry.ts fileBody), summed in its order: what it refuses is not read here.
  if (chunks.reduce((total, c) => total + c[1], 0) !== size || (deleted && chunks.length > 0)) return undefined
  // In the general path's field order, so both give objects of one shape; its mode bits, masked as it masks them.
  return { t: 'file', path, size, mode: mode & FILE_MODE_BITS, mtimeMs, deleted, supersedes, chunks }
}

function readKvBody (r: Reader): FastKvBody | undefined {
  const head = r.b[r.pos++]
  if (head !== 0xa3 && head !== 0xa2) return undefined
  const put = head === 0xa3
  if (!r.literal(put ? KV_PUT : KV_DEL) || !r.literal(KEY_KEY)) return undefined
  const key = r.text(KEY_BYTES_MAX)
  if (key === undefined || key.length === 0) return undefined
  if (!put) return { t: 'kv.del', key }
  if (!r.literal(VALUE_KEY)) return undefined
  const value = r.text(Number.MAX_SAFE_INTEGER)
  return value === undefined ? undefined : { t: 'kv.put', key, value }
}

/** A cursor over the bytes; `bad` once an integer was not canonical or out of its bounds. */
export class Reader {
  readonly b: Uint8Array
  pos = 0
  bad = false

  constructor (b: Uint8Array) {
    this.b = b
  }

  /** A one-character map key, as its text head and byte. */
  key (k: number): boolean {
    if (this.b[this.pos] !== 0x61 || this.b[this.pos + 1] !== k) return false
    this.pos += 2
    return true
  }

  literal (want: Uint8Array): boolean {
    if (this.pos + want.length > this.b.length) return false
    for (let i = 0; i < want.length; i++) if (this.b[this.pos + i] !== want[i]) return false
    this.pos += want.length
    return true
  }

  /** The argument of a head of major type `major`, in its shortest form only; -1 if not. */
  head (major: number): number {
    const b = this.b
    const ib = b[this.pos]
    if (ib === undefined || ib >> 5 !== major) return -1
    const info = ib & 31
    const at = this.pos
    if (info < 24) { this.pos += 1; return info }
    if (info === 24 && at + 2 <= b.length) {
      const v = b[at + 1] as number
      this.pos += 2
      return v >= 24 ? v : -1
    }
    if (info === 25 && at + 3 <= b.length) {
      const v = ((b[at + 1] as number) << 8) | (b[at + 2] as number)
      this.pos += 3
      return v >= 0x100 ? v : -1
    }
    if (info === 26 && at + 5 <= b.length) {
      const v = uint32(b, at + 1)
      this.pos += 5
      return v >= 0x10000 ? v : -1
    }
    if (info === 27 && at + 9 <= b.length) {
      const hi = uint32(b, at + 1)
      const lo = uint32(b, at + 5)
      this.pos += 9
      // Only what fits in 53 bits is read here; the general path decides the rest.
      return hi !== 0 && hi < 0x200000 ? hi * TWO_32 + lo : -1
    }
    return -1
  }

  uint (max: number): number {
    const v = this.head(0)
    if (v < 0 || v > max) this.bad = true
    return v
  }

  /**
   * A byte string of exactly `size` bytes, as a view of the entry's bytes (the general decoder copies; the
   * contents are the same): the entry holds its bytes anyway, and in a catch-up the three copies per entry
   * lived as long as the entry, until its run was committed.
   */
  bytes (size: number): Uint8Array | undefined {
    const n = this.head(2)
    if (n !== size || this.pos + n > this.b.length) return undefined
    const out = this.b.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** A byte string of at most `maxBytes`, as a view; undefined if not one (or not in its shortest head). */
  byteString (maxBytes: number): Uint8Array | undefined {
    const n = this.head(2)
    if (n < 0 || n > maxBytes || this.pos + n > this.b.length) return undefined
    this.pos += n
    return this.b.subarray(this.pos - n, this.pos)
  }

  text (maxBytes: number): string | undefined {
    const n = this.head(3)
    if (n < 0 || n > maxBytes || this.pos + n > this.b.length) return undefined
    const start = this.pos
    if (!wellFormedUtf8WithoutBom(this.b, start, start + n)) return undefined
    this.pos += n
    return Buffer.from(this.b.buffer, this.b.byteOffset + start, n).toString('utf8')
  }
}

function uint32 (b: Uint8Array, at: number): number {
  const low = ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)
  return (b[at] as number) * 0x1000000 + low
}
