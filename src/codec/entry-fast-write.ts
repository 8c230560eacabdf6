import { cborHeadSize, writeCborHead } from './cbor-head.ts'
import type { UnsignedEntry } from './entry.ts'

/**
 * The common entry written straight to its bytes: the mirror of
 * entry-fast.ts's reader, for a kv.put whose value is a text string, or a
 * kv.del. Every live write from an API client is one; through cborg each
 * cost a map per level, a token per field and a copy of the result.
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

// The entry map (7 keys: a b c e p q s) and the body's literals, each with its head.
const ENTRY_MAP = 0xa7
const PUT_HEAD = [0xa3, 0x61, 0x74, 0x66, ...Buffer.from('kv.put', 'latin1'), 0x63, ...Buffer.from('key', 'latin1')]
const DEL_HEAD = [0xa2, 0x61, 0x74, 0x66, ...Buffer.from('kv.del', 'latin1'), 0x63, ...Buffer.from('key', 'latin1')]
const VALUE_KEY = [0x65, ...Buffer.from('value', 'latin1')]
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
  const { space, author, prev, epoch, seq } = e
  const { wallMs, counter } = e.clock
  if (!plainText(body.key) || (value !== undefined && !plainText(value))) return undefined
  if (!uint(epoch) || !uint(seq) || !uint(wallMs) || !uint(counter)) return undefined
  if (!(space instanceof Uint8Array) || !(author instanceof Uint8Array)) return undefined
  if (prev !== null && !(prev instanceof Uint8Array)) return undefined
  const keyBytes = Buffer.byteLength(body.key, 'utf8')
  const valueBytes = value === undefined ? 0 : Buffer.byteLength(value, 'utf8')
  const bodySize = (value === undefined ? DEL_HEAD.length : PUT_HEAD.length + VALUE_KEY.length) +
    cborHeadSize(keyBytes) + keyBytes + (value === undefined ? 0 : cborHeadSize(valueBytes) + valueBytes)
  const size = 1 + 7 * 2 + cborHeadSize(author.length) + author.length + bodySize +
    1 + cborHeadSize(wallMs) + cborHeadSize(counter) + cborHeadSize(epoch) +
    (prev === null ? 1 : cborHeadSize(prev.length) + prev.length) + cborHeadSize(seq) +
    cborHeadSize(space.length) + space.length
  const out = new Uint8Array(size)
  const text = Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  out[0] = ENTRY_MAP
  let pos = key(out, 1, KEY_A)
  pos = byteString(out, pos, author)
  pos = key(out, pos, KEY_B)
  out.set(value === undefined ? DEL_HEAD : PUT_HEAD, pos)
  pos += value === undefined ? DEL_HEAD.length : PUT_HEAD.length
  pos = writeCborHead(out, pos, MAJOR_TEXT, keyBytes)
  pos += text.write(body.key, pos, 'utf8')
  if (value !== undefined) {
    out.set(VALUE_KEY, pos)
    pos = writeCborHead(out, pos + VALUE_KEY.length, MAJOR_TEXT, valueBytes)
    pos += text.write(value, pos, 'utf8')
  }
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

function byteString (out: Uint8Array, pos: number, bytes: Uint8Array): number {
  const at = writeCborHead(out, pos, MAJOR_BYTES, bytes.length)
  out.set(bytes, at)
  return at + bytes.length
}

