/**
 * Review A, defect 1: what this node signs, every receiver takes. A counter
 * name of 257–1,024 bytes and an invite of more than 1,000,000 uses were
 * signed here and refused by every peer's decoder: the honest writer was
 * scored and its feed stuck at that entry for good. encodeUnsignedEntry now
 * runs the receivers' body checks on every body type, so a body is either
 * refused before it is signed (CodecError: the user's BAD_INPUT) or decodes
 * everywhere as it was written.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  CLOCK_COUNTER_MAX, decodeEntry, FILE_CHUNKS_MAX, FILE_PARTS_MAX, INVITE_KEEP_MAX, INVITE_USES_MAX, isCodecError,
  KEEP_MAX, KEY_BYTES_MAX, NAME_BYTES_MAX, POSITION_MAX, TIME_MS_MAX, VALUE_DEPTH_MAX
} from '../../src/codec/index.ts'
import type { Body, BodyType } from '../../src/codec/index.ts'
import { signEntry } from '../../src/space/index.ts'
import { seededKey } from '../helpers/fixtures.ts'

const KP = seededKey('own-writes', 'writer')
const SPACE = new Uint8Array(36).fill(7)
const id = (n: number): Uint8Array => new Uint8Array(32).fill(n % 256)
const text = (bytes: number): string => 'é'.repeat(bytes >> 1) + 'x'.repeat(bytes & 1) // 2-byte characters, and one
const nest = (depth: number): unknown => depth === 0 ? 'leaf' : [nest(depth - 1)]

/** Signed at the largest position and clock an entry may have, so every fixed field takes its most bytes. */
function signed (body: Body): ReturnType<typeof signEntry> {
  const clock = { wallMs: POSITION_MAX, counter: CLOCK_COUNTER_MAX }
  return signEntry(KP, { space: SPACE, author: KP.publicKey, epoch: POSITION_MAX, seq: POSITION_MAX, prev: id(1), clock, body })
}

/** Every body type at its bounds, as the node's write paths build them (space-data, member-commands, sweep, files). */
const AT_BOUNDS: Record<BodyType, Body[]> = {
  'kv.put': [{ t: 'kv.put', key: text(KEY_BYTES_MAX), value: 'v' }, { t: 'kv.put', key: 'k', value: nest(VALUE_DEPTH_MAX) }],
  'kv.del': [{ t: 'kv.del', key: text(KEY_BYTES_MAX) }, { t: 'kv.del', key: 'k' }],
  'counter.add': [
    { t: 'counter.add', name: text(NAME_BYTES_MAX), delta: Number.MAX_SAFE_INTEGER },
    { t: 'counter.add', name: 'c', delta: -Number.MAX_SAFE_INTEGER }
  ],
  'ledger.append': [{ t: 'ledger.append', tx: nest(VALUE_DEPTH_MAX) }],
  'acl.grant': [{ t: 'acl.grant', member: id(2), role: 'admin', from: { epoch: POSITION_MAX, seq: POSITION_MAX } }],
  'acl.revoke': [{
    t: 'acl.revoke', member: id(2), at: { epoch: POSITION_MAX, seq: POSITION_MAX },
    keep: Array.from({ length: KEEP_MAX }, (_, i) => POSITION_MAX - 1 - i)
  }],
  invite: [
    { t: 'invite', key: id(3), role: 'reader', uses: INVITE_USES_MAX, expiresMs: TIME_MS_MAX },
    { t: 'invite', key: id(3), role: 'writer', uses: 1, expiresMs: 0 }
  ],
  'invite.revoke': [{ t: 'invite.revoke', invite: id(4), keep: Array.from({ length: INVITE_KEEP_MAX }, (_, i) => id(i)) }],
  join: [{ t: 'join', invite: id(5), proof: new Uint8Array(64).fill(6) }],
  'invite.redeem': [{ t: 'invite.redeem', invite: id(5), join: id(6) }],
  file: [
    {
      t: 'file', path: 'a/b.txt', size: FILE_CHUNKS_MAX, mode: 0o644, mtimeMs: POSITION_MAX, deleted: false,
      supersedes: [id(7)], chunks: Array.from({ length: FILE_CHUNKS_MAX }, (_, i) => [id(i), 1] as const)
    },
    {
      t: 'file', path: 'big', size: 1, mode: 0o600, mtimeMs: 0, deleted: false, supersedes: [], chunks: [],
      parts: Array.from({ length: FILE_PARTS_MAX }, (_, i) => ({ epoch: POSITION_MAX, seq: i }))
    }
  ],
  'file.part': [{ t: 'file.part', chunks: Array.from({ length: FILE_CHUNKS_MAX }, (_, i) => [id(i), 1] as const) }]
}

test('every body type at its bounds is signed, and decodes with the receivers\' decoder as written', () => {
  for (const [type, bodies] of Object.entries(AT_BOUNDS)) {
    for (const body of bodies) {
      const e = signed(body)
      assert.deepEqual(decodeEntry(e.bytes, e.sig).body, body, type)
    }
  }
})

/** A field of each body type drawn around its bound: below, at, just past, far past. */
const around = (bound: number): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: 0, max: bound + 2 }), fc.constantFrom(bound - 1, bound, bound + 1, bound * 4))
const generated: fc.Arbitrary<Body> = fc.oneof(
  around(KEY_BYTES_MAX).map((n): Body => ({ t: 'kv.del', key: 'k'.repeat(n) })),
  fc.tuple(around(NAME_BYTES_MAX), fc.integer()).map(([n, delta]): Body => ({ t: 'counter.add', name: text(n), delta })),
  around(INVITE_USES_MAX).map((uses): Body => ({ t: 'invite', key: id(3), role: 'writer', uses, expiresMs: 1 })),
  around(KEEP_MAX).map((n): Body => ({
    t: 'acl.revoke', member: id(2), at: { epoch: 9, seq: 0 }, keep: Array.from({ length: n }, (_, i) => i)
  })),
  around(INVITE_KEEP_MAX).map((n): Body => ({
    t: 'invite.revoke', invite: id(4), keep: Array.from({ length: n }, (_, i) => id(i))
  })),
  fc.constantFrom<Body>(
    { t: 'counter.add', name: 'c', delta: 1.5 },
    { t: 'acl.grant', member: id(2), role: 'owner' as 'admin', from: { epoch: 0, seq: 0 } },
    { t: 'join', invite: id(5), proof: new Uint8Array(63) },
    { t: 'invite.redeem', invite: new Uint8Array(31), join: id(6) },
    { t: 'kv.put', key: 'k', value: 1, extra: true } as unknown as Body
  )
)

test('whatever a body holds, signing refuses it or every receiver decodes it as written', () => {
  fc.assert(fc.property(generated, body => {
    let e: ReturnType<typeof signEntry>
    try {
      e = signed(body)
    } catch (err) {
      assert.ok(isCodecError(err), String(err)) // the user's BAD_INPUT, naming the field and its limit
      return
    }
    assert.deepEqual(decodeEntry(e.bytes, e.sig).body, body)
  }), { numRuns: 300 })
})
