/**
 * Counts Ed25519 signature checks. Imported first by a test file (before anything imports src/identity/keys.ts,
 * which takes libsodium's verify once, when it loads).
 */
import sodium from 'sodium-native'

export const signatureChecks = { count: 0 }
const verify = sodium.crypto_sign_verify_detached
sodium.crypto_sign_verify_detached = ((...args: Parameters<typeof verify>) => {
  signatureChecks.count++
  return verify(...args)
}) as typeof verify
