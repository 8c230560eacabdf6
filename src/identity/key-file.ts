import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic, PRIVATE_FILE_MODE } from '../atomic-file/index.ts'
import { SamepageError } from '../ids/index.ts'
import { generateKeyPair, keyPairFromSeed, SEED_SIZE } from './keys.ts'
import type { KeyPair } from './keys.ts'

export const keyFileName = 'identity.key'

// libp2p's PrivateKey protobuf for Ed25519: Type = 1, Data = 64 bytes (seed || public key).
// @libp2p/crypto's privateKeyFromProtobuf reads this file as it is.
const PRIVATE_KEY_PROTOBUF_PREFIX = Uint8Array.of(0x08, 0x01, 0x12, 0x40)
const KEY_FILE_SIZE = PRIVATE_KEY_PROTOBUF_PREFIX.length + 64

type IdentityErrorCode = 'IDENTITY_UNREADABLE' | 'IDENTITY_INSECURE' | 'IDENTITY_MISSING' | 'IDENTITY_MISMATCH'

/** A key file this node will not use; the message says what to do with it. */
export class IdentityError extends SamepageError<IdentityErrorCode> {}

/** The store's file in the data directory: a directory that has one held a node, whose key must not be replaced. */
const STORE_FILE_NAME = 'store.db'

/**
 * Loads the node's key from `dir/identity.key`, creating it (mode 0600,
 * through the atomic writer) when the directory has none. A key file
 * readable by others or of the wrong form is refused with a message that
 * says what to do: a node never silently takes a new identity. So a key is
 * created only where nothing is at `identity.key` (a symbolic link whose
 * target is missing, a secrets mount not mounted yet, is refused, and never
 * replaced), and only in a directory that holds no store: a store without
 * its key is a node whose key was lost or not restored, not a new node.
 */
export function loadOrCreateIdentity (dir: string): KeyPair {
  const file = path.join(dir, keyFileName)
  const stat = statOrNull(file, fs.lstatSync)
  if (stat === null) {
    const store = path.join(dir, STORE_FILE_NAME)
    if (statOrNull(store, fs.lstatSync) !== null) {
      throw new IdentityError('IDENTITY_MISSING', `${file} is missing, but ${store} holds the data of the node ` +
        'whose key it was: put that identity.key back (from a backup), or, to start a new node here, ' +
        'move store.db, store.db-wal and store.db-shm away first')
    }
    return createKeyFile(dir, file)
  }
  const bytes = readKeyFile(file, stat)
  const mode = fs.statSync(file).mode
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8)
    throw new IdentityError('IDENTITY_INSECURE',
      `${file} is readable by other users (mode ${octal}); run: chmod 600 ${file}`)
  }
  const prefixOk = PRIVATE_KEY_PROTOBUF_PREFIX.every((b, i) => bytes[i] === b)
  if (bytes.length !== KEY_FILE_SIZE || !prefixOk) {
    throw new IdentityError('IDENTITY_UNREADABLE', `${file} is not an Ed25519 key in libp2p's format; ` +
      'restore it from a backup, or move it and the store (store.db*) away to start this node with a new identity')
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

/** The key file's bytes; anything but a readable regular file (or a link to one) is refused, naming the file. */
function readKeyFile (file: string, link: fs.Stats): Buffer {
  const target = link.isSymbolicLink() ? statOrNull(file) : link
  if (target === null) {
    throw new IdentityError('IDENTITY_UNREADABLE', `${file} is a symbolic link to ${fs.readlinkSync(file)}, ` +
      'which does not exist (a key store not mounted?): make the key available there, then start again')
  }
  if (!target.isFile()) {
    throw new IdentityError('IDENTITY_UNREADABLE', `${file} is not a file; ` +
      'put the node\'s key file there (from a backup), or move it away if this directory never held a node')
  }
  try {
    return fs.readFileSync(file)
  } catch (err) {
    throw new IdentityError('IDENTITY_UNREADABLE',
      `${file} cannot be read (${(err as Error).message}); give the daemon's user read access to it`)
  }
}

/** What is at `file` (the link itself with lstat), or null when nothing is. */
function statOrNull (file: string, stat: (f: string) => fs.Stats = fs.statSync): fs.Stats | null {
  try {
    return stat(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

function createKeyFile (dir: string, file: string): KeyPair {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const keyPair = generateKeyPair()
  const bytes = Buffer.concat([PRIVATE_KEY_PROTOBUF_PREFIX, keyPair.seed, keyPair.publicKey])
  writeFileAtomic(file, bytes, PRIVATE_FILE_MODE)
  return keyPair
}
