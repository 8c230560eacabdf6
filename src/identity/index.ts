/**
 * identity/: a node's Ed25519 key pair, its peer id, signing and verifying.
 *
 * Owns the key file in the data directory (mode 0600, libp2p's protobuf
 * private-key format, so the node's libp2p peer id comes from the same key)
 * and the one signature primitive the project uses. Imports nothing of the
 * project; everything imports it.
 */
export { generateKeyPair, keyPairFromSeed, verifySignature, signDomain } from './keys.ts'
export type { KeyPair } from './keys.ts'
export { loadOrCreateIdentity, keyFileName, IdentityError } from './key-file.ts'
export { peerIdOf, publicKeyFromPeerId } from './peer-id.ts'
export type { PeerIdString } from './peer-id.ts'
