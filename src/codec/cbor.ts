import * as dagCbor from '@ipld/dag-cbor'
import { CodecError } from './errors.ts'

/**
 * Canonical DAG-CBOR bytes of a value (sorted keys, shortest forms). Always a
 * plain Uint8Array: for some sizes cborg returns a Buffer, whose slice() is a view.
 */
export function encodeCbor (value: unknown): Uint8Array {
  const out = dagCbor.encode(value)
  return Buffer.isBuffer(out) ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : out
}

/**
 * Decodes DAG-CBOR with a hard size limit; every failure becomes a CodecError.
 * `canonical` re-encodes and compares bytes, because @ipld/dag-cbor accepts
 * unsorted map keys: anything hashed or signed must have exactly one form.
 */
export function decodeCbor (bytes: Uint8Array, what: string, maxBytes: number, canonical: boolean): unknown {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('MALFORMED', `${what}: expected bytes`)
  if (bytes.length > maxBytes) throw new CodecError('OVERSIZED', `${what}: ${bytes.length} bytes, limit ${maxBytes}`)
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    // cborg throws Error and RangeError (deep nesting); none of them may escape.
    const reason = err instanceof Error ? err.message : String(err)
    throw new CodecError('MALFORMED', `${what}: not DAG-CBOR (${reason.slice(0, 120)})`)
  }
  if (canonical) {
    let again: Uint8Array
    try {
      again = dagCbor.encode(value)
    } catch {
      throw new CodecError('MALFORMED', `${what}: decoded value cannot be re-encoded`)
    }
    if (!bytesEqual(again, bytes)) throw new CodecError('NON_CANONICAL', `${what}: bytes are not the canonical encoding of their value`)
  }
  return value
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHex (hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}
