/**
 * Feed entries, byte for byte: the canonical form, the id, and one exact
 * error (code and field path) for each way an entry can be wrong.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import {
  CodecError, codecReason, isCodecError, encodeCbor, toHex, fromHex, cidOf,
  encodeUnsignedEntry, decodeEntry, comparePositions, compareClocks, POSITION_MAX, GRANTABLE_ROLES,
  encodeGenesis, decodeMessage, encodeMessage,
  ENTRY_BYTES_MAX, localPathProblem, PATH_SEGMENTS_MAX, PROTOCOL_VERSION, KEY_BYTES_MAX, NAME_BYTES_MAX, CLOCK_COUNTER_MAX, INVITE_USES_MAX
} from '../../src/codec/index.ts'
import type { Body, BodyType, UnsignedEntry, CodecErrorCode } from '../../src/codec/index.ts'

const T0 = 1_700_000_000_000
const AUTHOR = new Uint8Array(32).fill(0xa1)
const SPACE = cidOf(encodeGenesis({ name: 'entry tests', createdMs: T0, owner: AUTHOR })).bytes
const SIG = new Uint8Array(64).fill(0x5a)
const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const KEEP_MAX = 4096 // entry.ts: items in a revoke's keep list

function unsigned (body: Body, patch: Partial<UnsignedEntry> = {}): UnsignedEntry {
  return { space: SPACE, author: AUTHOR, epoch: 3, seq: 7, prev: hash(9), clock: { wallMs: T0, counter: 2 }, body, ...patch }
}

const OMIT = Symbol('omit')
type Patch = Record<string, unknown>

/** Canonical bytes of an entry map built by hand (a field set to OMIT is left out), for what the encoder will not write. */
function rawEntry (patch: Patch = {}, body: Patch = { t: 'kv.del', key: 'k' }): Uint8Array {
  const b: Patch = { ...body }
  for (const k of Object.keys(b)) if (b[k] === OMIT) delete b[k]
  const v: Patch = { s: SPACE, a: AUTHOR, e: 3, q: 7, p: null, c: [T0, 2], b, ...patch }
  for (const k of Object.keys(v)) if (v[k] === OMIT) delete v[k]
  return encodeCbor(v)
}

/** The decoder throws a CodecError with this code, whose message is `${code}: ${field}: …`. */
function rejects (fn: () => unknown, code: CodecErrorCode, field: string, detail?: string): CodecError {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  assert.ok(caught !== undefined, `expected ${code} on ${field}, but it decoded`)
  assert.ok(isCodecError(caught) && caught instanceof CodecError, `expected a CodecError, got ${String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  assert.ok(caught.message.startsWith(`${field}: `), `"${caught.message}" should name ${field} first (the code is .code)`)
  if (detail !== undefined) assert.ok(caught.message.includes(detail), `"${caught.message}" should say "${detail}"`)
  return caught
}

const rejectsEntry = (bytes: Uint8Array, code: CodecErrorCode, field: string, detail?: string): CodecError =>
  rejects(() => decodeEntry(bytes, SIG), code, field, detail)

const BODIES: Readonly<Record<BodyType, Body>> = {
  'kv.put': { t: 'kv.put', key: 'notes/today', value: { text: 'hello', tags: ['a', 'b'], n: -1.5, raw: new Uint8Array([1, 2, 3]), none: null } },
  'kv.del': { t: 'kv.del', key: 'notes/today' },
  'counter.add': { t: 'counter.add', name: 'visits', delta: -Number.MAX_SAFE_INTEGER },
  'ledger.append': { t: 'ledger.append', tx: [{ from: 'a', to: 'b', amount: 10 }] },
  'acl.grant': { t: 'acl.grant', member: hash(1), role: 'writer', from: { epoch: 2, seq: 0 } },
  'acl.revoke': { t: 'acl.revoke', member: hash(1), at: { epoch: 2, seq: 5 }, keep: [0, 1] },
  invite: { t: 'invite', key: hash(2), role: 'reader', uses: 3, expiresMs: T0 + 86_400_000 },
  'invite.revoke': { t: 'invite.revoke', invite: hash(3), keep: [hash(4), hash(5)] },
  join: { t: 'join', invite: hash(3), proof: new Uint8Array(64).fill(6) },
  'invite.redeem': { t: 'invite.redeem', invite: new Uint8Array(32).fill(6), join: new Uint8Array(32).fill(8) },
  file: { t: 'file', path: 'docs/été/report.pdf', size: 70_000, mode: 0o644, mtimeMs: T0, deleted: false, supersedes: [hash(7)], chunks: [[hash(8), 65_536], [hash(9), 4_464]] },
  'file.part': { t: 'file.part', chunks: [[hash(8), 65_536], [hash(9), 4_464]] }
}

test('a big file lists its chunks in parts: positions of file.part entries, and no inline chunks', () => {
  const big: Body = { t: 'file', path: 'big.iso', size: 5_000_000_000, mode: 0o644, mtimeMs: T0, deleted: false, supersedes: [], chunks: [], parts: [{ epoch: 3, seq: 0 }, { epoch: 3, seq: 1 }] }
  assert.deepEqual(decodeEntry(encodeUnsignedEntry(unsigned(big)), SIG).body, big)
  const file = { t: 'file', path: 'big.iso', size: 10, mode: 0o644, mtimeMs: T0, deleted: false, supersedes: [] }
  rejects(() => decodeEntry(rawEntry({}, { ...file, chunks: [[hash(1), 10]], parts: [[3, 0]] }), SIG), 'INVALID_FIELD', 'entry.b.parts')
  rejects(() => decodeEntry(rawEntry({}, { ...file, chunks: [], parts: [] }), SIG), 'INVALID_FIELD', 'entry.b.parts')
  rejects(() => decodeEntry(rawEntry({}, { ...file, chunks: [], deleted: true, parts: [[3, 0]] }), SIG), 'INVALID_FIELD', 'entry.b.parts')
  rejects(() => decodeEntry(rawEntry({}, { t: 'file.part', chunks: [] }), SIG), 'INVALID_FIELD', 'entry.b.chunks')
})

test('file records: paths a receiver could not use, and sizes that do not add up, are refused', () => {
  const file = BODIES.file as Extract<Body, { t: 'file' }>
  const cases: [Partial<typeof file>, string][] = [
    [{ path: '/etc/passwd' }, 'absolute'],
    [{ path: 'a/../b' }, 'segment ".."'],
    [{ path: 'a//b' }, 'segment ""'],
    [{ path: 'a\\b' }, 'backslash'],
    [{ path: 'e\u0301t\u00e9' }, 'NFC'],
    [{ size: 70_001 }, 'do not add up'],
    [{ deleted: true }, 'no chunks'],
    [{ mode: 0o10000 }, '']
  ]
  for (const [change, detail] of cases) {
    const body = { ...file, ...change }
    assert.throws(() => encodeUnsignedEntry(unsigned(body)), (err: Error) => err.message.includes(detail), JSON.stringify(change))
  }
  // Depth is a rule of what this node shares, not of records: an earlier version shared deeper paths, and refusing them
  // on arrival stopped their feeds and banned the honest nodes relaying them (a review's probe).
  const deeper = Array.from({ length: PATH_SEGMENTS_MAX + 1 }, () => 'd').join('/')
  assert.equal(decodeEntry(encodeUnsignedEntry(unsigned({ ...file, path: deeper })), SIG).body.t, 'file')
  assert.equal(localPathProblem(deeper), `${PATH_SEGMENTS_MAX + 1} levels deep; at most ${PATH_SEGMENTS_MAX} are shared`)
  assert.equal(localPathProblem(deeper.slice(2)), null)
})

test('a valid entry of every body type round-trips, fields and bytes', () => {
  for (const body of Object.values(BODIES)) {
    const u = unsigned(body)
    const bytes = encodeUnsignedEntry(u)
    assert.equal(bytes.constructor, Uint8Array)
    const e = decodeEntry(bytes, SIG)
    assert.deepStrictEqual(
      { space: e.space, author: e.author, epoch: e.epoch, seq: e.seq, prev: e.prev, clock: e.clock, body: e.body },
      { ...u }, body.t)
    assert.equal(e.bytes, bytes)
    assert.equal(e.sig, SIG)
    assert.deepEqual(encodeUnsignedEntry(e), bytes, `${body.t}: re-encoding the decoded entry gives the same bytes`)
  }
  // prev may be null (first entry of a first epoch)
  assert.equal(decodeEntry(encodeUnsignedEntry(unsigned(BODIES['kv.del'], { prev: null, seq: 0, epoch: 0 })), SIG).prev, null)
})

test('the canonical bytes of an entry are pinned, and its id is SHA-256 of them', () => {
  const u: UnsignedEntry = { space: new Uint8Array(36), author: new Uint8Array(32), epoch: 0, seq: 0, prev: null, clock: { wallMs: 0, counter: 0 }, body: { t: 'kv.del', key: 'k' } }
  const bytes = encodeUnsignedEntry(u)
  // {a: bytes32, b: {t: 'kv.del', key: 'k'}, c: [0, 0], e: 0, p: null, q: 0, s: bytes36}: keys by length then bytes
  assert.equal(toHex(bytes),
    'a7' + '6161' + '5820' + '00'.repeat(32) +
    '6162' + 'a2' + '6174' + '666b762e64656c' + '636b6579' + '616b' +
    '6163' + '820000' + '616500' + '6170f6' + '617100' +
    '6173' + '5824' + '00'.repeat(36))
  const e = decodeEntry(bytes, SIG)
  assert.equal(toHex(e.id), 'b37ded6d3d1e1e332b6a8d0191179ebf23a945edf09a479757dbedf9c6eb274b')
  for (const body of Object.values(BODIES)) {
    const b = encodeUnsignedEntry(unsigned(body))
    assert.deepEqual(decodeEntry(b, SIG).id, new Uint8Array(crypto.createHash('sha256').update(b).digest()), body.t)
  }
  // the id covers every field, and not the signature
  const other = decodeEntry(encodeUnsignedEntry({ ...u, seq: 1 }), SIG)
  assert.notDeepEqual(other.id, e.id)
  assert.deepEqual(decodeEntry(bytes, new Uint8Array(64)).id, e.id)
})

test('each error code comes from a specific input, and its message names the field', () => {
  const good = rawEntry()
  assert.equal(decodeEntry(good, SIG).body.t, 'kv.del')

  // MALFORMED: not DAG-CBOR, or not bytes at all
  rejectsEntry(Uint8Array.of(0xff), 'MALFORMED', 'entry', 'not DAG-CBOR')
  rejectsEntry(good.subarray(0, good.length - 1), 'MALFORMED', 'entry', 'not DAG-CBOR')
  rejectsEntry(new Uint8Array(0), 'MALFORMED', 'entry')
  rejects(() => decodeEntry([...good] as unknown as Uint8Array, SIG), 'MALFORMED', 'entry', 'expected bytes')

  // OVERSIZED: the whole entry, a key, a name, a keep list
  const big = rejectsEntry(new Uint8Array(ENTRY_BYTES_MAX + 1), 'OVERSIZED', 'entry')
  assert.equal(big.message, `entry: ${ENTRY_BYTES_MAX + 1} bytes, limit ${ENTRY_BYTES_MAX}`)
  assert.equal(codecReason(big), `OVERSIZED: entry: ${ENTRY_BYTES_MAX + 1} bytes, limit ${ENTRY_BYTES_MAX}`)
  rejectsEntry(rawEntry({}, { t: 'kv.del', key: 'k'.repeat(KEY_BYTES_MAX + 1) }), 'OVERSIZED', 'entry.b.key', `${KEY_BYTES_MAX + 1} bytes, limit ${KEY_BYTES_MAX}`)
  rejectsEntry(rawEntry({}, { t: 'counter.add', name: 'n'.repeat(NAME_BYTES_MAX + 1), delta: 1 }), 'OVERSIZED', 'entry.b.name')
  rejectsEntry(rawEntry({}, { t: 'acl.revoke', member: hash(1), at: [0, 0], keep: new Array(KEEP_MAX + 1).fill(0) }), 'OVERSIZED', 'entry.b.keep', `${KEEP_MAX + 1} items`)

  // NON_CANONICAL: the same map with its keys out of order
  const pairs = Object.entries({ s: SPACE, a: AUTHOR, e: 3, q: 7, p: null, c: [T0, 2], b: { t: 'kv.del', key: 'k' } })
  const unsorted = new Uint8Array(Buffer.concat([Uint8Array.of(0xa7), ...pairs.flatMap(([k, v]) => [encodeCbor(k), encodeCbor(v)])]))
  assert.equal(unsorted.length, good.length)
  const nc = rejectsEntry(unsorted, 'NON_CANONICAL', 'entry')
  assert.equal(nc.message, 'entry: bytes are not the canonical encoding of their value')
  // ...which bytes read back from our own store skip
  assert.deepEqual(decodeEntry(unsorted, SIG, false).body, { t: 'kv.del', key: 'k' })
  // a float where an integer belongs re-encodes differently: non-canonical too
  assert.equal(toHex(good).split('616503').length, 2) // e: 3, once
  rejectsEntry(fromHex(toHex(good).replace('616503', '6165fb4008000000000000')), 'NON_CANONICAL', 'entry')

  // UNKNOWN_TYPE: a body type this version does not know
  const ut = rejectsEntry(rawEntry({}, { t: 'kv.merge', key: 'k' }), 'UNKNOWN_TYPE', 'entry.b.t')
  assert.equal(ut.message, 'entry.b.t: unknown body type "kv.merge"')
  rejectsEntry(rawEntry({}, { key: 'k' }), 'UNKNOWN_TYPE', 'entry.b.t')
  rejectsEntry(rawEntry({}, { t: 7 }), 'UNKNOWN_TYPE', 'entry.b.t')

  // INVALID_FIELD, one field at a time
  const cases: Array<[string, Uint8Array, string]> = [
    ['entry', encodeCbor([1, 2, 3]), 'expected a map'],
    ['entry.x', rawEntry({ x: 1 }), 'unknown field'],
    ['entry.s', rawEntry({ s: OMIT }), 'expected bytes'],
    ['entry.s', rawEntry({ s: SPACE.subarray(1) }), 'expected 36 bytes, got 35'],
    ['entry.a', rawEntry({ a: new Uint8Array(33) }), 'expected 32 bytes, got 33'],
    ['entry.a', rawEntry({ a: toHex(AUTHOR) }), 'expected bytes'],
    ['entry.e', rawEntry({ e: -1 }), '-1 is outside'],
    ['entry.e', rawEntry({ e: '3' }), 'expected a safe integer'],
    ['entry.q', rawEntry({ q: 1.5 }), 'expected a safe integer'],
    ['entry.q', rawEntry({ q: OMIT }), 'expected a safe integer'],
    ['entry.p', rawEntry({ p: hash(1).subarray(0, 31) }), 'expected 32 bytes, got 31'],
    ['entry.p', rawEntry({ p: OMIT }), 'expected bytes'],
    ['entry.c', rawEntry({ c: [T0] }), 'expected 2 items, got 1'],
    ['entry.c', rawEntry({ c: { wallMs: T0, counter: 0 } }), 'expected an array'],
    ['entry.c[1]', rawEntry({ c: [T0, -1] }), '-1 is outside'],
    ['entry.b', rawEntry({ b: 'kv.del' }), 'expected a map'],
    ['entry.b.zz', rawEntry({}, { t: 'kv.del', key: 'k', zz: 1 }), 'unknown field'],
    ['entry.b.value', rawEntry({}, { t: 'kv.del', key: 'k', value: 1 }), 'unknown field'],
    ['entry.b.key', rawEntry({}, { t: 'kv.del', key: '' }), 'shorter than 1 bytes'],
    ['entry.b.key', rawEntry({}, { t: 'kv.put', key: new Uint8Array(1), value: 1 }), 'expected a string'],
    ['entry.b.value', rawEntry({}, { t: 'kv.put', key: 'k' }), 'missing'],
    ['entry.b.tx', rawEntry({}, { t: 'ledger.append' }), 'missing'],
    ['entry.b.name', rawEntry({}, { t: 'counter.add', delta: 1 }), 'expected a string'],
    ['entry.b.delta', rawEntry({}, { t: 'counter.add', name: 'n', delta: 0.5 }), 'expected a safe integer'],
    ['entry.b.delta', rawEntry({}, { t: 'counter.add', name: 'n', delta: 2 ** 53 }), 'expected a safe integer'],
    ['entry.b.member', rawEntry({}, { t: 'acl.grant', member: hash(1).subarray(1), role: 'writer', from: [0, 0] }), 'expected 32 bytes'],
    ['entry.b.role', rawEntry({}, { t: 'acl.grant', member: hash(1), role: 'owner', from: [0, 0] }), 'expected one of admin, writer, reader'],
    ['entry.b.from', rawEntry({}, { t: 'acl.grant', member: hash(1), role: 'admin', from: [0] }), 'expected 2 items'],
    ['entry.b.at', rawEntry({}, { t: 'acl.revoke', member: hash(1), at: null, keep: [] }), 'expected an array'],
    ['entry.b.keep[1]', rawEntry({}, { t: 'acl.revoke', member: hash(1), at: [0, 0], keep: [0, -2] }), '-2 is outside'],
    ['entry.b.keep', rawEntry({}, { t: 'acl.revoke', member: hash(1), at: [0, 0] }), 'expected an array'],
    ['entry.b.key', rawEntry({}, { t: 'invite', key: 'k', role: 'reader', uses: 1, expiresMs: T0 }), 'expected bytes'],
    ['entry.b.uses', rawEntry({}, { t: 'invite', key: hash(2), role: 'reader', uses: 0, expiresMs: T0 }), `0 is outside 1..${INVITE_USES_MAX}`],
    ['entry.b.uses', rawEntry({}, { t: 'invite', key: hash(2), role: 'reader', uses: INVITE_USES_MAX + 1, expiresMs: T0 }), 'is outside'],
    ['entry.b.expiresMs', rawEntry({}, { t: 'invite', key: hash(2), role: 'reader', uses: 1, expiresMs: -1 }), 'is outside'],
    ['entry.b.invite', rawEntry({}, { t: 'invite.revoke', invite: hash(3).subarray(2), keep: [] }), 'expected 32 bytes, got 30'],
    ['entry.b.keep[0]', rawEntry({}, { t: 'invite.revoke', invite: hash(3), keep: [hash(4).subarray(1)] }), 'expected 32 bytes, got 31'],
    ['entry.b.proof', rawEntry({}, { t: 'join', invite: hash(3), proof: new Uint8Array(63) }), 'expected 64 bytes, got 63'],
    ['entry.b.invite', rawEntry({}, { t: 'join', proof: new Uint8Array(64) }), 'expected bytes']
  ]
  for (const [field, bytes, detail] of cases) rejectsEntry(bytes, 'INVALID_FIELD', field, detail)

  // the signature is checked for its size before anything else
  rejects(() => decodeEntry(good, new Uint8Array(63)), 'INVALID_FIELD', 'entry.sig', 'expected 64 bytes, got 63')
  rejects(() => decodeEntry(Uint8Array.of(0xff), new Uint8Array(0)), 'INVALID_FIELD', 'entry.sig')
})

test('POSITION_MAX (2^48 - 1) bounds epochs, seqs, clock milliseconds and positions in ACL bodies', () => {
  assert.equal(POSITION_MAX, 2 ** 48 - 1)
  const M = POSITION_MAX
  const grant = (from: unknown): Patch => ({ t: 'acl.grant', member: hash(1), role: 'writer', from })
  const revoke = (at: unknown, keep: unknown[] = []): Patch => ({ t: 'acl.revoke', member: hash(1), at, keep })
  const fields: Array<[string, (v: number) => Uint8Array]> = [
    ['entry.e', v => rawEntry({ e: v })],
    ['entry.q', v => rawEntry({ q: v })],
    ['entry.c[0]', v => rawEntry({ c: [v, 0] })],
    ['entry.b.from[0]', v => rawEntry({}, grant([v, 0]))],
    ['entry.b.from[1]', v => rawEntry({}, grant([0, v]))],
    ['entry.b.at[0]', v => rawEntry({}, revoke([v, 0]))],
    ['entry.b.at[1]', v => rawEntry({}, revoke([0, v]))],
    ['entry.b.keep[0]', v => rawEntry({}, revoke([0, 0], [v]))]
  ]
  for (const [field, make] of fields) {
    assert.doesNotThrow(() => decodeEntry(make(M), SIG), field)
    assert.doesNotThrow(() => decodeEntry(make(0), SIG), field)
    rejectsEntry(make(M + 1), 'INVALID_FIELD', field, `${M + 1} is outside 0..${M}`)
    rejectsEntry(make(-1), 'INVALID_FIELD', field, `-1 is outside 0..${M}`)
    rejectsEntry(make(Number.MAX_SAFE_INTEGER), 'INVALID_FIELD', field, 'is outside')
  }
  const top = decodeEntry(encodeUnsignedEntry(unsigned(BODIES['acl.grant'], { epoch: M, seq: M, clock: { wallMs: M, counter: CLOCK_COUNTER_MAX } })), SIG)
  assert.deepEqual([top.epoch, top.seq, top.clock.wallMs, top.clock.counter], [M, M, M, CLOCK_COUNTER_MAX])
  rejectsEntry(rawEntry({ c: [T0, CLOCK_COUNTER_MAX + 1] }), 'INVALID_FIELD', 'entry.c[1]', `outside 0..${CLOCK_COUNTER_MAX}`)
})

test('the other limits hold exactly at their bound', () => {
  const key = 'é'.repeat(KEY_BYTES_MAX / 2) // 2 UTF-8 bytes each: the limit is in bytes, not characters
  assert.equal(decodeEntry(rawEntry({}, { t: 'kv.del', key }), SIG).body.t, 'kv.del')
  rejectsEntry(rawEntry({}, { t: 'kv.del', key: `${key}x` }), 'OVERSIZED', 'entry.b.key')
  assert.doesNotThrow(() => decodeEntry(rawEntry({}, { t: 'counter.add', name: 'n'.repeat(NAME_BYTES_MAX), delta: Number.MAX_SAFE_INTEGER }), SIG))
  assert.doesNotThrow(() => decodeEntry(rawEntry({}, { t: 'acl.revoke', member: hash(1), at: [0, 0], keep: new Array(KEEP_MAX).fill(1) }), SIG))
  assert.doesNotThrow(() => decodeEntry(rawEntry({}, { t: 'invite', key: hash(2), role: 'admin', uses: INVITE_USES_MAX, expiresMs: 0 }), SIG))
  for (const role of GRANTABLE_ROLES) assert.doesNotThrow(() => decodeEntry(rawEntry({}, { t: 'acl.grant', member: hash(1), role, from: [0, 0] }), SIG))

  // an entry of exactly ENTRY_BYTES_MAX bytes is fine; one more byte is not, for the encoder as for the decoder
  const sized = (n: number): UnsignedEntry => unsigned({ t: 'kv.put', key: 'blob', value: new Uint8Array(n) })
  const overhead = encodeUnsignedEntry(sized(60_000)).length - 60_000
  const exact = encodeUnsignedEntry(sized(ENTRY_BYTES_MAX - overhead))
  assert.equal(exact.length, ENTRY_BYTES_MAX)
  assert.equal(decodeEntry(exact, SIG).bytes.length, ENTRY_BYTES_MAX)
  rejects(() => encodeUnsignedEntry(sized(ENTRY_BYTES_MAX - overhead + 1)), 'OVERSIZED', 'entry', `${ENTRY_BYTES_MAX + 1} bytes`)
  const u = sized(ENTRY_BYTES_MAX - overhead + 1)
  const tooBig = encodeCbor({ s: u.space, a: u.author, e: u.epoch, q: u.seq, p: u.prev, c: [u.clock.wallMs, u.clock.counter], b: u.body })
  assert.equal(tooBig.length, ENTRY_BYTES_MAX + 1)
  rejectsEntry(tooBig, 'OVERSIZED', 'entry')
})

test('kv.put without a value is INVALID_FIELD; with value null it is a put of null', () => {
  const e = rejectsEntry(rawEntry({}, { t: 'kv.put', key: 'k' }), 'INVALID_FIELD', 'entry.b.value')
  assert.equal(e.message, 'entry.b.value: missing')
  const putNull = rawEntry({}, { t: 'kv.put', key: 'k', value: null })
  assert.deepEqual(decodeEntry(putNull, SIG).body, { t: 'kv.put', key: 'k', value: null })
  // undefined is not in the data model: dag-cbor reads the 0xf7 byte as null, so it is no way around the check either
  const hex = toHex(putNull)
  assert.equal(hex.split('6576616c7565f6').length, 2) // "value": null, once
  const putUndefined = fromHex(hex.replace('6576616c7565f6', '6576616c7565f7'))
  rejectsEntry(putUndefined, 'NON_CANONICAL', 'entry')
  assert.deepEqual(decodeEntry(putUndefined, SIG, false).body, { t: 'kv.put', key: 'k', value: null })
})

test('a version-vector row with count 0 and a head (or count > 0 and none) is rejected', () => {
  const space = SPACE
  const have = (row: unknown[]): Uint8Array => encodeCbor({ m: 'have', s: space, h: [row] })
  const e = rejects(() => decodeMessage(have([AUTHOR, 0, 0, hash(1), false])), 'INVALID_FIELD', 'have.h[0]')
  assert.equal(e.message, 'have.h[0]: a head is given exactly when count > 0')
  rejects(() => decodeMessage(have([AUTHOR, 0, 5, null, false])), 'INVALID_FIELD', 'have.h[0]', 'a head is given exactly when count > 0')
  const hello = encodeCbor({ m: 'hello', v: PROTOCOL_VERSION, sp: [{ g: [new Uint8Array(10), SIG], f: [[AUTHOR, 0, 0, hash(1), true]], st: [] }] })
  rejects(() => decodeMessage(hello), 'INVALID_FIELD', 'hello.sp[0].f[0]', 'a head is given exactly when count > 0')
  // the two valid forms
  assert.deepEqual(decodeMessage(have([AUTHOR, 0, 0, null, false])), { m: 'have', space, heads: [{ author: AUTHOR, epoch: 0, count: 0, head: null, frozen: false }] })
  const full = { m: 'have', space, heads: [{ author: AUTHOR, epoch: 2, count: 5, head: hash(1), frozen: true }] } as const
  assert.deepEqual(decodeMessage(encodeMessage(full)), full)
  // and an empty range in a want is rejected the same way
  rejects(() => decodeMessage(encodeCbor({ m: 'want', s: space, r: [[AUTHOR, 0, 4, 4]] })), 'INVALID_FIELD', 'want.r[0]', 'empty range 4..4')
})

test('positions and clocks order lexicographically', () => {
  const ps = [{ epoch: 1, seq: 0 }, { epoch: 0, seq: POSITION_MAX }, { epoch: 1, seq: 2 }, { epoch: 0, seq: 0 }]
  assert.deepEqual([...ps].sort(comparePositions), [{ epoch: 0, seq: 0 }, { epoch: 0, seq: POSITION_MAX }, { epoch: 1, seq: 0 }, { epoch: 1, seq: 2 }])
  assert.equal(comparePositions({ epoch: 3, seq: 3 }, { epoch: 3, seq: 3 }), 0)
  const cs = [{ wallMs: T0 + 1, counter: 0 }, { wallMs: T0, counter: 9 }, { wallMs: T0, counter: 1 }]
  assert.deepEqual([...cs].sort(compareClocks), [{ wallMs: T0, counter: 1 }, { wallMs: T0, counter: 9 }, { wallMs: T0 + 1, counter: 0 }])
})
