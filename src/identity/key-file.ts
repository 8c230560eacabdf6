import fs from 'node:fs'
import path from 'node:path'
import { generateKeyPair, keyPairFromSeed, SEED_SIZE } from './keys.ts'
import type { KeyPair } from './keys.ts'

export const keyFileName = 'identity.key'
const KEY_FILE_MODE = 0o600

// libp2p's PrivateKey protobuf for Ed25519: Type = 1, Data = 64 bytes (seed || public key).
// @libp2p/crypto's privateKeyFromProtobuf reads this file as it is.
const PRIVATE_KEY_PROTOBUF_PREFIX = Uint8Array.of(0x08, 0x01, 0x12, 0x40)
const KEY_FILE_SIZE = PRIVATE_KEY_PROTOBUF_PREFIX.length + 64

export class IdentityError extends Error {
  readonly code: 'IDENTITY_UNREADABLE' | 'IDENTITY_INSECURE'
  constructor (code: IdentityError['code'], message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options)
    this.name = 'IdentityError'
    this.code = code
  }
}

/**
 * Loads the node's key from `dir/identity.key`, creating it (mode 0600,
 * written to a temporary file, fsynced and renamed) when the directory has
 * none. A key file readable by others or of the wrong form is refused with
 * a message that says what to do: a node never silently takes a new identity.
 */
export function loadOrCreateIdentity (dir: string): KeyPair {
  const file = path.join(dir, keyFileName)
  if (!fs.existsSync(file)) return createKeyFile(dir, file)
  const stat = fs.statSync(file)
  if ((stat.mode & 0o077) !== 0) {
    throw new IdentityError('IDENTITY_INSECURE', `${file} is readable by other users (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`)
  }
  const bytes = fs.readFileSync(file)
  const prefixOk = PRIVATE_KEY_PROTOBUF_PREFIX.every((b, i) => bytes[i] === b)
  if (bytes.length !== KEY_FILE_SIZE || !prefixOk) {
    throw new IdentityError('IDENTITY_UNREADABLE', `${file} is not an Ed25519 key in libp2p's format; restore it from a backup, or move it away to start this node with a new identity`)
  }
  const seed = bytes.subarray(PRIVATE_KEY_PROTOBUF_PREFIX.length, PRIVATE_KEY_PROTOBUF_PREFIX.length + SEED_SIZE)
  const keyPair = keyPairFromSeed(seed)
  const storedPublic = bytes.subarray(PRIVATE_KEY_PROTOBUF_PREFIX.length + SEED_SIZE)
  if (!Buffer.from(storedPublic).equals(Buffer.from(keyPair.publicKey))) {
    throw new IdentityError('IDENTITY_UNREADABLE', `${file} is corrupt (its public key does not match its seed); restore it from a backup`)
  }
  return keyPair
}

function createKeyFile (dir: string, file: string): KeyPair {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const keyPair = generateKeyPair()
  const bytes = Buffer.concat([PRIVATE_KEY_PROTOBUF_PREFIX, keyPair.seed, keyPair.publicKey])
  const tmp = `${file}.${process.pid}.tmp`
  // A crash between open and rename leaves this behind, and pids repeat (in a container, always):
  // no live process but this one can own it, so remove it rather than fail with EEXIST on every start.
  fs.rmSync(tmp, { force: true })
  const fd = fs.openSync(tmp, 'wx', KEY_FILE_MODE)
  try {
    fs.writeSync(fd, bytes)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  return keyPair
}
