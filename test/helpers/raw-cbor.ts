import assert from 'node:assert/strict'
import { encodeCbor } from '../../src/codec/index.ts'

/**
 * Hostile CBOR built without a recursive encoder: deep values as raw bytes,
 * spliced into otherwise canonical encodings.
 */
export const PLACEHOLDER = 'raw-cbor-placeholder-5e1f'

/** `depth` nested one-item arrays around 0. */
export function nestedArrays (depth: number): Uint8Array {
  const out = new Uint8Array(depth + 1).fill(0x81)
  out[depth] = 0x00
  return out
}

/** The canonical encoding of `value` with the string PLACEHOLDER (wherever it is) replaced by raw CBOR bytes. */
export function withRaw (value: unknown, raw: Uint8Array): Uint8Array {
  const bytes = Buffer.from(encodeCbor(value))
  const marker = Buffer.from(encodeCbor(PLACEHOLDER))
  const at = bytes.indexOf(marker)
  assert.ok(at >= 0)
  return new Uint8Array(Buffer.concat([bytes.subarray(0, at), raw, bytes.subarray(at + marker.length)]))
}
