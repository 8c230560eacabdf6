/**
 * identity/: the key file (mode, format, refusals), its compatibility with
 * libp2p, peer ids, and Ed25519 signatures that agree with node:crypto.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { privateKeyFromProtobuf, privateKeyToProtobuf, generateKeyPair as libp2pGenerateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import {
  loadOrCreateIdentity, keyFileName, IdentityError, generateKeyPair, keyPairFromSeed, verifySignature, signDomain,
  peerIdOf, publicKeyFromPeerId
} from '../../src/identity/index.ts'

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

const tempDirs: string[] = []
function tempDir (): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-identity-'))
  tempDirs.push(dir)
  return dir
}
test.after(() => { for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true }) })

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777
const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b))
/** A plain Uint8Array view (libp2p and node:crypto hand out Buffers; deepStrictEqual tells them apart). */
const u8 = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

function identityError (fn: () => unknown): IdentityError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof IdentityError, `expected an IdentityError, got ${String(err)}`)
    assert.equal(err.name, 'IdentityError')
    return err
  }
  assert.fail('expected an IdentityError')
}

/** A key file as loadOrCreateIdentity writes it: libp2p's protobuf, Type = Ed25519, Data = seed || public key. */
function keyFileBytes (seed: Uint8Array): Buffer {
  return Buffer.concat([Uint8Array.of(0x08, 0x01, 0x12, 0x40), seed, keyPairFromSeed(seed).publicKey])
}

function writeKeyFile (bytes: Uint8Array, mode = 0o600): string {
  const dir = tempDir()
  fs.writeFileSync(path.join(dir, keyFileName), bytes, { mode })
  fs.chmodSync(path.join(dir, keyFileName), mode) // whatever the umask
  return dir
}

test('loadOrCreateIdentity creates identity.key with mode 0600, and loads the same key the second time', () => {
  const dir = tempDir()
  const file = path.join(dir, keyFileName)
  assert.equal(keyFileName, 'identity.key')
  const first = loadOrCreateIdentity(dir)
  assert.equal(modeOf(file), 0o600)
  assert.deepEqual(fs.readdirSync(dir), [keyFileName], 'no temporary file left behind')
  assert.equal(first.publicKey.length, 32)
  assert.equal(first.seed.length, 32)
  const onDisk = fs.readFileSync(file)
  assert.deepEqual(onDisk, keyFileBytes(first.seed))

  const second = loadOrCreateIdentity(dir)
  assert.deepEqual(second.publicKey, first.publicKey)
  assert.deepEqual(second.seed, first.seed)
  const msg = Buffer.from('same key, same signature')
  assert.deepEqual(second.sign(msg), first.sign(msg))
  assert.deepEqual(fs.readFileSync(file), onDisk, 'loading does not rewrite the file')
  assert.equal(modeOf(file), 0o600)

  // a fresh directory is a fresh identity
  assert.notDeepEqual(loadOrCreateIdentity(tempDir()).publicKey, first.publicKey)
})

test('loadOrCreateIdentity creates a missing data directory (mode 0700)', () => {
  const dir = path.join(tempDir(), 'data', 'node')
  const kp = loadOrCreateIdentity(dir)
  assert.equal(modeOf(dir), 0o700)
  assert.equal(modeOf(path.join(dir, keyFileName)), 0o600)
  assert.deepEqual(loadOrCreateIdentity(dir).publicKey, kp.publicKey)
})

test('a temporary file left by a crash (same pid) does not stop a new key being created', () => {
  const dir = tempDir()
  fs.writeFileSync(path.join(dir, `${keyFileName}.${process.pid}.tmp`), 'half-written')
  const kp = loadOrCreateIdentity(dir)
  assert.deepEqual(fs.readdirSync(dir), [keyFileName])
  assert.deepEqual(loadOrCreateIdentity(dir).publicKey, kp.publicKey)
})

test('identity.key as a symbolic link to a key that is missing (a mount not there): refused, the link kept', () => {
  const dir = tempDir()
  const target = path.join(dir, 'secrets', keyFileName) // the mount that is not mounted
  const file = path.join(dir, keyFileName)
  fs.symlinkSync(target, file)
  const err = identityError(() => loadOrCreateIdentity(dir))
  assert.equal(err.code, 'IDENTITY_UNREADABLE')
  assert.ok(err.message.startsWith(`${file} is a symbolic link to ${target}, which does not exist`), err.message)
  assert.ok(fs.lstatSync(file).isSymbolicLink(), 'the link is not replaced by a new key')
  assert.equal(fs.existsSync(target), false)
  // Once the key is there, it is the one loaded through the link.
  fs.mkdirSync(path.dirname(target))
  const kp = loadOrCreateIdentity(tempDir())
  fs.copyFileSync(path.join(tempDirs.at(-1) as string, keyFileName), target)
  assert.deepEqual(loadOrCreateIdentity(dir).publicKey, kp.publicKey)
})

test('identity.key that is a directory: refused, naming the file', () => {
  const dir = tempDir()
  const file = path.join(dir, keyFileName)
  fs.mkdirSync(file)
  const err = identityError(() => loadOrCreateIdentity(dir))
  assert.equal(err.code, 'IDENTITY_UNREADABLE')
  assert.ok(err.message.startsWith(`${file} is not a file`), err.message)
  assert.ok(fs.statSync(file).isDirectory(), 'left as it was')
})

test('no identity.key beside a store: refused with IDENTITY_MISSING, no key made (a restore that forgot it)', () => {
  const dir = tempDir()
  fs.writeFileSync(path.join(dir, 'store.db'), '') // any store: the node's data, whose key is not here
  const err = identityError(() => loadOrCreateIdentity(dir))
  assert.equal(err.code, 'IDENTITY_MISSING')
  assert.ok(err.message.startsWith(`${path.join(dir, keyFileName)} is missing, but ${path.join(dir, 'store.db')}`),
    err.message)
  assert.match(err.message, /put that identity\.key back/)
  assert.deepEqual(fs.readdirSync(dir), ['store.db'], 'nothing written')
})

test('a key file readable by others is refused with IDENTITY_INSECURE and says to chmod 600', () => {
  const dir = tempDir()
  const kp = loadOrCreateIdentity(dir)
  const file = path.join(dir, keyFileName)
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o666, 0o601]) {
    fs.chmodSync(file, mode)
    const err = identityError(() => loadOrCreateIdentity(dir))
    assert.equal(err.code, 'IDENTITY_INSECURE')
    assert.ok(err.message.includes('chmod 600'), err.message)
    assert.ok(err.message.includes(file), err.message)
    assert.ok(err.message.startsWith(`${file} is readable by other users`), err.message) // the code is .code
    assert.ok(err.message.includes(`mode ${mode.toString(8)}`), err.message)
    // refused, not replaced
    assert.deepEqual(fs.readFileSync(file), keyFileBytes(kp.seed))
  }
  // owner-only modes are fine, read-only included
  for (const mode of [0o600, 0o400]) {
    fs.chmodSync(file, mode)
    assert.deepEqual(loadOrCreateIdentity(dir).publicKey, kp.publicKey)
  }
})

test('a truncated or corrupt key file is refused with IDENTITY_UNREADABLE, and left in place', () => {
  const good = keyFileBytes(crypto.randomBytes(32))
  const wrongPublic = Buffer.from(good)
  wrongPublic[good.length - 1]! ^= 0x01
  const secp256k1Type = Buffer.from(good)
  secp256k1Type[1] = 0x02
  const cases: Array<[string, Uint8Array, string]> = [
    ['empty', new Uint8Array(0), 'libp2p'],
    ['truncated', good.subarray(0, 40), 'libp2p'],
    ['one byte short', good.subarray(0, good.length - 1), 'libp2p'],
    ['one byte too many', Buffer.concat([good, Uint8Array.of(0)]), 'libp2p'],
    ['not Ed25519', secp256k1Type, 'libp2p'],
    ['text', Buffer.from('-----BEGIN PRIVATE KEY-----\n'.padEnd(68, 'A')), 'libp2p'],
    ['public key does not match the seed', wrongPublic, 'corrupt']
  ]
  for (const [what, bytes, says] of cases) {
    const dir = writeKeyFile(bytes)
    const err = identityError(() => loadOrCreateIdentity(dir))
    assert.equal(err.code, 'IDENTITY_UNREADABLE', what)
    assert.ok(err.message.startsWith(path.join(dir, keyFileName)), err.message) // the code is .code
    assert.ok(err.message.includes(says), `${what}: ${err.message}`)
    assert.ok(err.message.includes(path.join(dir, keyFileName)), err.message)
    assert.deepEqual(fs.readFileSync(path.join(dir, keyFileName)), Buffer.from(bytes), `${what}: the file is left alone`)
  }
  assert.deepEqual(loadOrCreateIdentity(writeKeyFile(good)).publicKey, u8(good.subarray(36)))
})

test('the key file is readable by libp2p: same public key, same peer id, same signatures', async () => {
  const dir = tempDir()
  const kp = loadOrCreateIdentity(dir)
  const key = privateKeyFromProtobuf(fs.readFileSync(path.join(dir, keyFileName)))
  assert.equal(key.type, 'Ed25519')
  assert.deepEqual(u8(key.publicKey.raw), kp.publicKey)
  assert.deepEqual(u8(key.raw), u8(Buffer.concat([kp.seed, kp.publicKey])))
  const peerId = peerIdFromPrivateKey(key)
  assert.equal(peerId.toString(), peerIdOf(kp.publicKey))
  assert.ok(peerIdOf(kp.publicKey).startsWith('12D3KooW'))
  const msg = signDomain('samepage/test/v1', Buffer.from('interop'))
  assert.deepEqual(u8(await key.sign(msg)), u8(kp.sign(msg)))
  assert.equal(await key.publicKey.verify(msg, kp.sign(msg)), true)
  // and the other way: a key libp2p made, written in its own format, is loaded as is
  const theirs = await libp2pGenerateKeyPair('Ed25519')
  const other = writeKeyFile(privateKeyToProtobuf(theirs))
  const loaded = loadOrCreateIdentity(other)
  assert.deepEqual(u8(loaded.publicKey), u8(theirs.publicKey.raw))
  assert.equal(peerIdOf(loaded.publicKey), peerIdFromPrivateKey(theirs).toString())
})

test('peerIdOf agrees with libp2p for keys from any seed, and publicKeyFromPeerId inverts it', async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async seed => {
    const ours = keyPairFromSeed(seed)
    const theirs = await generateKeyPairFromSeed('Ed25519', seed)
    assert.deepEqual(u8(ours.publicKey), u8(theirs.publicKey.raw))
    const id = peerIdOf(ours.publicKey)
    assert.equal(id, peerIdFromPrivateKey(theirs).toString())
    assert.deepEqual(publicKeyFromPeerId(id), ours.publicKey)
    const parsed = peerIdFromString(id)
    assert.equal(parsed.type, 'Ed25519')
    assert.ok(parsed.publicKey !== undefined && bytesEqual(parsed.publicKey.raw, ours.publicKey))
  }), { numRuns: 200 })
})

test('publicKeyFromPeerId returns undefined on garbage, and never throws', async () => {
  const kp = generateKeyPair()
  const id = peerIdOf(kp.publicKey)
  const secp = peerIdFromPrivateKey(await libp2pGenerateKeyPair('secp256k1')).toString()
  const garbage = [
    '', ' ', 'hello', '0OIl', '12D3KooW', id.slice(0, -1), `${id}1`, `1${id}`, `z${id}`, ` ${id}`, id.toLowerCase(),
    secp, // a valid libp2p peer id, but not of an Ed25519 key
    peerIdFromString(id).toCID().toString(), // the same peer id as a CID: not the form we use
    'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', // an RSA-style (sha256 multihash) peer id
    '\u0000', '😀', 'x'.repeat(10_000),
    'z'.repeat(1_000_000) // returns at once: base58 decoding is quadratic, so length is checked first
  ]
  for (const s of garbage) assert.equal(publicKeyFromPeerId(s), undefined, JSON.stringify(s.slice(0, 60)))
  const base58 = fc.constantFrom(...'123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz')
  let accepted = 0
  fc.assert(fc.property(fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: base58, maxLength: 80 }),
    fc.string({ unit: base58, minLength: 42, maxLength: 46 }).map(tail => `12D3KooW${tail}`) // near-misses of the real shape
  ), s => {
    const pk = publicKeyFromPeerId(s)
    if (pk === undefined) return
    // only the one canonical string of a key is accepted
    accepted++
    assert.equal(pk.length, 32)
    assert.equal(peerIdOf(pk), s)
  }), { numRuns: 3000 })
  assert.ok(accepted > 0, 'some near-misses are real peer ids')
  // any 38-byte identity multihash with the Ed25519 protobuf prefix is accepted; flip any prefix byte and it is not
  const bytes = Buffer.concat([Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20), kp.publicKey])
  for (let i = 0; i < 6; i++) {
    const bad = Buffer.from(bytes)
    bad[i]! ^= 0x01
    const { base58btc } = await import('multiformats/bases/base58')
    assert.equal(publicKeyFromPeerId(base58btc.baseEncode(bad)), undefined, `prefix byte ${i}`)
  }
})

test('signatures made by our key pair verify with node:crypto, and node:crypto\'s with ours', () => {
  const kp = keyPairFromSeed(crypto.createHash('sha256').update('identity test').digest())
  const nodePublic = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, kp.publicKey]), format: 'der', type: 'spki' })
  const nodePrivate = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, kp.seed]), format: 'der', type: 'pkcs8' })
  assert.deepEqual(new Uint8Array(nodePublic.export({ format: 'der', type: 'spki' }).subarray(12)), kp.publicKey)
  for (const msg of [new Uint8Array(0), Buffer.from('hello'), crypto.randomBytes(10_000), signDomain('samepage/entry/v1', crypto.randomBytes(32))]) {
    const ours = kp.sign(msg)
    assert.equal(ours.length, 64)
    assert.equal(crypto.verify(null, msg, nodePublic, ours), true)
    const theirs = crypto.sign(null, msg, nodePrivate)
    assert.deepEqual(u8(theirs), u8(ours), 'Ed25519 is deterministic: the same signature')
    assert.equal(verifySignature(kp.publicKey, msg, theirs), true)
  }

  // a key pair node:crypto generated
  const pair = crypto.generateKeyPairSync('ed25519')
  const rawPublic = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length))
  const seed = pair.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length)
  assert.deepEqual(keyPairFromSeed(seed).publicKey, rawPublic)
  const msg = Buffer.from('signed by node:crypto')
  const sig = crypto.sign(null, msg, pair.privateKey)
  assert.equal(verifySignature(rawPublic, msg, sig), true)
  assert.equal(crypto.verify(null, msg, pair.publicKey, keyPairFromSeed(seed).sign(msg)), true)

  // and nothing else verifies
  const tampered = Buffer.from(msg)
  tampered[0]! ^= 0x01
  assert.equal(verifySignature(rawPublic, tampered, sig), false)
  const badSig = Buffer.from(sig)
  badSig[10]! ^= 0x40
  assert.equal(verifySignature(rawPublic, msg, badSig), false)
  assert.equal(verifySignature(kp.publicKey, msg, sig), false, 'another key')
  assert.equal(verifySignature(rawPublic, signDomain('samepage/status/v1', msg), sig), false, 'another domain')
})

test('verifySignature rejects a malleated signature (S + L) like node:crypto does', () => {
  const kp = generateKeyPair()
  const msg = Buffer.from('malleability')
  const sig = kp.sign(msg)
  const L = 2n ** 252n + 27742317777372353535851937790883648493n
  let s = 0n
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!)
  let t = s + L
  const malleated = new Uint8Array(sig)
  for (let i = 0; i < 32; i++) { malleated[32 + i] = Number(t & 0xffn); t >>= 8n }
  const nodePublic = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, kp.publicKey]), format: 'der', type: 'spki' })
  assert.equal(crypto.verify(null, msg, nodePublic, malleated), false)
  assert.equal(verifySignature(kp.publicKey, msg, malleated), false)
  assert.equal(verifySignature(kp.publicKey, msg, sig), true)
})

test('verifySignature never throws: wrong-length keys and signatures, invalid points, are simply false', () => {
  const kp = generateKeyPair()
  const msg = Buffer.from('m')
  const sig = kp.sign(msg)
  for (const n of [0, 1, 31, 33, 44, 64]) {
    assert.equal(verifySignature(new Uint8Array(n), msg, sig), false, `key of ${n} bytes`)
    if (n < 32) assert.equal(verifySignature(kp.publicKey.subarray(0, n), msg, sig), false, `a ${n}-byte prefix of the key`)
  }
  for (const n of [0, 1, 32, 63, 65, 128]) assert.equal(verifySignature(kp.publicKey, msg, new Uint8Array(n)), false, `signature of ${n} bytes`)
  assert.equal(verifySignature(Buffer.concat([kp.publicKey, Uint8Array.of(0)]), msg, sig), false)
  assert.equal(verifySignature(kp.publicKey, msg, Buffer.concat([sig, Uint8Array.of(0)])), false)
  // 32 bytes that are no curve point, the identity point, and zeros
  for (const pk of [new Uint8Array(32).fill(0xff), Uint8Array.of(1, ...new Uint8Array(31)), new Uint8Array(32)]) {
    assert.equal(verifySignature(pk, msg, sig), false)
    assert.equal(verifySignature(pk, msg, new Uint8Array(64)), false)
  }
  // views into larger buffers are read at their offset
  const big = new Uint8Array(200)
  big.set(kp.publicKey, 7)
  big.set(sig, 100)
  assert.equal(verifySignature(big.subarray(7, 39), msg, big.subarray(100, 164)), true)

  let calls = 0
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 130 }),
    (pk, m, s) => {
      calls++
      const ok = verifySignature(pk, m, s)
      assert.equal(typeof ok, 'boolean')
      if (pk.length !== 32 || s.length !== 64) assert.equal(ok, false)
    }), { numRuns: 3000 })
  assert.equal(calls, 3000)
})

test('keyPairFromSeed is deterministic and copies its seed; signDomain prefixes the domain', () => {
  const seed = new Uint8Array(32).fill(3)
  const a = keyPairFromSeed(seed)
  const b = keyPairFromSeed(new Uint8Array(32).fill(3))
  assert.deepEqual(a.publicKey, b.publicKey)
  seed.fill(4)
  assert.deepEqual(a.seed, new Uint8Array(32).fill(3), 'the key pair keeps its own copy')
  assert.deepEqual(a.sign(Buffer.from('x')), b.sign(Buffer.from('x')))
  assert.throws(() => keyPairFromSeed(new Uint8Array(31)), RangeError)
  assert.throws(() => keyPairFromSeed(new Uint8Array(64)), RangeError)
  assert.ok(!bytesEqual(generateKeyPair().publicKey, generateKeyPair().publicKey))
  assert.deepEqual(signDomain('ab', Uint8Array.of(1, 2)), Uint8Array.of(0x61, 0x62, 1, 2))
  assert.deepEqual(signDomain('é', new Uint8Array(0)), Uint8Array.of(0xc3, 0xa9))
})
