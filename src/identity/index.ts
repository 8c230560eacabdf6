/**
 * identity/: a node's Ed25519 key pair, its peer id, signing and verifying.
 *
 * Owns the key file in the data directory (mode 0600, libp2p's protobuf
 * private-key format, so the node's libp2p peer id comes from the same key)
 * and the one signature primitive the project uses. Imports only the two
 * folders below it (ids/ for peer ids and the error base, atomic-file/ to
 * write the key); everything imports it. Peer ids live in ids/ and are
 * re-exported here for the folders that already import them from here.
 */
export { generateKeyPair, keyPairFromSeed, verifySignature, signDomain } from './keys.ts'
export type { KeyPair } from './keys.ts'
export { loadOrCreateIdentity, keyFileName, IdentityError } from './key-file.ts'
export { peerIdOf, publicKeyFromPeerId } from '../ids/index.ts'
