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

/** sodium-native 5 takes any typed array (it asserts ArrayBuffer.isView); its types still say Buffer. */
const signDetached = sodium.crypto_sign_detached as (sig: Uint8Array, message: Uint8Array, secretKey: Buffer) => void
const verifyDetached = sodium.crypto_sign_verify_detached as
  (sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean

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
      // sodium-native takes any typed array: no Buffer view of the message, and the signature is its own array.
      const sig = new Uint8Array(SIGNATURE_SIZE)
      signDetached(sig, message, secretKey)
      return sig
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
    return verifyDetached(signature, message, publicKey)
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
  const prefix = domainBytes(domain)
  const out = new Uint8Array(prefix.length + payload.length)
  out.set(prefix, 0)
  out.set(payload, prefix.length)
  return out
}

/** The few domains' bytes, encoded once (every entry signed or verified names one). */
const domains = new Map<string, Uint8Array>()
const DOMAINS_CACHED = 16

function domainBytes (domain: string): Uint8Array {
  let bytes = domains.get(domain)
  if (bytes === undefined) {
    bytes = new Uint8Array(Buffer.from(domain, 'utf8'))
    if (domains.size < DOMAINS_CACHED) domains.set(domain, bytes)
  }
  return bytes
}
