/**
 * Ids for test fixtures, made by the ids/ constructors, so tests need no
 * casts: an author key or an entry id from a short label, a space key from a
 * label. The label's bytes lead the 32 bytes of an author key or an entry id
 * (zero-padded), so labels keep their order as ids: 'aa' < 'bb' for the
 * store's ordered reads as for the strings. Space keys are hashes: sort them
 * where a test needs an order.
 */
import assert from 'node:assert/strict'
import { cidOf } from '../../src/codec/index.ts'
import { authorKeyOf, entryIdOf, spaceKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey, EntryId, SpaceKey } from '../../src/ids/index.ts'

const KEY_BYTES = 32

/** A distinct author key per label (a number is written big-endian, so numbers keep their order too). */
export function authorKey (label: string | number): AuthorKey {
  return authorKeyOf(labelBytes(label))
}

/** A distinct entry id per label. */
export function entryId (label: string | number): EntryId {
  return entryIdOf(labelBytes(label))
}

/** A distinct space key per label: the CID of the label's bytes. */
export function spaceKey (label: string): SpaceKey {
  return spaceKeyOf(cidOf(new TextEncoder().encode(`test space ${label}`)))
}

function labelBytes (label: string | number): Uint8Array {
  const out = new Uint8Array(KEY_BYTES)
  if (typeof label === 'number') {
    assert.ok(Number.isSafeInteger(label) && label >= 0, `a label number is a whole number from 0, got ${label}`)
    new DataView(out.buffer).setBigUint64(0, BigInt(label))
    return out
  }
  const bytes = new TextEncoder().encode(label)
  assert.ok(bytes.length <= KEY_BYTES, `a label is at most ${KEY_BYTES} bytes, got ${JSON.stringify(label)}`)
  out.set(bytes)
  return out
}
