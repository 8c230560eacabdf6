/**
 * CBOR heads written by hand: the shortest head of a major type with a
 * non-negative integer argument, as canonical DAG-CBOR wants it. The two
 * writers that skip cborg for speed (codec/entry-fast-write.ts for the common
 * kv entry, space/views.ts for kv rows) share it, so both agree with cborg's
 * choice of head size by construction.
 */

const TWO_32 = 2 ** 32

/** Bytes of the shortest head for a non-negative integer below 2^53. */
export function cborHeadSize (n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < TWO_32 ? 5 : 9
}

/** Writes the head of `major` with argument `n` at `pos`; returns the position after it. */
export function writeCborHead (out: Uint8Array, pos: number, major: number, n: number): number {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`cbor head: ${n} is not a non-negative safe integer`)
  if (n < 24) {
    out[pos] = major | n
    return pos + 1
  }
  if (n < 0x100) {
    out[pos] = major | 24
    out[pos + 1] = n
    return pos + 2
  }
  if (n < 0x10000) {
    out[pos] = major | 25
    out[pos + 1] = n >>> 8
    out[pos + 2] = n & 0xff
    return pos + 3
  }
  if (n < TWO_32) {
    out[pos] = major | 26
    writeUint32(out, pos + 1, n)
    return pos + 5
  }
  out[pos] = major | 27
  writeUint32(out, pos + 1, Math.floor(n / TWO_32))
  writeUint32(out, pos + 5, n % TWO_32)
  return pos + 9
}

function writeUint32 (out: Uint8Array, pos: number, n: number): void {
  out[pos] = n >>> 24
  out[pos + 1] = (n >>> 16) & 0xff
  out[pos + 2] = (n >>> 8) & 0xff
  out[pos + 3] = n & 0xff
}
