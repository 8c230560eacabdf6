import assert from 'node:assert/strict'
import { base58btc } from 'multiformats/bases/base58'
import { describe, IdError } from './ids.ts'

/** A libp2p peer id string ("12D3KooW…"), branded so it is not mixed with other strings. */
export type PeerIdString = string & { readonly __peerId: true }

// libp2p's PublicKey protobuf for Ed25519: field 1 (Type) = 1, field 2 (Data) = 32 bytes.
const PUBLIC_KEY_PROTOBUF_PREFIX = Uint8Array.of(0x08, 0x01, 0x12, 0x20)
// An Ed25519 peer id is the identity multihash (code 0x00, length 36) of that protobuf.
const IDENTITY_MULTIHASH_PREFIX = Uint8Array.of(0x00, 0x24)
const ED25519_PUBLIC_KEY_SIZE = 32
// An Ed25519 peer id is 52 characters; base58 decoding takes time quadratic in the length.
const PEER_ID_CHARS_MAX = 64

/** The constructor: the libp2p peer id of an Ed25519 public key, computed without libp2p. */
export function peerIdOf (publicKey: Uint8Array): PeerIdString {
  assert.equal(publicKey.length, ED25519_PUBLIC_KEY_SIZE, `an Ed25519 public key is 32 bytes, got ${publicKey.length}`)
  const bytes = new Uint8Array(2 + 4 + ED25519_PUBLIC_KEY_SIZE)
  bytes.set(IDENTITY_MULTIHASH_PREFIX, 0)
  bytes.set(PUBLIC_KEY_PROTOBUF_PREFIX, 2)
  bytes.set(publicKey, 6)
  return base58btc.baseEncode(bytes) as PeerIdString
}

/** The public key inside an Ed25519 peer id, or undefined if the string is not one. Never throws. */
export function publicKeyFromPeerId (peerId: string): Uint8Array | undefined {
  if (typeof peerId !== 'string' || peerId.length > PEER_ID_CHARS_MAX) return undefined
  let bytes: Uint8Array
  try {
    bytes = base58btc.baseDecode(peerId)
  } catch {
    return undefined
  }
  if (bytes.length !== 2 + 4 + ED25519_PUBLIC_KEY_SIZE) return undefined
  for (let i = 0; i < 2; i++) if (bytes[i] !== IDENTITY_MULTIHASH_PREFIX[i]) return undefined
  for (let i = 0; i < 4; i++) if (bytes[2 + i] !== PUBLIC_KEY_PROTOBUF_PREFIX[i]) return undefined
  return bytes.slice(6)
}

/**
 * The parser: an Ed25519 peer id from untrusted text, in the one spelling
 * peerIdOf gives it (base58btc is not case-folded, so a decodable string is
 * also checked to encode back to itself).
 */
export function parsePeerId (text: unknown): PeerIdString {
  const publicKey = typeof text === 'string' ? publicKeyFromPeerId(text) : undefined
  if (publicKey === undefined || peerIdOf(publicKey) !== text) {
    throw new IdError('BAD_PEER_ID', `${describe(text)} is not an Ed25519 peer id (52 characters starting 12D3KooW)`)
  }
  return text as PeerIdString
}
