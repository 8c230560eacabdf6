import fs from 'node:fs'
import path from 'node:path'
import { readFileOr, writeFileAtomic, PRIVATE_FILE_MODE } from '../atomic-file/index.ts'
import { SamepageError } from '../ids/index.ts'
import { generateKeyPair, keyPairFromSeed, SEED_SIZE } from './keys.ts'
import type { KeyPair } from './keys.ts'

export const keyFileName = 'identity.key'

// libp2p's PrivateKey protobuf for Ed25519: Type = 1, Data = 64 bytes (seed || public key).
// @libp2p/crypto's privateKeyFromProtobuf reads this file as it is.
const PRIVATE_KEY_PROTOBUF_PREFIX = Uint8Array.of(0x08, 0x01, 0x12, 0x40)
const KEY_FILE_SIZE = PRIVATE_KEY_PROTOBUF_PREFIX.length + 64

type IdentityErrorCode = 'IDENTITY_UNREADABLE' | 'IDENTITY_INSECURE'

/** A key file this node will not use; the message says what to do with it. */
export class IdentityError extends SamepageError<IdentityErrorCode> {}

/**
 * Loads the node's key from `dir/identity.key`, creating it (mode 0600,
 * through the atomic writer) when the directory has none. A key file
 * readable by others or of the wrong form is refused with a message that
 * says what to do: a node never silently takes a new identity.
 */
export function loadOrCreateIdentity (dir: string): KeyPair {
  const file = path.join(dir, keyFileName)
  const bytes = readFileOr(file, null)
  if (bytes === null) return createKeyFile(dir, file)
  const mode = fs.statSync(file).mode
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8)
    throw new IdentityError('IDENTITY_INSECURE',
      `${file} is readable by other users (mode ${octal}); run: chmod 600 ${file}`)
  }
  const prefixOk = PRIVATE_KEY_PROTOBUF_PREFIX.every((b, i) => bytes[i] === b)
  if (bytes.length !== KEY_FILE_SIZE || !prefixOk) {
    throw new IdentityError('IDENTITY_UNREADABLE', `${file} is not an Ed25519 key in libp2p's format; ` +
      'restore it from a backup, or move it away to start this node with a new identity')
  }
  const seed = bytes.subarray(PRIVATE_KEY_PROTOBUF_PREFIX.length, PRIVATE_KEY_PROTOBUF_PREFIX.length + SEED_SIZE)
  const keyPair = keyPairFromSeed(seed)
  const storedPublic = bytes.subarray(PRIVATE_KEY_PROTOBUF_PREFIX.length + SEED_SIZE)
  if (!Buffer.from(storedPublic).equals(Buffer.from(keyPair.publicKey))) {
    throw new IdentityError('IDENTITY_UNREADABLE',
      `${file} is corrupt (its public key does not match its seed); restore it from a backup`)
  }
  return keyPair
}

function createKeyFile (dir: string, file: string): KeyPair {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const keyPair = generateKeyPair()
  const bytes = Buffer.concat([PRIVATE_KEY_PROTOBUF_PREFIX, keyPair.seed, keyPair.publicKey])
  writeFileAtomic(file, bytes, PRIVATE_FILE_MODE)
  return keyPair
}
