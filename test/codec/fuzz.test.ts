/**
 * The codec's promise (src/codec/index.ts): every decoder, whatever the
 * bytes, only ever returns a value or throws CodecError. Fed here with pure
 * random bytes, byte-level mutations of valid encodings, and well-formed
 * CBOR of the wrong shape — at least 10,000 runs per decoder per kind,
 * counted — plus the hand-built corner cases (deep nesting, sizes past the
 * limits, non-canonical maps, uint64, unknown types) and round trips.
 *
 * A failure prints fast-check's seed and path; the thrown message also holds
 * the seed and the input as hex. Replay with FUZZ_SEED=<seed>; hunt longer
 * with FUZZ_RUNS=<runs>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as dagCbor from '@ipld/dag-cbor'
import {
  CodecError, isCodecError, encodeCbor, toHex, sha256, cidOf,
  encodeUnsignedEntry, decodeEntry, POSITION_MAX, GRANTABLE_ROLES,
  encodeMessage, decodeMessage, PROTOCOL_VERSION,
  encodeGenesis, decodeGenesis, encodeStatus, decodeStatus,
  ENTRY_BYTES_MAX, GENESIS_BYTES_MAX, STATUS_BYTES_MAX, MESSAGE_BYTES_MAX, KEY_BYTES_MAX, NAME_BYTES_MAX,
  RUN_ENTRIES_MAX, RUN_BYTES_MAX, HELLO_SPACES_MAX, FEEDS_PER_MESSAGE_MAX, REASON_BYTES_MAX,
  CLOCK_COUNTER_MAX, INVITE_USES_MAX, CBOR_DEPTH_MAX
} from '../../src/codec/index.ts'
import { nestedArrays, PLACEHOLDER, withRaw } from '../helpers/raw-cbor.ts'
import type {
  Body, BodyType, UnsignedEntry, Message, MessageType, SignedBytes, FeedRow, FeedRange, Genesis, StatusRecord,
  CodecErrorCode
} from '../../src/codec/index.ts'

/** Valid values never start a string with U+FEFF: the encoder refuses those (see the last test). */
const noBom = (x: string): boolean => x.charCodeAt(0) !== 0xfeff

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) | 0
/** At least 10,000; FUZZ_RUNS=100000 for a longer hunt. */
const RUNS = Math.max(10_000, Number(process.env.FUZZ_RUNS ?? 0) || 0)
/** A safety net only: each property must still reach RUNS (checked by counting). */
const TIME_LIMIT_MS = Math.max(40_000, RUNS * 4)
const SIG = new Uint8Array(64).fill(7)
const CODES: readonly CodecErrorCode[] = ['OVERSIZED', 'MALFORMED', 'NON_CANONICAL', 'INVALID_FIELD', 'UNKNOWN_TYPE']

// ---------------------------------------------------------------------------
// The oracle

interface Decoder { readonly name: string, readonly decode: (bytes: Uint8Array) => unknown }

const DECODERS: readonly Decoder[] = [
  {
    name: 'decodeEntry',
    decode: bytes => {
      // Also the store's path (checkCanonical=false): it must keep the same promise.
      try { decodeEntry(bytes, SIG, false) } catch (err) { if (!isCodecError(err)) throw err }
      const e = decodeEntry(bytes, SIG)
      assert.deepEqual(e.id, sha256(bytes))
      return e
    }
  },
  { name: 'decodeMessage', decode: bytes => decodeMessage(bytes) },
  { name: 'decodeGenesis', decode: bytes => decodeGenesis(bytes, SIG) },
  { name: 'decodeStatus', decode: bytes => decodeStatus(bytes, SIG) }
]

function hexOf (bytes: Uint8Array): string {
  const hex = toHex(bytes)
  return hex.length <= 20_000 ? hex : `${hex.slice(0, 20_000)}… (${bytes.length} bytes)`
}

type Outcome = 'decoded' | CodecErrorCode

/** Runs a decoder; returns what happened if it returned or threw a CodecError, otherwise throws with the input. */
function onlyCodecErrors (decoder: Decoder, bytes: Uint8Array, seed = SEED): Outcome {
  try {
    decoder.decode(bytes)
    return 'decoded'
  } catch (err) {
    if (isCodecError(err) && err instanceof CodecError && CODES.includes(err.code)) return err.code
    const what = err instanceof Error ? (err.stack ?? err.message) : String(err)
    throw new Error(`${decoder.name} threw something other than a CodecError (fast-check seed ${seed}, FUZZ_SEED=${SEED}); input hex: ${hexOf(bytes)}\n${what}`)
  }
}

function codecError (fn: () => unknown): CodecError {
  try {
    fn()
  } catch (err) {
    assert.ok(isCodecError(err), `expected a CodecError, got ${String(err)}`)
    assert.ok(err instanceof CodecError)
    return err
  }
  assert.fail('expected a CodecError, but the decoder returned')
}

function expectCode (fn: () => unknown, code: CodecErrorCode, field?: string): CodecError {
  const err = codecError(fn)
  assert.equal(err.code, code, err.message)
  if (field !== undefined) assert.ok(err.message.includes(field), `${err.message} should name ${field}`)
  return err
}

/**
 * fc.assert over one arbitrary of inputs for one decoder, counting that RUNS
 * inputs really ran; returns how many ended each way (to check that the
 * inputs reach past the first check).
 */
function fuzz (decoder: Decoder, inputs: fc.Arbitrary<Uint8Array>, kind: number, runs = RUNS): Map<Outcome, number> {
  const seed = (SEED + DECODERS.indexOf(decoder) * 3 + kind) | 0
  let calls = 0
  const outcomes = new Map<Outcome, number>()
  fc.assert(fc.property(inputs, bytes => {
    calls++
    const outcome = onlyCodecErrors(decoder, bytes, seed)
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
  }), { numRuns: runs, seed, interruptAfterTimeLimit: TIME_LIMIT_MS })
  assert.ok(calls >= runs, `${decoder.name}: only ${calls} of ${runs} runs within the time limit`)
  return outcomes
}

function tally (outcomes: Map<Outcome, number>): string {
  return [...outcomes].sort(([a], [b]) => a < b ? -1 : 1).map(([k, n]) => `${k} ${n}`).join(', ')
}

// ---------------------------------------------------------------------------
// Raw CBOR, written by hand (for what encodeCbor refuses to produce)

function concat (...parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

function cborHead (major: number, n: number): Uint8Array {
  const m = major << 5
  if (n < 24) return Uint8Array.of(m | n)
  if (n < 0x100) return Uint8Array.of(m | 24, n)
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff)
  return Uint8Array.of(m | 26, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
}

/** A map with its pairs in exactly the given order; values already encoded. */
function rawMap (pairs: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  return concat(cborHead(5, pairs.length), ...pairs.flatMap(([k, v]) => [encodeCbor(k), v]))
}

function nestedMaps (depth: number): Uint8Array {
  const out = new Uint8Array(depth * 3 + 1)
  for (let i = 0; i < depth; i++) out.set([0xa1, 0x61, 0x61], i * 3)
  out[depth * 3] = 0x00
  return out
}

// ---------------------------------------------------------------------------
// Valid values

/** fc.record makes null-prototype objects by default; decoded maps have Object.prototype. */
function rec<T> (model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true })
}
const bytesN = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n })
/** Integers in [min, max] (beyond fc.integer's 32 bits), biased towards the bounds. */
const intIn = (min: number, max: number): fc.Arbitrary<number> => fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number)
const SAFE = intIn(0, Number.MAX_SAFE_INTEGER)
const POS = intIn(0, POSITION_MAX)
const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8')
const text = (minBytes: number, maxBytes: number): fc.Arbitrary<string> => fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'binary', minLength: minBytes, maxLength: 24 }).filter(noBom) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: maxBytes - 4, maxLength: maxBytes }) }
).filter(s => utf8Length(s) >= minBytes && utf8Length(s) <= maxBytes)

/** Any value DAG-CBOR encodes and decodes back to an equal value (no undefined, NaN, ±Infinity, -0, bigint). */
const cborValue: fc.Arbitrary<unknown> = fc.anything({
  values: [
    fc.constant(null), fc.boolean(), fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter(x => !Object.is(x, -0)),
    fc.string({ unit: 'binary', maxLength: 16 }).filter(noBom), fc.uint8Array({ maxLength: 40 })
  ],
  key: fc.string({ unit: 'binary', maxLength: 8 }).filter(noBom),
  maxDepth: 3,
  maxKeys: 5,
  withNullPrototype: false
})

const position = rec({ epoch: POS, seq: POS })
const role = fc.constantFrom(...GRANTABLE_ROLES)

const BODIES: Readonly<Record<BodyType, fc.Arbitrary<Body>>> = {
  'kv.put': rec({ t: fc.constant('kv.put'), key: text(1, KEY_BYTES_MAX), value: cborValue }),
  'kv.del': rec({ t: fc.constant('kv.del'), key: text(1, KEY_BYTES_MAX) }),
  'counter.add': rec({ t: fc.constant('counter.add'), name: text(1, NAME_BYTES_MAX), delta: fc.maxSafeInteger() }),
  'ledger.append': rec({ t: fc.constant('ledger.append'), tx: cborValue }),
  'acl.grant': rec({ t: fc.constant('acl.grant'), member: bytesN(32), role, from: position }),
  'acl.revoke': rec({ t: fc.constant('acl.revoke'), member: bytesN(32), at: position, keep: fc.array(POS, { maxLength: 6 }) }),
  invite: rec({ t: fc.constant('invite'), key: bytesN(32), role, uses: intIn(1, INVITE_USES_MAX), expiresMs: SAFE }),
  'invite.revoke': rec({ t: fc.constant('invite.revoke'), invite: bytesN(32), keep: fc.array(bytesN(32), { maxLength: 4 }) }),
  join: rec({ t: fc.constant('join'), invite: bytesN(32), proof: bytesN(64) }),
  'invite.redeem': rec({ t: fc.constant('invite.redeem'), invite: bytesN(32), join: bytesN(32) }),
  file: fc.record({
    path: fc.array(fc.stringMatching(/^[a-z0-9_-]{1,12}$/), { minLength: 1, maxLength: 4 }).map(segs => segs.join('/')),
    mode: intIn(0, 0o777), // permission bits: setuid, setgid and sticky are dropped on decode (decision 19)
    mtimeMs: POS,
    deleted: fc.boolean(),
    supersedes: fc.array(bytesN(32), { maxLength: 3 }),
    chunks: fc.array(fc.tuple(bytesN(32), intIn(1, 1 << 20)), { maxLength: 5 })
  }).map(f => {
    const chunks = f.deleted ? [] : f.chunks
    return { t: 'file' as const, ...f, chunks, size: chunks.reduce((n, c) => n + c[1], 0) }
  }),
  'file.part': rec({ t: fc.constant('file.part'), chunks: fc.array(fc.tuple(bytesN(32), intIn(1, 1 << 20)), { minLength: 1, maxLength: 5 }) })
}
const BODY_TYPES = Object.keys(BODIES) as BodyType[]
const body: fc.Arbitrary<Body> = fc.constantFrom(...BODY_TYPES).chain(t => BODIES[t])

const unsignedEntry: fc.Arbitrary<UnsignedEntry> = rec({
  space: bytesN(36),
  author: bytesN(32),
  epoch: POS,
  seq: POS,
  prev: fc.option(bytesN(32), { nil: null }),
  clock: rec({ wallMs: POS, counter: intIn(0, CLOCK_COUNTER_MAX) }),
  body
})
const entryBytes = unsignedEntry.map(encodeUnsignedEntry)

const signedBytes = (maxBytes: number, inner?: fc.Arbitrary<Uint8Array>): fc.Arbitrary<SignedBytes> =>
  fc.tuple(inner === undefined ? fc.uint8Array({ maxLength: Math.min(maxBytes, 120) }) : fc.oneof(inner, fc.uint8Array({ maxLength: 120 })), bytesN(64))
const feedRow: fc.Arbitrary<FeedRow> = fc.tuple(bytesN(32), SAFE, SAFE, bytesN(32), fc.boolean())
  .map(([author, epoch, count, head, frozen]) => ({ author, epoch, count, head: count === 0 ? null : head, frozen }))
const feedRange: fc.Arbitrary<FeedRange> = fc.tuple(bytesN(32), SAFE, SAFE, SAFE).filter(([, , a, b]) => a !== b)
  .map(([author, epoch, a, b]) => ({ author, epoch, from: Math.min(a, b), to: Math.max(a, b) }))
const clock = rec({ wallMs: POS, counter: intIn(0, CLOCK_COUNTER_MAX) })

const genesis: fc.Arbitrary<Genesis> = rec({ name: text(1, NAME_BYTES_MAX), createdMs: POS, owner: bytesN(32) })
const genesisBytes = genesis.map(encodeGenesis)
const statusRecord: fc.Arbitrary<StatusRecord> = rec({
  space: bytesN(36),
  author: bytesN(32),
  clock,
  body: fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }).filter(noBom), cborValue, { maxKeys: 5, noNullPrototype: true })
})
const statusBytes = statusRecord.map(encodeStatus)

const MESSAGES: Readonly<Record<MessageType, fc.Arbitrary<Message>>> = {
  hello: rec({
    m: fc.constant('hello'),
    spaces: fc.array(rec({
      genesis: signedBytes(GENESIS_BYTES_MAX, genesisBytes),
      feeds: fc.array(feedRow, { maxLength: 4 }),
      statuses: fc.array(rec({ author: bytesN(32), clock, id: bytesN(32) }), { maxLength: 3 })
    }), { maxLength: 3 })
  }),
  want: rec({ m: fc.constant('want'), space: bytesN(36), ranges: fc.array(feedRange, { maxLength: 4 }) }),
  entries: rec({ m: fc.constant('entries'), space: bytesN(36), run: fc.array(signedBytes(ENTRY_BYTES_MAX, entryBytes), { maxLength: 3 }) }),
  none: rec({ m: fc.constant('none'), space: bytesN(36), range: feedRange }),
  have: rec({ m: fc.constant('have'), space: bytesN(36), heads: fc.array(feedRow, { maxLength: 4 }) }),
  fork: rec({ m: fc.constant('fork'), space: bytesN(36), a: signedBytes(ENTRY_BYTES_MAX, entryBytes), b: signedBytes(ENTRY_BYTES_MAX, entryBytes) }),
  status: rec({ m: fc.constant('status'), space: bytesN(36), record: signedBytes(STATUS_BYTES_MAX, statusBytes) }),
  'status-have': rec({ m: fc.constant('status-have'), space: bytesN(36), heads: fc.array(rec({ author: bytesN(32), clock, id: bytesN(32) }), { maxLength: 4 }) }),
  'status-want': rec({ m: fc.constant('status-want'), space: bytesN(36), authors: fc.array(bytesN(32), { maxLength: 4 }) }),
  bye: rec({ m: fc.constant('bye'), reason: text(0, REASON_BYTES_MAX) }),
  'join-answer': rec({ m: fc.constant('join-answer'), space: bytesN(36), join: bytesN(32), outcome: text(0, 32), detail: text(0, REASON_BYTES_MAX) })
}
const MESSAGE_TYPES = Object.keys(MESSAGES) as MessageType[]
const message: fc.Arbitrary<Message> = fc.constantFrom(...MESSAGE_TYPES).chain(m => MESSAGES[m])
const messageBytes = message.map(encodeMessage)

const anyValidBytes = fc.oneof(entryBytes, messageBytes, genesisBytes, statusBytes)
/** Valid encodings for each decoder (mostly its own kind, sometimes another's). */
const VALID: Readonly<Record<string, fc.Arbitrary<Uint8Array>>> = {
  decodeEntry: fc.oneof({ weight: 6, arbitrary: entryBytes }, { weight: 1, arbitrary: anyValidBytes }),
  decodeMessage: fc.oneof({ weight: 6, arbitrary: messageBytes }, { weight: 1, arbitrary: anyValidBytes }),
  decodeGenesis: fc.oneof({ weight: 6, arbitrary: genesisBytes }, { weight: 1, arbitrary: anyValidBytes }),
  decodeStatus: fc.oneof({ weight: 6, arbitrary: statusBytes }, { weight: 1, arbitrary: anyValidBytes })
}

// ---------------------------------------------------------------------------
// (a) random bytes

/** CBOR heads worth landing on: sizes, uint64, floats, simple values, tags, indefinite lengths, break. */
const INTERESTING_BYTES = [
  0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x38, 0x3b, 0x40, 0x58, 0x5b, 0x5f, 0x60, 0x78, 0x7b, 0x7f,
  0x80, 0x81, 0x98, 0x9b, 0x9f, 0xa0, 0xa1, 0xb8, 0xbb, 0xbf, 0xc0, 0xc2, 0xd8, 0x2a, 0xf4, 0xf5, 0xf6, 0xf7,
  0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xff
]
const interestingByte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...INTERESTING_BYTES))

const randomBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 3 * 1024 }) },
  // a map head first, so more of them get past the first byte
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0xa0, max: 0xbf }), fc.array(interestingByte, { maxLength: 128 })).map(([h, rest]) => Uint8Array.from([h, ...rest])) }
)

// ---------------------------------------------------------------------------
// (b) mutations of valid encodings

type Mutation =
  | { readonly k: 'flip', readonly at: number, readonly x: number }
  | { readonly k: 'set', readonly at: number, readonly v: number }
  | { readonly k: 'truncate', readonly at: number }
  | { readonly k: 'insert', readonly at: number, readonly b: Uint8Array }
  | { readonly k: 'delete', readonly at: number, readonly n: number }
  | { readonly k: 'dup', readonly from: number, readonly n: number, readonly at: number }
  | { readonly k: 'splice', readonly at: number, readonly other: Uint8Array, readonly otherAt: number }

const INSERTS = [
  '1b0020000000000001', '1bffffffffffffffff', '3bffffffffffffffff', '1b0000000000000001', 'fb7ff8000000000000', 'fb7ff0000000000000',
  'f97e00', 'f7', 'f6', 'd82a', 'd82a4400017112', '5f', '9f', 'bf', 'ff', 'a1616d6562796501', '6474797065', '816474797065',
  '61746b6b762e707574', 'a0', '80', '40', '60'
].map(h => Uint8Array.from(Buffer.from(h, 'hex')))

/** Weighted towards the byte edits that keep the CBOR well-formed, so more inputs reach the field checks. */
const mutation = (others: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Mutation> => fc.oneof(
  { weight: 5, arbitrary: rec({ k: fc.constant('flip'), at: fc.nat(), x: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 4, arbitrary: rec({ k: fc.constant('set'), at: fc.nat(), v: interestingByte }) },
  rec({ k: fc.constant('truncate'), at: fc.nat() }),
  rec({ k: fc.constant('insert'), at: fc.nat(), b: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 9 }), fc.constantFrom(...INSERTS)) }),
  rec({ k: fc.constant('delete'), at: fc.nat(), n: fc.integer({ min: 1, max: 40 }) }),
  rec({ k: fc.constant('dup'), from: fc.nat(), n: fc.integer({ min: 1, max: 200 }), at: fc.nat() }),
  rec({ k: fc.constant('splice'), at: fc.nat(), other: others, otherAt: fc.nat() })
)

function mutate (b: Uint8Array, m: Mutation): Uint8Array {
  const cut = (p: number): number => p % (b.length + 1)
  switch (m.k) {
    case 'flip':
    case 'set': {
      if (b.length === 0) return b
      const out = b.slice()
      const i = m.at % b.length
      out[i] = m.k === 'flip' ? out[i]! ^ m.x : m.v
      return out
    }
    case 'truncate': return b.slice(0, b.length === 0 ? 0 : m.at % b.length)
    case 'insert': return concat(b.subarray(0, cut(m.at)), m.b, b.subarray(cut(m.at)))
    case 'delete': return concat(b.subarray(0, cut(m.at)), b.subarray(cut(m.at) + m.n))
    case 'dup': {
      const from = cut(m.from)
      return concat(b.subarray(0, cut(m.at)), b.subarray(from, from + m.n), b.subarray(cut(m.at)))
    }
    case 'splice': return concat(b.subarray(0, cut(m.at)), m.other.subarray(m.otherAt % (m.other.length + 1)))
  }
}

const mutated = (valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> =>
  fc.tuple(valid, fc.array(mutation(anyValidBytes), { minLength: 1, maxLength: 3 }))
    .map(([bytes, ms]) => ms.reduce(mutate, bytes))

// ---------------------------------------------------------------------------
// (c) well-formed CBOR of the wrong shape

const FIELD_NAMES = [
  's', 'a', 'e', 'q', 'p', 'c', 'b', 't', 'key', 'value', 'name', 'delta', 'tx', 'member', 'role', 'from', 'at', 'keep',
  'uses', 'expiresMs', 'invite', 'proof', 'm', 'v', 'sp', 'r', 'h', 'g', 'f', 'st', 'createdMs', 'owner',
  'toString', 'valueOf', '__proto__', 'constructor', 'hasOwnProperty', 'length', '0', ''
]
const TYPE_NAMES = [...BODY_TYPES, ...MESSAGE_TYPES, 'samepage.space', 'owner', 'admin', 'writer', 'reader', 'Hello', 'kv.put ']
const wildKey = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...FIELD_NAMES))
/** Anything DAG-CBOR can encode, leaning towards values a field reader might nearly accept. */
const wild: fc.Arbitrary<unknown> = fc.anything({
  values: [
    fc.constant(null), fc.boolean(), fc.maxSafeInteger(), fc.constantFrom(-1, 0, 1, 2, 2 ** 31, POSITION_MAX, POSITION_MAX + 1, Number.MAX_SAFE_INTEGER),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }), fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...TYPE_NAMES),
    fc.uint8Array({ maxLength: 70 }), bytesN(32), bytesN(36), bytesN(64),
    fc.uint8Array({ maxLength: 8 }).map(b => cidOf(b))
  ],
  key: wildKey,
  maxDepth: 3,
  maxKeys: 6,
  withNullPrototype: false
})

type Edit = { readonly op: 'replace' | 'delete' | 'add', readonly pick: number, readonly key: string, readonly value: unknown }
const edit: fc.Arbitrary<Edit> = rec({ op: fc.constantFrom('replace', 'delete', 'add'), pick: fc.nat(), key: wildKey, value: wild })

interface Slot { readonly container: Record<string, unknown> | unknown[], readonly key: string | number }

function isContainer (v: unknown): v is Record<string, unknown> | unknown[] {
  return Array.isArray(v) || (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
}

function slotsOf (v: unknown, out: Slot[]): Slot[] {
  if (Array.isArray(v)) v.forEach((x, i) => { out.push({ container: v, key: i }); slotsOf(x, out) })
  else if (isContainer(v)) for (const [k, x] of Object.entries(v)) { out.push({ container: v, key: k }); slotsOf(x, out) }
  return out
}

/** Replaces, deletes or adds fields anywhere in the decoded form of a valid encoding, then re-encodes it canonically. */
function reshape (bytes: Uint8Array, edits: readonly Edit[]): Uint8Array {
  const holder: Record<string, unknown> = { root: dagCbor.decode(bytes) }
  const slots = slotsOf(holder, [])
  const containers = [holder.root, ...slots.map(s => s.container[s.key as never] as unknown)].filter(isContainer)
  for (const e of edits) {
    if (e.op === 'add') {
      const c = containers[e.pick % Math.max(1, containers.length)]
      if (Array.isArray(c)) c.splice(e.pick % (c.length + 1), 0, e.value)
      else if (c !== undefined) Object.defineProperty(c, e.key, { value: e.value, enumerable: true, configurable: true, writable: true })
      continue
    }
    const s = slots[e.pick % slots.length]!
    if (e.op === 'replace') {
      // (an earlier delete may have shortened the array: never leave a hole, which would be undefined)
      if (Array.isArray(s.container)) s.container.splice(Math.min(s.key as number, s.container.length), 1, e.value)
      else Object.defineProperty(s.container, s.key, { value: e.value, enumerable: true, configurable: true, writable: true })
    } else if (Array.isArray(s.container)) {
      s.container.splice(s.key as number, 1)
    } else {
      delete s.container[s.key as string]
    }
  }
  return encodeCbor(holder.root === undefined ? null : holder.root)
}

const wrongShape = (valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> => fc.oneof(
  { weight: 1, arbitrary: wild.map(v => encodeCbor(v)) },
  { weight: 4, arbitrary: fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([bytes, edits]) => reshape(bytes, edits)) }
)

// ---------------------------------------------------------------------------
// The fuzz runs

for (const decoder of DECODERS) {
  test(`${decoder.name}: ${RUNS} random byte strings give a value or a CodecError`, t => {
    const outcomes = fuzz(decoder, randomBytes, 0)
    t.diagnostic(tally(outcomes))
    assert.ok((outcomes.get('MALFORMED') ?? 0) > 0 && (outcomes.get('INVALID_FIELD') ?? 0) > 0, tally(outcomes))
  })
  test(`${decoder.name}: ${RUNS} mutations of valid encodings give a value or a CodecError`, t => {
    const outcomes = fuzz(decoder, mutated(VALID[decoder.name]!), 1)
    t.diagnostic(tally(outcomes))
    for (const o of ['decoded', 'MALFORMED', 'INVALID_FIELD'] as const) assert.ok((outcomes.get(o) ?? 0) > 0, `no ${o}: ${tally(outcomes)}`)
    if (decoder.name !== 'decodeMessage') assert.ok((outcomes.get('NON_CANONICAL') ?? 0) > 0, `no NON_CANONICAL: ${tally(outcomes)}`)
  })
  test(`${decoder.name}: ${RUNS} well-formed CBOR values of the wrong shape give a value or a CodecError`, t => {
    const outcomes = fuzz(decoder, wrongShape(VALID[decoder.name]!), 2)
    t.diagnostic(tally(outcomes))
    for (const o of ['decoded', 'INVALID_FIELD', 'UNKNOWN_TYPE'] as const) {
      if (o === 'UNKNOWN_TYPE' && decoder.name === 'decodeStatus') continue
      assert.ok((outcomes.get(o) ?? 0) > 0, `no ${o}: ${tally(outcomes)}`)
    }
  })
}

test('deep nesting gives a CodecError, never a RangeError', () => {
  const limits: Record<string, number> = { decodeEntry: ENTRY_BYTES_MAX, decodeMessage: MESSAGE_BYTES_MAX, decodeGenesis: GENESIS_BYTES_MAX, decodeStatus: STATUS_BYTES_MAX }
  for (const decoder of DECODERS) {
    const depths = [100_000, limits[decoder.name]! - 1, 1000, 3000, 5000, 8000, 12_000, 16_000]
    for (const depth of depths) {
      for (const bytes of [nestedArrays(depth), nestedMaps(Math.floor(depth / 3))]) {
        const err = codecError(() => decoder.decode(bytes))
        assert.ok(!(err instanceof RangeError))
        if (bytes.length > limits[decoder.name]!) assert.equal(err.code, 'OVERSIZED')
      }
    }
  }
  // deep values inside otherwise valid inputs, at depths on both sides of where the CBOR decoder's stack gives out
  const entry = { s: new Uint8Array(36), a: new Uint8Array(32), e: 0, q: 0, p: null, c: [0, 0], b: { t: 'kv.put', key: 'k', value: PLACEHOLDER } }
  for (let depth = 500; depth <= 16_000; depth += 500) {
    const deep = nestedArrays(depth)
    const inputs: Array<[Decoder, Uint8Array]> = [
      [DECODERS[0]!, withRaw(entry, deep)],
      [DECODERS[1]!, withRaw({ m: PLACEHOLDER }, deep)],
      [DECODERS[1]!, withRaw({ m: 'bye', r: PLACEHOLDER }, deep)],
      [DECODERS[1]!, withRaw({ m: 'hello', v: PLACEHOLDER, sp: [] }, deep)],
      [DECODERS[1]!, withRaw({ m: 'entries', s: new Uint8Array(36), r: PLACEHOLDER }, deep)],
      [DECODERS[3]!, withRaw({ s: new Uint8Array(36), a: new Uint8Array(32), c: [0, 0], b: { x: PLACEHOLDER } }, deep)]
    ]
    for (const [decoder, bytes] of inputs) {
      if (decoder.name === 'decodeStatus' && bytes.length > STATUS_BYTES_MAX) continue
      onlyCodecErrors(decoder, bytes)
    }
  }
  // deep but within the nesting limit: the message decoder names the type without String() on it; past the limit, refused before decoding
  expectCode(() => decodeMessage(withRaw({ m: PLACEHOLDER }, nestedArrays(CBOR_DEPTH_MAX - 1))), 'UNKNOWN_TYPE', 'message.m')
  expectCode(() => decodeMessage(withRaw({ m: PLACEHOLDER }, nestedArrays(2000))), 'OVERSIZED', 'message')
})

test('maps with a toString key where a type is expected give UNKNOWN_TYPE (String() on them throws TypeError)', () => {
  const evil = { toString: 1, valueOf: 2 }
  expectCode(() => decodeMessage(encodeCbor({ m: evil })), 'UNKNOWN_TYPE', 'message.m')
  expectCode(() => decodeMessage(encodeCbor({ m: [evil] })), 'UNKNOWN_TYPE', 'message.m')
  expectCode(() => decodeMessage(encodeCbor({ m: 'hello', v: evil, sp: [] })), 'UNKNOWN_TYPE', 'hello.v')
  const entry = { s: new Uint8Array(36), a: new Uint8Array(32), e: 0, q: 0, p: null, c: [0, 0], b: { t: evil } }
  expectCode(() => decodeEntry(encodeCbor(entry), SIG), 'UNKNOWN_TYPE', 'entry.b.t')
  expectCode(() => decodeGenesis(encodeCbor({ t: evil, name: 'x', createdMs: 0, owner: new Uint8Array(32) }), SIG), 'UNKNOWN_TYPE', 'genesis.t')
})

test('inputs past the size limits are OVERSIZED', () => {
  expectCode(() => decodeEntry(new Uint8Array(ENTRY_BYTES_MAX + 1), SIG), 'OVERSIZED', 'entry')
  expectCode(() => decodeGenesis(new Uint8Array(GENESIS_BYTES_MAX + 1), SIG), 'OVERSIZED', 'genesis')
  expectCode(() => decodeStatus(new Uint8Array(STATUS_BYTES_MAX + 1), SIG), 'OVERSIZED', 'status')
  expectCode(() => decodeMessage(new Uint8Array(MESSAGE_BYTES_MAX + 1)), 'OVERSIZED', 'message')
  // well-formed CBOR that is too big
  const entry = { s: new Uint8Array(36), a: new Uint8Array(32), e: 0, q: 0, p: null, c: [0, 0], b: { t: 'kv.put', key: 'k', value: new Uint8Array(ENTRY_BYTES_MAX) } }
  expectCode(() => decodeEntry(encodeCbor(entry), SIG), 'OVERSIZED', 'entry')
  expectCode(() => encodeUnsignedEntry({ space: entry.s, author: entry.a, epoch: 0, seq: 0, prev: null, clock: { wallMs: 0, counter: 0 }, body: { t: 'kv.put', key: 'k', value: entry.b.value } }), 'OVERSIZED')
  expectCode(() => encodeStatus({ space: entry.s, author: entry.a, clock: { wallMs: 0, counter: 0 }, body: { x: new Uint8Array(STATUS_BYTES_MAX) } }), 'OVERSIZED')
  expectCode(() => decodeGenesis(encodeGenesis({ name: 'n'.repeat(GENESIS_BYTES_MAX), createdMs: 0, owner: entry.a }), SIG), 'OVERSIZED', 'genesis')
  // fields past their limits inside messages
  const space = new Uint8Array(36)
  const sig = new Uint8Array(64)
  const zeros = (n: number): Uint8Array => new Uint8Array(n)
  expectCode(() => decodeMessage(encodeCbor({ m: 'entries', s: space, r: Array.from({ length: RUN_ENTRIES_MAX + 1 }, () => [zeros(1), sig]) })), 'OVERSIZED', 'entries.r')
  expectCode(() => decodeMessage(encodeCbor({ m: 'entries', s: space, r: Array.from({ length: 33 }, () => [zeros(ENTRY_BYTES_MAX), sig]) })), 'OVERSIZED', 'entries.r')
  assert.ok(33 * ENTRY_BYTES_MAX > RUN_BYTES_MAX)
  expectCode(() => decodeMessage(encodeCbor({ m: 'fork', s: space, a: [zeros(ENTRY_BYTES_MAX + 1), sig], b: [zeros(1), sig] })), 'OVERSIZED', 'fork.a[0]')
  expectCode(() => decodeMessage(encodeCbor({ m: 'status', s: space, r: [zeros(STATUS_BYTES_MAX + 1), sig] })), 'OVERSIZED', 'status.r[0]')
  expectCode(() => decodeMessage(encodeCbor({ m: 'bye', r: 'x'.repeat(REASON_BYTES_MAX + 1) })), 'OVERSIZED', 'bye.r')
  expectCode(() => decodeMessage(encodeCbor({ m: 'hello', v: PROTOCOL_VERSION, sp: Array.from({ length: HELLO_SPACES_MAX + 1 }, () => 0) })), 'OVERSIZED', 'hello.sp')
  expectCode(() => decodeMessage(encodeCbor({ m: 'hello', v: PROTOCOL_VERSION, sp: [{ g: [zeros(GENESIS_BYTES_MAX + 1), sig], f: [], st: [] }] })), 'OVERSIZED', 'hello.sp[0].g[0]')
  const manyZeros = concat(cborHead(4, FEEDS_PER_MESSAGE_MAX + 1), zeros(FEEDS_PER_MESSAGE_MAX + 1))
  expectCode(() => decodeMessage(withRaw({ m: 'want', s: space, r: PLACEHOLDER }, manyZeros)), 'OVERSIZED', 'want.r')
  expectCode(() => decodeMessage(withRaw({ m: 'have', s: space, h: PLACEHOLDER }, manyZeros)), 'OVERSIZED', 'have.h')
})

test('unsorted map keys, written by hand, are NON_CANONICAL for entries, genesis and status (and accepted in messages)', () => {
  const enc = encodeCbor
  const space = new Uint8Array(36).fill(1)
  const author = new Uint8Array(32).fill(2)
  const entryPairs: Array<[string, Uint8Array]> = [
    ['a', enc(author)], ['b', enc({ t: 'kv.del', key: 'k' })], ['c', enc([1, 2])], ['e', enc(0)], ['p', enc(null)], ['q', enc(0)], ['s', enc(space)]
  ]
  const sorted = rawMap(entryPairs)
  assert.deepEqual(sorted, enc({ s: space, a: author, e: 0, q: 0, p: null, c: [1, 2], b: { t: 'kv.del', key: 'k' } }))
  assert.equal(decodeEntry(sorted, SIG).body.t, 'kv.del')
  expectCode(() => decodeEntry(rawMap([...entryPairs].reverse()), SIG), 'NON_CANONICAL', 'entry')
  const swapped = [entryPairs[1]!, entryPairs[0]!, ...entryPairs.slice(2)]
  expectCode(() => decodeEntry(rawMap(swapped), SIG), 'NON_CANONICAL', 'entry')
  // unsorted inside the body; and length-first order broken (dag-cbor sorts 'key' after 't')
  const innerUnsorted = rawMap(entryPairs.map(([k, v]) => [k, k === 'b' ? rawMap([['key', enc('k')], ['t', enc('kv.del')]]) : v]))
  expectCode(() => decodeEntry(innerUnsorted, SIG), 'NON_CANONICAL', 'entry')
  // the store's path skips the check, and reads the same entry
  assert.equal(decodeEntry(innerUnsorted, SIG, false).body.t, 'kv.del')

  const owner = author
  // canonical DAG-CBOR order is by length, then bytes: t, name, owner, createdMs
  const genesisPairs: Array<[string, Uint8Array]> = [['t', enc('samepage.space')], ['name', enc('n')], ['owner', enc(owner)], ['createdMs', enc(5)]]
  assert.deepEqual(rawMap(genesisPairs), encodeGenesis({ name: 'n', createdMs: 5, owner }))
  assert.equal(decodeGenesis(rawMap(genesisPairs), SIG).name, 'n')
  const alphabetical = [...genesisPairs].sort(([a], [b]) => a < b ? -1 : 1)
  expectCode(() => decodeGenesis(rawMap(alphabetical), SIG), 'NON_CANONICAL', 'genesis')

  const statusPairs: Array<[string, Uint8Array]> = [['a', enc(author)], ['b', enc({})], ['c', enc([1, 0])], ['s', enc(space)]]
  assert.deepEqual(rawMap(statusPairs), encodeStatus({ space, author, clock: { wallMs: 1, counter: 0 }, body: {} }))
  assert.equal(decodeStatus(rawMap(statusPairs), SIG).clock.wallMs, 1)
  expectCode(() => decodeStatus(rawMap([...statusPairs].reverse()), SIG), 'NON_CANONICAL', 'status')
  const bodyUnsorted = rawMap(statusPairs.map(([k, v]) => [k, k === 'b' ? rawMap([['z', enc(1)], ['a', enc(2)]]) : v]))
  expectCode(() => decodeStatus(bodyUnsorted, SIG), 'NON_CANONICAL', 'status')

  // a message is not hashed or signed: key order does not matter there
  const bye = rawMap([['r', enc('done')], ['m', enc('bye')]])
  assert.deepEqual(decodeMessage(bye), { m: 'bye', reason: 'done' })
  // repeated keys are not DAG-CBOR at all
  expectCode(() => decodeMessage(rawMap([['m', enc('bye')], ['r', enc('a')], ['r', enc('b')]])), 'MALFORMED', 'message')
  // nor are integers in more bytes than needed
  expectCode(() => decodeEntry(rawMap(entryPairs.map(([k, v]) => [k, k === 'e' ? Uint8Array.of(0x18, 0x00) : v])), SIG), 'MALFORMED', 'entry')
})

test('integers above 2^53 (CBOR uint64 / negative int64) are an INVALID_FIELD, not a number or a crash', () => {
  const enc = encodeCbor
  const big = ['1b0020000000000000', '1b0020000000000001', '1bffffffffffffffff', '3b0020000000000000', '3bffffffffffffffff']
    .map(h => Uint8Array.from(Buffer.from(h, 'hex')))
  const space = new Uint8Array(36)
  const author = new Uint8Array(32)
  for (const n of big) {
    const entry: Array<[string, Uint8Array]> = [['a', enc(author)], ['b', enc({ t: 'kv.del', key: 'k' })], ['c', enc([1, 2])], ['e', n], ['p', enc(null)], ['q', enc(0)], ['s', enc(space)]]
    expectCode(() => decodeEntry(rawMap(entry), SIG), 'INVALID_FIELD', 'entry.e')
    const counter: Array<[string, Uint8Array]> = entry.map(([k, v]) => [k, k === 'e' ? enc(0) : k === 'b' ? rawMap([['t', enc('counter.add')], ['name', enc('n')], ['delta', n]]) : v])
    expectCode(() => decodeEntry(rawMap(counter), SIG), 'INVALID_FIELD', 'entry.b.delta')
    expectCode(() => decodeGenesis(rawMap([['t', enc('samepage.space')], ['name', enc('n')], ['owner', enc(author)], ['createdMs', n]]), SIG), 'INVALID_FIELD', 'genesis.createdMs')
    expectCode(() => decodeStatus(rawMap([['a', enc(author)], ['b', enc({})], ['c', concat(Uint8Array.of(0x82), n, enc(0))], ['s', enc(space)]]), SIG), 'INVALID_FIELD', 'status.c[0]')
    expectCode(() => decodeMessage(withRaw({ m: 'none', s: space, r: [author, 0, PLACEHOLDER, 5] }, n)), 'INVALID_FIELD', 'none.r[2]')
    expectCode(() => decodeMessage(withRaw({ m: 'have', s: space, h: [[author, 0, PLACEHOLDER, new Uint8Array(32), false]] }, n)), 'INVALID_FIELD', 'have.h[0][2]')
    expectCode(() => decodeMessage(withRaw({ m: 'hello', v: PLACEHOLDER, sp: [] }, n)), 'UNKNOWN_TYPE', 'hello.v')
  }
})

test('unknown message, body and record types are UNKNOWN_TYPE', () => {
  expectCode(() => decodeMessage(encodeCbor({ m: 'gossip' })), 'UNKNOWN_TYPE', 'message.m')
  expectCode(() => decodeMessage(encodeCbor({ m: 'Hello', v: 1, sp: [] })), 'UNKNOWN_TYPE', 'message.m')
  expectCode(() => decodeMessage(encodeCbor({ m: 7 })), 'UNKNOWN_TYPE', 'message.m')
  expectCode(() => decodeMessage(encodeCbor({})), 'UNKNOWN_TYPE', 'message.m')
  expectCode(() => decodeMessage(encodeCbor({ m: 'hello', v: PROTOCOL_VERSION + 1, sp: [] })), 'UNKNOWN_TYPE', 'hello.v')
  const entry = { s: new Uint8Array(36), a: new Uint8Array(32), e: 0, q: 0, p: null, c: [0, 0], b: { t: 'kv.merge', key: 'k' } }
  expectCode(() => decodeEntry(encodeCbor(entry), SIG), 'UNKNOWN_TYPE', 'entry.b.t')
  expectCode(() => decodeGenesis(encodeCbor({ t: 'samepage.folder', name: 'n', createdMs: 0, owner: new Uint8Array(32) }), SIG), 'UNKNOWN_TYPE', 'genesis.t')
  // an unknown field is not an unknown type
  expectCode(() => decodeMessage(encodeCbor({ m: 'bye', r: 'x', z: 1 })), 'INVALID_FIELD', 'message.z')
})

// ---------------------------------------------------------------------------
// Round trips

test('round trip: every valid entry decodes to the fields it was encoded from', () => {
  const seen = new Set<string>()
  fc.assert(fc.property(unsignedEntry, fc.uint8Array({ minLength: 64, maxLength: 64 }), (e, sig) => {
    // A string starting with U+FEFF cannot round-trip; the encoder refuses it (tested apart below).
    fc.pre(!JSON.stringify(e.body, (_k, v: unknown) => v instanceof Uint8Array ? null : typeof v === 'bigint' ? 0 : v).includes('"\uFEFF'))
    seen.add(e.body.t)
    const bytes = encodeUnsignedEntry(e)
    const d = decodeEntry(bytes, sig)
    assert.deepStrictEqual(
      { space: d.space, author: d.author, epoch: d.epoch, seq: d.seq, prev: d.prev, clock: d.clock, body: d.body },
      { space: e.space, author: e.author, epoch: e.epoch, seq: e.seq, prev: e.prev, clock: e.clock, body: e.body })
    assert.deepStrictEqual(d.id, sha256(bytes))
    assert.deepStrictEqual(d.bytes, bytes)
    assert.deepStrictEqual(d.sig, sig)
    assert.deepStrictEqual(encodeUnsignedEntry(d), bytes)
  }), { numRuns: 3000, seed: SEED })
  assert.deepEqual([...seen].sort(), [...BODY_TYPES].sort())
})

test('round trip: every valid message decodes to the message it was encoded from', () => {
  const seen = new Set<string>()
  fc.assert(fc.property(message, msg => {
    seen.add(msg.m)
    const bytes = encodeMessage(msg)
    const d = decodeMessage(bytes)
    assert.deepStrictEqual(d, msg)
    assert.deepStrictEqual(encodeMessage(d), bytes)
  }), { numRuns: 3000, seed: SEED })
  assert.deepEqual([...seen].sort(), [...MESSAGE_TYPES].sort())
})

test('round trip: genesis and status records', () => {
  fc.assert(fc.property(genesis, g => {
    const bytes = encodeGenesis(g)
    const d = decodeGenesis(bytes, SIG)
    assert.deepStrictEqual({ name: d.name, createdMs: d.createdMs, owner: d.owner }, g)
    assert.ok(d.cid.equals(cidOf(bytes)))
    assert.deepStrictEqual(d.bytes, bytes)
  }), { numRuns: 2000, seed: SEED })
  fc.assert(fc.property(statusRecord, s => {
    const bytes = encodeStatus(s)
    const d = decodeStatus(bytes, SIG)
    assert.deepStrictEqual({ space: d.space, author: d.author, clock: d.clock, body: d.body }, s)
    assert.deepStrictEqual(d.id, sha256(bytes))
  }), { numRuns: 2000, seed: SEED })
})

test('the encoder refuses a string starting with U+FEFF (it would not survive decoding)', () => {
  const base = { space: new Uint8Array(36), author: new Uint8Array(32), epoch: 0, seq: 0, prev: null, clock: { wallMs: 0, counter: 0 } }
  for (const body of [{ t: 'ledger.append' as const, tx: ['\uFEFF'] }, { t: 'kv.put' as const, key: 'k', value: { '\uFEFFx': 1 } }, { t: 'kv.put' as const, key: '\uFEFFk', value: 1 }]) {
    expectCode(() => encodeUnsignedEntry({ ...base, body }), 'INVALID_FIELD', 'U+FEFF')
  }
})
