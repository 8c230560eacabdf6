import {
  decodeEntry, decodeGenesis, encodeGenesis, encodeStatus, encodeUnsignedEntry, sha256,
  ENTRY_SIGNATURE_DOMAIN, GENESIS_SIGNATURE_DOMAIN, JOIN_PROOF_DOMAIN, STATUS_SIGNATURE_DOMAIN
} from '../codec/index.ts'
import type { Entry, Genesis, SignedGenesis, StatusRecord, UnsignedEntry } from '../codec/index.ts'
import { signDomain, verifySignature } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'

/** What each kind of record signs, in one place, so signer and verifier cannot drift. */

export function signEntry (keyPair: KeyPair, unsigned: UnsignedEntry): Entry {
  const bytes = encodeUnsignedEntry(unsigned)
  const id = sha256(bytes)
  return { ...unsigned, id, bytes, sig: keyPair.sign(signDomain(ENTRY_SIGNATURE_DOMAIN, id)) }
}

export function entrySignatureValid (entry: { author: Uint8Array, id: Uint8Array, sig: Uint8Array }): boolean {
  return verifySignature(entry.author, signDomain(ENTRY_SIGNATURE_DOMAIN, entry.id), entry.sig)
}

export function signGenesis (keyPair: KeyPair, genesis: Omit<Genesis, 'owner'>): SignedGenesis {
  const bytes = encodeGenesis({ ...genesis, owner: keyPair.publicKey })
  const sig = keyPair.sign(signDomain(GENESIS_SIGNATURE_DOMAIN, sha256(bytes)))
  return decodeGenesis(bytes, sig)
}

export function genesisSignatureValid (g: SignedGenesis): boolean {
  return verifySignature(g.owner, signDomain(GENESIS_SIGNATURE_DOMAIN, sha256(g.bytes)), g.sig)
}

/**
 * The invite key countersigns (space, joiner): the token's secret never
 * travels, and a proof cannot be reused by another author.
 */
function joinProofPayload (space: Uint8Array, joiner: Uint8Array): Uint8Array {
  const out = new Uint8Array(space.length + joiner.length)
  out.set(space, 0)
  out.set(joiner, space.length)
  return signDomain(JOIN_PROOF_DOMAIN, out)
}

export function signJoinProof (inviteKey: KeyPair, space: Uint8Array, joiner: Uint8Array): Uint8Array {
  return inviteKey.sign(joinProofPayload(space, joiner))
}

export function joinProofValid (
  inviteKey: Uint8Array, space: Uint8Array, joiner: Uint8Array, proof: Uint8Array
): boolean {

  return verifySignature(inviteKey, joinProofPayload(space, joiner), proof)
}

export function signStatus (keyPair: KeyPair, record: StatusRecord): { bytes: Uint8Array, sig: Uint8Array } {
  const bytes = encodeStatus(record)
  return { bytes, sig: keyPair.sign(signDomain(STATUS_SIGNATURE_DOMAIN, sha256(bytes))) }
}

export function statusSignatureValid (author: Uint8Array, id: Uint8Array, sig: Uint8Array): boolean {
  return verifySignature(author, signDomain(STATUS_SIGNATURE_DOMAIN, id), sig)
}

/** Re-reads an entry from our own store: its bytes were checked when they arrived. */
export function decodeStoredEntry (bytes: Uint8Array, sig: Uint8Array): Entry {
  return decodeEntry(bytes, sig, false)
}
