import sodium from 'sodium-native'

/**
 * Ed25519 through libsodium (sodium-native, prebuilt N-API binary).
 * Chosen by figures (npm run bench, `signatures`): on this kind of machine it
 * verified ~18,000 signatures/s per core against ~9,400/s for node:crypto with
 * reused KeyObjects and ~800/s for @noble/curves. Signatures are identical to
 * node:crypto's and libp2p's (Ed25519 is deterministic).
 */
export interface KeyPair {
  /** 32-byte raw public key: the author id in spaces. */
  readonly publicKey: Uint8Array
  /** 32-byte seed: libp2p's raw private key is seed || publicKey. */
  readonly seed: Uint8Array
  sign(message: Uint8Array): Uint8Array
}

const PUBLIC_KEY_SIZE = 32
export const SEED_SIZE = 32
const SIGNATURE_SIZE = 64

export function keyPairFromSeed (seed: Uint8Array): KeyPair {
  if (seed.length !== SEED_SIZE) throw new RangeError(`an Ed25519 seed is ${SEED_SIZE} bytes, got ${seed.length}`)
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES)
  const secretKey = sodium.sodium_malloc(sodium.crypto_sign_SECRETKEYBYTES)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, Buffer.from(seed))
  const pub = new Uint8Array(publicKey)
  return {
    publicKey: pub,
    seed: new Uint8Array(seed),
    sign (message: Uint8Array): Uint8Array {
      const sig = Buffer.alloc(sodium.crypto_sign_BYTES)
      sodium.crypto_sign_detached(sig, toBuffer(message), secretKey)
      return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength)
    }
  }
}

export function generateKeyPair (): KeyPair {
  const seed = Buffer.alloc(SEED_SIZE)
  sodium.randombytes_buf(seed)
  return keyPairFromSeed(seed)
}

/** Never throws: a wrong size of key or signature is simply not valid. */
export function verifySignature (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_SIZE || signature.length !== SIGNATURE_SIZE) return false
  try {
    return sodium.crypto_sign_verify_detached(toBuffer(signature), toBuffer(message), toBuffer(publicKey))
  } catch {
    return false
  }
}

/**
 * Domain separation: what is signed is `domain || payload`, so a signature
 * made for one purpose (an entry id) can never be replayed as another (a join
 * countersignature, a status record).
 */
export function signDomain (domain: string, payload: Uint8Array): Uint8Array {
  const prefix = Buffer.from(domain, 'utf8')
  const out = new Uint8Array(prefix.length + payload.length)
  out.set(prefix, 0)
  out.set(payload, prefix.length)
  return out
}

function toBuffer (bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
