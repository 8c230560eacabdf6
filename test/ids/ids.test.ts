/**
 * ids/: each id has one constructor (from bytes) and one parser (from
 * untrusted text); the parser takes exactly what the constructor makes and
 * refuses anything else with an IdError of a stable code.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import {
  IdError, SamepageError, hasCode, authorKeyOf, entryIdOf, spaceKeyOf, feedKeyOf, keyBytes,
  parseAuthorKey, parseEntryId, parseSpaceKey, parseFeedKey, parsePeerId, peerIdOf, publicKeyFromPeerId,
  isAuthorKey, isSpaceKey, quotedIfUnsafe
} from '../../src/ids/index.ts'
import type { IdErrorCode } from '../../src/ids/index.ts'
import { cidOf, CodecError } from '../../src/codec/index.ts'
import { generateKeyPair, IdentityError } from '../../src/identity/index.ts'
import { NodeError } from '../../src/node/index.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import { base58btc } from 'multiformats/bases/base58'

function refused (code: IdErrorCode, fn: () => unknown): IdError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof IdError, String(err))
    assert.ok(err instanceof SamepageError)
    assert.equal(err.code, code)
    assert.equal(err.name, 'IdError')
    return err
  }
  assert.fail(`not refused with ${code}`)
}

const HOSTILE: readonly unknown[] = [
  undefined, null, 0, 1.5, {}, [], '', ' ', 'x'.repeat(10_000), '\u0000', '../../etc/passwd', '0x00'
]

test('an author key is the lowercase hex of a 32-byte public key, and parses back to itself', () => {
  const { publicKey } = generateKeyPair()
  const author = authorKeyOf(publicKey)
  assert.equal(author, Buffer.from(publicKey).toString('hex'))
  assert.equal(parseAuthorKey(author), author)
  assert.ok(isAuthorKey(author))
  assert.deepEqual(keyBytes(author), publicKey)
  assert.throws(() => authorKeyOf(new Uint8Array(31)), assert.AssertionError)
})

test('the author key parser refuses anything but 64 lowercase hex digits, with BAD_AUTHOR_KEY', () => {
  const good = 'ab'.repeat(32)
  const near = [good.toUpperCase(), good.slice(1), `${good}0`, ` ${good}`, `${good}\n`, 'g'.repeat(64)]
  for (const text of [...HOSTILE, ...near]) {
    const err = refused('BAD_AUTHOR_KEY', () => parseAuthorKey(text))
    assert.ok(err.message.includes('author key'), err.message)
    assert.ok(err.message.length < 200, 'a long input is cut short in the message')
    assert.equal(isAuthorKey(text), false)
  }
})

test('an entry id is the hex of a SHA-256 digest; the parser refuses the rest with BAD_ENTRY_ID', () => {
  const digest = crypto.createHash('sha256').update('entry').digest()
  const id = entryIdOf(digest)
  assert.equal(parseEntryId(id), id)
  assert.throws(() => entryIdOf(new Uint8Array(33)), assert.AssertionError)
  for (const text of [...HOSTILE, id.toUpperCase(), id.slice(2)]) refused('BAD_ENTRY_ID', () => parseEntryId(text))
})

test('a space key is the base32 CID of a genesis; the parser takes only that spelling, with BAD_SPACE_KEY', () => {
  const cid = cidOf(Uint8Array.of(0xa0))
  const key = spaceKeyOf(cid)
  assert.equal(key, cid.toString())
  assert.ok(key.startsWith('bafyrei'))
  assert.equal(parseSpaceKey(key), key)
  assert.ok(isSpaceKey(key))
  const otherSpellings = [cid.toString(base58btc), key.toUpperCase(), `${key} `, key.slice(0, -1)]
  const otherKinds = ['QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', 'bafkqaaa']
  for (const text of [...HOSTILE, ...otherSpellings, ...otherKinds]) {
    const err = refused('BAD_SPACE_KEY', () => parseSpaceKey(text))
    assert.ok(err.message.includes('space id'), err.message)
  }
})

test('a feed key is author and epoch; the parser gives both back and refuses the rest with BAD_FEED_KEY', () => {
  const author = authorKeyOf(generateKeyPair().publicKey)
  const key = feedKeyOf(author, 3)
  assert.equal(key, `${author}/3`)
  assert.deepEqual(parseFeedKey(key), { author, epoch: 3 })
  assert.deepEqual(parseFeedKey(feedKeyOf(author, 0)), { author, epoch: 0 })
  assert.throws(() => feedKeyOf(author, -1), assert.AssertionError)
  assert.throws(() => feedKeyOf(author, 1.5), assert.AssertionError)
  const bad = [`${author}/`, `${author}/-1`, `${author}/01`, `${author}/1e3`, `${author}/99999999999999999`,
    `${author}|3`, `${author.toUpperCase()}/3`, `/3`, `${author}/3/4`]
  for (const text of [...HOSTILE, ...bad]) refused('BAD_FEED_KEY', () => parseFeedKey(text))
})

test('a peer id is libp2p\'s for the same key; the parser takes only Ed25519 peer ids, with BAD_PEER_ID', () => {
  const { publicKey } = generateKeyPair()
  const peerId = peerIdOf(publicKey)
  assert.equal(peerIdFromString(peerId).toString(), peerId)
  assert.equal(parsePeerId(peerId), peerId)
  assert.deepEqual(publicKeyFromPeerId(peerId), publicKey)
  assert.throws(() => peerIdOf(new Uint8Array(33)), assert.AssertionError)
  const rsaPeerId = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'
  for (const text of [...HOSTILE, rsaPeerId, peerId.slice(1), `${peerId}1`, authorKeyOf(publicKey)]) {
    refused('BAD_PEER_ID', () => parsePeerId(text))
  }
})

test('every error of the library is a SamepageError with its code, its own name, and its cause', () => {
  const cause = new Error('underneath')
  const errors = [
    new CodecError('MALFORMED', 'entry: not CBOR', { cause }),
    new IdentityError('IDENTITY_UNREADABLE', 'bad key', { cause }),
    new NodeError('BAD_INPUT', 'no such thing', { cause }),
    new IdError('BAD_SPACE_KEY', 'not a space', { cause })
  ]
  for (const err of errors) {
    assert.ok(err instanceof SamepageError)
    assert.ok(hasCode(err))
    assert.equal(err.name, err.constructor.name)
    assert.equal(err.cause, cause)
  }
  assert.ok(hasCode(errors[2], 'BAD_INPUT', 'NOT_ALLOWED'))
  assert.ok(!hasCode(errors[2], 'NOT_ALLOWED'))
  assert.ok(!hasCode(Object.assign(new Error('x'), { code: 'BAD_INPUT' }), 'BAD_INPUT'), 'a plain error is not ours')
})

test('quotedIfUnsafe: text as it is, or with a control or bidi character as an escaped JSON string, whole', () => {
  assert.equal(quotedIfUnsafe('plain key été'), 'plain key été')
  assert.equal(quotedIfUnsafe('line\nbreak\tand tab'), '"line\\nbreak\\tand tab"')
  assert.equal(quotedIfUnsafe('\u001b]0;pwned\u0007'), '"\\u001b]0;pwned\\u0007"')
  assert.equal(quotedIfUnsafe('rtl\u202eevil\u0085'), '"rtl\\u202eevil\\u0085"')
  assert.equal(JSON.parse(quotedIfUnsafe(`x${'y'.repeat(10_000)}\n`)), `x${'y'.repeat(10_000)}\n`, 'nothing cut')
})
