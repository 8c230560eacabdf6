import crypto from 'node:crypto'
import { defaultCrypto } from '@libp2p/noise/crypto'
import type { ICryptoInterface } from '@libp2p/noise'

/**
 * Noise's own ChaCha20-Poly1305 through node:crypto, with one change: the
 * session key is imported once (a KeyObject per key, kept while the key
 * lives), where the default imports it again for every frame of at most
 * 64 KiB. Measured by the bulk-transfer note of design.md: 10-15% of the
 * CPU of a transfer. Frames under 1,200 bytes keep the default path (its
 * WebAssembly implementation is faster there).
 */
const SMALL_FRAME = 1200
const keys = new WeakMap<Uint8Array, crypto.KeyObject>()

function keyObject (k: Uint8Array): crypto.KeyObject {
  let key = keys.get(k)
  if (key === undefined) keys.set(k, key = crypto.createSecretKey(k))
  return key
}

export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    if (plaintext.byteLength < SMALL_FRAME || !(plaintext instanceof Uint8Array)) {
      return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    }
    const cipher = crypto.createCipheriv('chacha20-poly1305', keyObject(k), nonce, { authTagLength: 16 })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const out = Buffer.allocUnsafe(plaintext.byteLength + 16)
    const updated = cipher.update(plaintext)
    updated.copy(out, 0)
    cipher.final()
    cipher.getAuthTag().copy(out, plaintext.byteLength)
    return out
  },
  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < SMALL_FRAME || !(ciphertext instanceof Uint8Array)) {
      return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
    }
    const decipher = crypto.createDecipheriv('chacha20-poly1305', keyObject(k), nonce, { authTagLength: 16 })
    const text = ciphertext.subarray(0, ciphertext.length - 16)
    decipher.setAAD(ad, { plaintextLength: text.byteLength })
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16))
    const output = decipher.update(text)
    decipher.final()
    return output
  }
}
