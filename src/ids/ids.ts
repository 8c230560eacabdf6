import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { SamepageError } from './errors.ts'

/**
 * The ids of samepage as branded strings: a plain string is not an AuthorKey
 * until the one constructor (from bytes we computed or verified) or the one
 * parser (from untrusted text) made it one, so an entry id cannot be passed
 * where an author is meant, and no caller tests a string with a regex of its
 * own. Strings, not objects, because they are map keys and TEXT columns.
 * A constructor given bytes of the wrong size is our own bug: it asserts.
 *
 *   AuthorKey  64 lowercase hex digits: an Ed25519 public key (32 bytes)
 *   EntryId    64 lowercase hex digits: the SHA-256 of an entry's bytes
 *   SpaceKey   a CIDv1 (dag-cbor, sha2-256) in its base32 spelling: the hash of a space's genesis
 *   FeedKey    "<author>/<epoch>": one author's feed in one epoch
 *   (peer ids: see peer-id.ts)
 */
export type AuthorKey = string & { readonly __brand: 'AuthorKey' }
export type EntryId = string & { readonly __brand: 'EntryId' }
export type SpaceKey = string & { readonly __brand: 'SpaceKey' }
export type FeedKey = string & { readonly __brand: 'FeedKey' }

export type IdErrorCode = 'BAD_AUTHOR_KEY' | 'BAD_ENTRY_ID' | 'BAD_SPACE_KEY' | 'BAD_FEED_KEY' | 'BAD_PEER_ID'

/** Untrusted text that is not the id it was meant to be. */
export class IdError extends SamepageError<IdErrorCode> {}

const KEY_BYTES = 32
const HEX_KEY = /^[0-9a-f]{64}$/
// The multicodec codes a space CID must carry: dag-cbor content, sha2-256 hash.
const DAG_CBOR_CODE = 0x71
const SHA2_256_CODE = 0x12
// A space CID in base32 is 59 characters; anything far longer is not parsed at all.
const SPACE_KEY_CHARS_MAX = 100
const EPOCH_MAX = Number.MAX_SAFE_INTEGER

/** The author key of a 32-byte Ed25519 public key. */
export function authorKeyOf (publicKey: Uint8Array): AuthorKey {
  return hexOf32(publicKey, 'an Ed25519 public key') as AuthorKey
}

/** The entry id of a 32-byte SHA-256 digest (of an entry's bytes). */
export function entryIdOf (digest: Uint8Array): EntryId {
  return hexOf32(digest, 'a SHA-256 digest') as EntryId
}

/** The space key of a space's CID (see codec's cidOf). */
export function spaceKeyOf (cid: CID): SpaceKey {
  assert.ok(isSpaceCid(cid), `a space is named by a CIDv1 of dag-cbor and sha2-256, not ${cid.toString()}`)
  return cid.toString() as SpaceKey
}

/** The key of one author's feed in one epoch. */
export function feedKeyOf (author: AuthorKey, epoch: number): FeedKey {
  assert.ok(isEpoch(epoch), `an epoch is a whole number from 0, got ${epoch}`)
  return `${author}/${epoch}` as FeedKey
}

export function isAuthorKey (text: unknown): text is AuthorKey {
  return typeof text === 'string' && HEX_KEY.test(text)
}

export function isEntryId (text: unknown): text is EntryId {
  return typeof text === 'string' && HEX_KEY.test(text)
}

export function isSpaceKey (text: unknown): text is SpaceKey {
  if (typeof text !== 'string' || text.length > SPACE_KEY_CHARS_MAX) return false
  let cid: CID
  try {
    cid = CID.parse(text)
  } catch {
    return false
  }
  // Only the one spelling: a space key is a map key and a column value, compared as a string.
  return isSpaceCid(cid) && cid.toString() === text
}

export function parseAuthorKey (text: unknown): AuthorKey {
  if (!isAuthorKey(text)) {
    throw new IdError('BAD_AUTHOR_KEY', `${describe(text)} is not an author key (64 lowercase hex digits)`)
  }
  return text
}

export function parseEntryId (text: unknown): EntryId {
  if (!isEntryId(text)) {
    throw new IdError('BAD_ENTRY_ID', `${describe(text)} is not an entry id (64 lowercase hex digits)`)
  }
  return text
}

export function parseSpaceKey (text: unknown): SpaceKey {
  if (!isSpaceKey(text)) {
    throw new IdError('BAD_SPACE_KEY', `${describe(text)} is not a space id (a CID like bafyrei…, 59 characters)`)
  }
  return text
}

/** A feed key from untrusted text, taken apart. */
export function parseFeedKey (text: unknown): { readonly author: AuthorKey, readonly epoch: number } {
  const parts = typeof text === 'string' ? text.split('/', 3) : []
  const [author, digits] = parts
  const epoch = parts.length === 2 && /^(0|[1-9][0-9]{0,15})$/.test(digits ?? '') ? Number(digits) : -1
  if (!isAuthorKey(author) || !isEpoch(epoch)) {
    throw new IdError('BAD_FEED_KEY', `${describe(text)} is not a feed key ("<author key>/<epoch>")`)
  }
  return { author, epoch }
}

/** The 32 bytes behind an author key or an entry id. */
export function keyBytes (key: AuthorKey | EntryId): Uint8Array {
  return new Uint8Array(Buffer.from(key, 'hex'))
}

/** Untrusted text as it can be quoted in a message: its type, or at most 80 characters of it. */
export function describe (text: unknown): string {
  if (typeof text !== 'string') return `a ${text === null ? 'null' : typeof text}`
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)
}

function isSpaceCid (cid: CID): boolean {
  return cid.version === 1 && cid.code === DAG_CBOR_CODE && cid.multihash.code === SHA2_256_CODE
}

function isEpoch (epoch: number): boolean {
  return Number.isSafeInteger(epoch) && epoch >= 0 && epoch <= EPOCH_MAX
}

function hexOf32 (bytes: Uint8Array, what: string): string {
  assert.equal(bytes.length, KEY_BYTES, `${what} is ${KEY_BYTES} bytes, got ${bytes.length}`)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
