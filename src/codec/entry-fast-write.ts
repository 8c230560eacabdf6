import { cborHeadSize, writeCborHead } from './cbor-head.ts'
import type { UnsignedEntry } from './entry.ts'
import { FILE_LAYOUT } from './entry-fast.ts'

/**
 * The common entries written straight to their bytes: a kv.put whose value
 * is a text string, or a kv.del (the mirror of entry-fast.ts's reader), and
 * a file record with its chunk list inline. Every live write from an API
 * client is one of the first, every file a scan finds one of the last;
 * through cborg each cost a map per level, a token per field, a sort of
 * each map's keys and a copy of the result.
 *
 * It writes exactly the bytes encodeCbor writes for the same entry
 * (canonical DAG-CBOR: keys by length then bytes, shortest heads; the test
 * compares them over generated entries), and only for fields it can prove
 * it writes alike: non-negative safe integers, byte strings, and text that
 * is well-formed and does not start with U+FEFF. Anything else gives
 * undefined, and the caller takes the general path, which decides and names
 * the error: this writer never refuses anything itself.
 */

const NULL = 0xf6
const MAJOR_UINT = 0x00
const MAJOR_BYTES = 0x40
const MAJOR_TEXT = 0x60
const MAJOR_ARRAY = 0x80
const FALSE = 0xf4
const TRUE = 0xf5
const PAIR = 0x82

// The entry map (7 keys: a b c e p q s) and the body's literals, each with its head.
const ENTRY_MAP = 0xa7
const PUT_HEAD = [0xa3, 0x61, 0x74, 0x66, ...Buffer.from('kv.put', 'latin1'), 0x63, ...Buffer.from('key', 'latin1')]
const DEL_HEAD = [0xa2, 0x61, 0x74, 0x66, ...Buffer.from('kv.del', 'latin1'), 0x63, ...Buffer.from('key', 'latin1')]
const VALUE_KEY = [0x65, ...Buffer.from('value', 'latin1')]
const { head: FILE_HEAD, path: PATH_KEY, size: SIZE_KEY, chunks: CHUNKS_KEY, deleted: DELETED_KEY } = FILE_LAYOUT
const { mtimeMs: MTIME_KEY, supersedes: SUPERSEDES_KEY } = FILE_LAYOUT
/** The body's bytes that do not depend on its values: the head and keys, and `deleted`'s value. */
const FILE_FIXED_BYTES = FILE_HEAD.length + PATH_KEY.length + SIZE_KEY.length + CHUNKS_KEY.length +
  DELETED_KEY.length + 1 + MTIME_KEY.length + SUPERSEDES_KEY.length
/** What a file record may hold (`parts`, absent or undefined, as the general path drops an undefined one). */
const FILE_KEYS = new Set(['t', 'path', 'size', 'mode', 'mtimeMs', 'deleted', 'supersedes', 'chunks', 'parts'])
const KEY_A = 0x61
const KEY_B = 0x62
const KEY_C = 0x63
const KEY_E = 0x65
const KEY_P = 0x70
const KEY_Q = 0x71
const KEY_S = 0x73
const CLOCK_PAIR = 0x82

/** The canonical bytes of a kv.put (text value) or kv.del entry; undefined for anything else. */
export function writeKvEntry (e: UnsignedEntry): Uint8Array | undefined {
  const body = e.body
  let value: string | undefined
  if (body.t === 'kv.put') {
    if (typeof body.value !== 'string') return undefined
    value = body.value
  } else if (body.t !== 'kv.del') {
    return undefined
  }
  if (!plainText(body.key) || (value !== undefined && !plainText(value))) return undefined
  const keyBytes = Buffer.byteLength(body.key, 'utf8')
  const valueBytes = value === undefined ? 0 : Buffer.byteLength(value, 'utf8')
  const bodySize = (value === undefined ? DEL_HEAD.length : PUT_HEAD.length + VALUE_KEY.length) +
    cborHeadSize(keyBytes) + keyBytes + (value === undefined ? 0 : cborHeadSize(valueBytes) + valueBytes)
  return writeEntry(e, bodySize, (out, pos) => {
    out.set(value === undefined ? DEL_HEAD : PUT_HEAD, pos)
    pos += value === undefined ? DEL_HEAD.length : PUT_HEAD.length
    pos = writeText(out, pos, body.key, keyBytes)
    if (value === undefined) return pos
    out.set(VALUE_KEY, pos)
    return writeText(out, pos + VALUE_KEY.length, value, valueBytes)
  })
}

/**
 * The canonical bytes of a file record whose chunk list is inline (no `parts`: files of up to 1,500 chunks); undefined
 * for anything else. A scan of 10,000 small files records 10,000 of them, and through cborg each cost a sort of its
 * map's keys and a token per field (~28 µs of the sender's main thread each, measured). The caller checks the body
 * first (entry.ts), as the general path does: this writer only writes.
 */
export function writeFileEntry (e: UnsignedEntry): Uint8Array | undefined {
  const body = e.body
  if (body.t !== 'file' || body.parts !== undefined) return undefined
  for (const k in body) if (!FILE_KEYS.has(k)) return undefined
  const { path, size, mode, mtimeMs, deleted, chunks, supersedes } = body
  if (!plainText(path) || !uint(size) || !uint(mode) || !uint(mtimeMs) || typeof deleted !== 'boolean') return undefined
  if (!Array.isArray(chunks) || !Array.isArray(supersedes)) return undefined
  let bodySize = FILE_FIXED_BYTES
  const pathBytes = Buffer.byteLength(path, 'utf8')
  bodySize += cborHeadSize(pathBytes) + pathBytes + cborHeadSize(size) + cborHeadSize(mode) + cborHeadSize(mtimeMs)
  bodySize += cborHeadSize(chunks.length) + cborHeadSize(supersedes.length)
  for (const c of chunks) {
    if (!Array.isArray(c) || c.length !== 2 || !(c[0] instanceof Uint8Array) || !uint(c[1])) return undefined
    bodySize += 1 + cborHeadSize(c[0].length) + c[0].length + cborHeadSize(c[1])
  }
  for (const id of supersedes) {
    if (!(id instanceof Uint8Array)) return undefined
    bodySize += cborHeadSize(id.length) + id.length
  }
  return writeEntry(e, bodySize, (out, pos) => {
    // The keys in canonical order (by length, then bytes): t, mode, path, size, chunks, deleted, mtimeMs, supersedes.
    out.set(FILE_HEAD, pos)
    pos = writeCborHead(out, pos + FILE_HEAD.length, MAJOR_UINT, mode)
    pos = writeText(out, literal(out, pos, PATH_KEY), path, pathBytes)
    pos = writeCborHead(out, literal(out, pos, SIZE_KEY), MAJOR_UINT, size)
    pos = writeCborHead(out, literal(out, pos, CHUNKS_KEY), MAJOR_ARRAY, chunks.length)
    for (const [hash, n] of chunks) {
      out[pos++] = PAIR
      pos = writeCborHead(out, byteString(out, pos, hash), MAJOR_UINT, n)
    }
    pos = literal(out, pos, DELETED_KEY)
    out[pos++] = deleted ? TRUE : FALSE
    pos = writeCborHead(out, literal(out, pos, MTIME_KEY), MAJOR_UINT, mtimeMs)
    pos = writeCborHead(out, literal(out, pos, SUPERSEDES_KEY), MAJOR_ARRAY, supersedes.length)
    for (const id of supersedes) pos = byteString(out, pos, id)
    return pos
  })
}

/**
 * The entry map around a body of `bodySize` bytes that `writeBody` writes at a position (returning the one after it);
 * undefined where a field is not one this writer can prove it writes alike.
 */
function writeEntry (
  e: UnsignedEntry, bodySize: number, writeBody: (out: Buffer, pos: number) => number
): Uint8Array | undefined {
  const { space, author, prev, epoch, seq } = e
  const { wallMs, counter } = e.clock
  if (!uint(epoch) || !uint(seq) || !uint(wallMs) || !uint(counter)) return undefined
  if (!(space instanceof Uint8Array) || !(author instanceof Uint8Array)) return undefined
  if (prev !== null && !(prev instanceof Uint8Array)) return undefined
  const size = 1 + 7 * 2 + cborHeadSize(author.length) + author.length + bodySize +
    1 + cborHeadSize(wallMs) + cborHeadSize(counter) + cborHeadSize(epoch) +
    (prev === null ? 1 : cborHeadSize(prev.length) + prev.length) + cborHeadSize(seq) +
    cborHeadSize(space.length) + space.length
  const out = new Uint8Array(size)
  out[0] = ENTRY_MAP
  let pos = key(out, 1, KEY_A)
  pos = byteString(out, pos, author)
  // The body gets a Buffer view of the same bytes, for its text (Buffer's write); the entry stays a plain Uint8Array.
  pos = writeBody(Buffer.from(out.buffer, out.byteOffset, out.byteLength), key(out, pos, KEY_B))
  pos = key(out, pos, KEY_C)
  out[pos++] = CLOCK_PAIR
  pos = writeCborHead(out, pos, MAJOR_UINT, wallMs)
  pos = writeCborHead(out, pos, MAJOR_UINT, counter)
  pos = writeCborHead(out, key(out, pos, KEY_E), MAJOR_UINT, epoch)
  pos = key(out, pos, KEY_P)
  if (prev === null) out[pos++] = NULL
  else pos = byteString(out, pos, prev)
  pos = writeCborHead(out, key(out, pos, KEY_Q), MAJOR_UINT, seq)
  pos = byteString(out, key(out, pos, KEY_S), space)
  return pos === size ? out : undefined
}

/** Text the general encoder writes as its UTF-8 and the decoder gives back as is. */
function plainText (s: unknown): s is string {
  return typeof s === 'string' && s.charCodeAt(0) !== 0xfeff && s.isWellFormed()
}

/** An integer written as CBOR's unsigned integer (-0 and the rest take the general path). */
function uint (n: number): boolean {
  return Number.isSafeInteger(n) && (n > 0 || Object.is(n, 0))
}

function key (out: Uint8Array, pos: number, k: number): number {
  out[pos] = 0x61
  out[pos + 1] = k
  return pos + 2
}

function literal (out: Uint8Array, pos: number, bytes: Uint8Array): number {
  out.set(bytes, pos)
  return pos + bytes.length
}

/** `s` as a CBOR text string of `size` bytes (its UTF-8 length, counted by the caller). */
function writeText (out: Buffer, pos: number, s: string, size: number): number {
  const at = writeCborHead(out, pos, MAJOR_TEXT, size)
  return at + out.write(s, at, 'utf8')
}

function byteString (out: Uint8Array, pos: number, bytes: Uint8Array): number {
  const at = writeCborHead(out, pos, MAJOR_BYTES, bytes.length)
  out.set(bytes, at)
  return at + bytes.length
}

