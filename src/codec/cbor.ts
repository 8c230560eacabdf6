import * as dagCbor from '@ipld/dag-cbor'
import { CodecError } from './errors.ts'
import { assertCborNesting, valueDeeperThan } from './depth.ts'
import { CBOR_DEPTH_MAX, VALUE_DEPTH_MAX } from './limits.ts'

/**
 * Canonical DAG-CBOR bytes of a value (sorted keys, shortest forms). Always a
 * plain Uint8Array: for some sizes cborg returns a Buffer, whose slice() is a view.
 */
export function encodeCbor (value: unknown): Uint8Array {
  const out = dagCbor.encode(value)
  return Buffer.isBuffer(out) ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : out
}

/**
 * Decodes DAG-CBOR with a hard size limit and a hard nesting limit, the
 * latter checked by an iterative scan before cborg (which recurses) sees the
 * bytes; every failure becomes a CodecError. Every decoder of the project
 * goes through here, so no recursive code ever meets a value nested deeper
 * than `maxDepth` (decision 14). `canonical` requires the bytes to be the canonical encoding of their value
 * (what re-encoding gives back), because @ipld/dag-cbor accepts unsorted map
 * keys: anything hashed or signed must have exactly one form.
 */
export function decodeCbor (
  bytes: Uint8Array, what: string, maxBytes: number, canonical: boolean, maxDepth = CBOR_DEPTH_MAX
): unknown {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('MALFORMED', `${what}: expected bytes`)
  if (bytes.length > maxBytes) throw new CodecError('OVERSIZED', `${what}: ${bytes.length} bytes, limit ${maxBytes}`)
  assertCborNesting(bytes, what, maxDepth)
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    // cborg throws Error and RangeError (deep nesting); none of them may escape.
    const reason = err instanceof Error ? err.message : String(err)
    throw new CodecError('MALFORMED', `${what}: not DAG-CBOR (${reason.slice(0, 120)})`)
  }
  // The scan proves most canonical inputs canonical without allocating;
  // whatever it cannot prove goes to the reference check.
  if (canonical && !isCanonicalDagCbor(bytes)) canonicalByReencoding(bytes, value, what)
  return value
}

/**
 * The reference canonical check: re-encode the decoded value and compare bytes.
 * Throws CodecError when they differ (or the value cannot be re-encoded).
 */
export function canonicalByReencoding (bytes: Uint8Array, value: unknown, what: string): void {
  let again: Uint8Array
  try {
    again = dagCbor.encode(value)
  } catch {
    throw new CodecError('MALFORMED', `${what}: decoded value cannot be re-encoded`)
  }
  if (!bytesEqual(again, bytes)) {
    throw new CodecError('NON_CANONICAL', `${what}: bytes are not the canonical encoding of their value`)
  }
}

const TWO_32 = 2 ** 32
const FLOAT_SCRATCH = new DataView(new ArrayBuffer(8))

/**
 * True only if `bytes` are one DAG-CBOR item that @ipld/dag-cbor decodes and
 * re-encodes to exactly these bytes, so canonicalByReencoding would pass.
 * A single pass, no allocation. It proves: shortest heads for integers and
 * lengths; definite lengths; strings that are well-formed UTF-8 not starting
 * with a BOM (the decoder's TextDecoder drops a leading BOM and replaces bad
 * sequences, so those never round-trip); map keys that are strings, sorted by
 * length then bytewise and distinct; false, true, null; float64 only, finite
 * and not a safe integer (those re-encode as integers); no trailing
 * bytes. It does not try to prove tags (CIDs: tag 42) and answers false for
 * them, so the caller falls back to the reference check, which stays the rule.
 * test/codec/canonical.test.ts compares the two.
 */
export function isCanonicalDagCbor (b: Uint8Array): boolean {
  const n = b.length
  let pos = 0
  let depth = 0
  // Per open container: items still to read (maps count keys and values), whether it is a map, and its last key.
  const left: number[] = [1]
  const inMap: boolean[] = [false]
  const keyAt: number[] = [0]
  const keyLen: number[] = [-1]
  for (;;) {
    while (left[depth] === 0) {
      if (depth === 0) return pos === n
      depth--
    }
    const isKey = inMap[depth] === true && ((left[depth] as number) & 1) === 0
    left[depth] = (left[depth] as number) - 1
    if (pos >= n) return false
    const ib = b[pos] as number
    const major = ib >> 5
    const info = ib & 31
    if (isKey && major !== 3) return false
    if (major === 7) {
      if (info >= 20 && info <= 22) { pos++; continue } // false, true, null
      if (info !== 27 || pos + 9 > n) return false
      for (let i = 0; i < 8; i++) FLOAT_SCRATCH.setUint8(i, b[pos + 1 + i] as number)
      const f = FLOAT_SCRATCH.getFloat64(0)
      if (!Number.isFinite(f) || Number.isSafeInteger(f)) return false
      pos += 9
      continue
    }
    if (major === 6) return false
    let arg: number
    let head: number
    if (info < 24) {
      arg = info
      head = 1
    } else if (info === 24) {
      if (pos + 2 > n) return false
      arg = b[pos + 1] as number
      if (arg < 24) return false
      head = 2
    } else if (info === 25) {
      if (pos + 3 > n) return false
      arg = ((b[pos + 1] as number) << 8) | (b[pos + 2] as number)
      if (arg < 0x100) return false
      head = 3
    } else if (info === 26) {
      if (pos + 5 > n) return false
      arg = (b[pos + 1] as number) * 0x1000000 +
        (((b[pos + 2] as number) << 16) | ((b[pos + 3] as number) << 8) | (b[pos + 4] as number))
      if (arg < 0x10000) return false
      head = 5
    } else if (info === 27) {
      if (pos + 9 > n) return false
      const hi = (b[pos + 1] as number) * 0x1000000 +
        (((b[pos + 2] as number) << 16) | ((b[pos + 3] as number) << 8) | (b[pos + 4] as number))
      if (hi === 0) return false
      if (major !== 0 && major !== 1) return false // a length of 2^32 or more cannot fit in an entry anyway
      arg = hi * TWO_32 // integers: only the minimality matters, the value is not needed
      head = 9
    } else {
      return false // 28-30 reserved, 31 indefinite length
    }
    pos += head
    switch (major) {
      case 0:
      case 1:
        continue
      case 2:
        if (arg > n - pos) return false
        pos += arg
        continue
      case 3: {
        if (arg > n - pos) return false
        if (!wellFormedUtf8WithoutBom(b, pos, pos + arg)) return false
        if (isKey) {
          const prevLen = keyLen[depth] as number
          if (arg < prevLen) return false
          if (arg === prevLen) {
            const prev = keyAt[depth] as number
            let i = 0
            while (i < arg && b[prev + i] === b[pos + i]) i++
            if (i === arg || (b[prev + i] as number) > (b[pos + i] as number)) return false
          }
          keyAt[depth] = pos
          keyLen[depth] = arg
        }
        pos += arg
        continue
      }
      case 4:
      case 5: {
        const items = major === 4 ? arg : 2 * arg
        if (items > n - pos) return false // every item takes at least one byte
        depth++
        left[depth] = items
        inMap[depth] = major === 5
        keyAt[depth] = 0
        keyLen[depth] = -1
        continue
      }
      default:
        return false
    }
  }
}

/**
 * UTF-8 as TextDecoder accepts it without replacing anything (WHATWG: no
 * overlongs, surrogates or code points above U+10FFFF), not starting with a BOM.
 */
export function wellFormedUtf8WithoutBom (b: Uint8Array, start: number, end: number): boolean {
  let i = start
  while (i < end) {
    const c = b[i] as number
    if (c < 0x80) { i++; continue }
    if (i === start && c === 0xef && end - start >= 3 && b[i + 1] === 0xbb && b[i + 2] === 0xbf) return false
    if (c < 0xc2) return false
    if (c < 0xe0) {
      if (i + 2 > end || ((b[i + 1] as number) & 0xc0) !== 0x80) return false
      i += 2
      continue
    }
    if (c < 0xf0) {
      if (i + 3 > end) return false
      const c1 = b[i + 1] as number
      if ((c1 & 0xc0) !== 0x80 || ((b[i + 2] as number) & 0xc0) !== 0x80) return false
      if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) return false
      i += 3
      continue
    }
    if (c < 0xf5) {
      if (i + 4 > end) return false
      const c1 = b[i + 1] as number
      if ((c1 & 0xc0) !== 0x80) return false
      if (((b[i + 2] as number) & 0xc0) !== 0x80 || ((b[i + 3] as number) & 0xc0) !== 0x80) return false
      if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return false
      i += 4
      continue
    }
    return false
  }
  return true
}

/** Ids, keys and space ids (32–36 bytes) compare fastest in a loop; longer arrays through Buffer's memcmp. */
const SHORT_BYTES = 64

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  if (a.length <= SHORT_BYTES) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHex (hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/**
 * Refuses values that cannot come back as they went in, before the encoder
 * (which recurses) sees them: nested deeper than `maxDepth` (a receiver
 * refuses those), or holding a string (or map key) that starts with U+FEFF,
 * which the decoder drops (the UTF-8 decoder drops a leading byte order
 * mark), so every peer would reject the entry as not canonical while the
 * writer kept it. Better a clear error at the writer. A loop, not recursion.
 */
export function assertEncodable (value: unknown, what: string, maxDepth = CBOR_DEPTH_MAX): void {
  if (valueDeeperThan(value, maxDepth)) {
    throw new CodecError('OVERSIZED', `${what}: arrays and maps nested deeper than ${maxDepth} levels`)
  }
  const stack: unknown[] = [value]
  const bom = (s: string): void => {
    if (s.charCodeAt(0) !== 0xfeff) return
    throw new CodecError('INVALID_FIELD',
      `${what}: a string starting with U+FEFF (a byte order mark) cannot be stored; remove that character`)
  }
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'string') bom(v)
    else if (Array.isArray(v)) for (const x of v) stack.push(x)
    else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !('asCID' in v)) {
      for (const [k, x] of Object.entries(v)) { bom(k); stack.push(x) }
    }
  }
}

/** A value a user stores (kv value, ledger tx): refused, saying what to do, when it nests past VALUE_DEPTH_MAX. */
export function assertValueDepth (value: unknown, what: string): void {
  if (valueDeeperThan(value, VALUE_DEPTH_MAX)) {
    const limit = `the limit for a stored value; store it flatter`
    throw new CodecError('OVERSIZED', `${what} nests arrays and maps deeper than ${VALUE_DEPTH_MAX} levels, ${limit}`)
  }
}
