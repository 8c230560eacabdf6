/**
 * The fast canonical-form check (isCanonicalDagCbor, a single scan) against
 * the reference (decode with @ipld/dag-cbor, re-encode, compare bytes) on
 * random valid values, mutated encodings, hand-built non-canonical forms and
 * random bytes: at least 10,000 inputs per kind, counted.
 *
 * The fast check must be sound (it never accepts what the reference
 * rejects, nor what does not decode), and complete except for tags (CIDs),
 * which it leaves to the reference on purpose. decodeCbor uses the reference
 * whenever the scan answers false, so soundness alone keeps it exact; the
 * completeness half is what keeps it fast.
 *
 * Replay a failure with FUZZ_SEED=<seed>; hunt longer with FUZZ_RUNS=<runs>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { canonicalByReencoding, decodeCbor, isCanonicalDagCbor, isCodecError, toHex, cidOf } from '../../src/codec/index.ts'

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) | 0
const RUNS = Math.max(10_000, Number(process.env.FUZZ_RUNS ?? 0) || 0)

type Verdict = 'undecodable' | 'canonical' | 'non-canonical'

function reference (bytes: Uint8Array): { verdict: Verdict, value?: unknown, code?: string } {
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch {
    return { verdict: 'undecodable', code: 'MALFORMED' }
  }
  try {
    canonicalByReencoding(bytes, value, 'test')
    return { verdict: 'canonical', value }
  } catch (err) {
    if (!isCodecError(err)) throw err
    return { verdict: 'non-canonical', value, code: err.code }
  }
}

function holdsCid (v: unknown): boolean {
  if (CID.asCID(v) !== null) return true
  if (Array.isArray(v)) return v.some(holdsCid)
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) return Object.values(v).some(holdsCid)
  return false
}

const counts = { canonical: 0, 'non-canonical': 0, undecodable: 0, deferredCid: 0 }

/** Compares the two on one input; returns the reference's verdict. */
function check (bytes: Uint8Array): Verdict {
  const ref = reference(bytes)
  const fast = isCanonicalDagCbor(bytes)
  const where = `(FUZZ_SEED=${SEED}) input ${toHex(bytes).slice(0, 2000)}`
  if (fast) assert.equal(ref.verdict, 'canonical', `the scan accepted what the reference calls ${ref.verdict} ${where}`)
  if (ref.verdict === 'canonical' && !fast) {
    assert.ok(holdsCid(ref.value), `the scan rejected a canonical encoding ${where}`)
    counts.deferredCid++
  }
  // And decodeCbor (the scan, then the reference when the scan says no) does what the reference alone did.
  let code: string | undefined
  try {
    decodeCbor(bytes, 'test', 1 << 20, true)
  } catch (err) {
    if (!isCodecError(err)) throw err
    code = err.code
  }
  assert.equal(code, ref.code, `decodeCbor disagrees with the reference ${where}`)
  counts[ref.verdict]++
  return ref.verdict
}

// ---------------------------------------------------------------------------
// Values

const INT_EDGES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER]
const BIG_EDGES = [2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]

const int = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(...INT_EDGES, ...INT_EDGES.map(x => -x - 1), ...INT_EDGES.map(x => -x)),
  fc.constantFrom(...BIG_EDGES, ...BIG_EDGES.map(x => -x - 1n), ...BIG_EDGES.map(x => -x)),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n })
)
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 40 }).map(s => `\uFEFF${s}`),
  fc.constantFrom('', '__proto__', 'constructor', 'a', 'b', 'aa', 'é', '\u0000', '\uFFFD', '\uD83D\uDE00', 'x'.repeat(31), 'y'.repeat(32), 'é'.repeat(16))
)
const scalar = fc.oneof(
  fc.constant(null), fc.boolean(), int,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  text,
  fc.uint8Array({ maxLength: 40 })
)
const { value } = fc.letrec<{ value: unknown }>(tie => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(text, tie('value'), { maxKeys: 6, noNullPrototype: true })
  )
}))

function encodeOrNull (v: unknown): Uint8Array | null {
  try {
    return dagCbor.encode(v)
  } catch {
    return null // -0 and such: not every JS value has an encoding
  }
}

const encoded = value.map(encodeOrNull).filter((b): b is Uint8Array => b !== null)

// ---------------------------------------------------------------------------
// Mutations

type Mutation = { kind: 'set', at: number, byte: number } | { kind: 'insert', at: number, byte: number } | { kind: 'delete', at: number } |
  { kind: 'truncate', at: number } | { kind: 'swap', at: number, with: number } | { kind: 'append', byte: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x5f, 0x7f, 0x9f, 0xbf, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff, 0xef, 0xbb, 0xbf, 0xc0, 0xed, 0xf0, 0xf4)) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), byte: fc.integer({ min: 0, max: 255 }) })
)

function mutate (bytes: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = [...bytes]
  for (const m of ms) {
    const at = b.length === 0 ? 0 : ('at' in m ? m.at % b.length : 0)
    switch (m.kind) {
      case 'set': if (b.length > 0) b[at] = m.byte; break
      case 'insert': b.splice(at, 0, m.byte); break
      case 'delete': b.splice(at, 1); break
      case 'truncate': b = b.slice(0, at); break
      case 'swap': if (b.length > 0) { const w = m.with % b.length; const t = b[at] as number; b[at] = b[w] as number; b[w] = t } break
      case 'append': b.push(m.byte); break
    }
  }
  return Uint8Array.from(b)
}

// ---------------------------------------------------------------------------
// Hand-built non-canonical and deferred forms

const h = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s/g, ''), 'hex'))
const CORNERS: ReadonlyArray<readonly [string, Uint8Array, Verdict]> = [
  ['uint 0', h('00'), 'canonical'],
  ['uint 23 in one byte more', h('1817'), 'undecodable'],
  ['uint 24', h('1818'), 'canonical'],
  ['uint 255 in two bytes', h('1900ff'), 'undecodable'],
  ['uint 2^32 in 8 bytes', h('1b0000000100000000'), 'canonical'],
  ['uint 2^32-1 in 8 bytes', h('1b00000000ffffffff'), 'undecodable'],
  ['uint 2^64-1', h('1bffffffffffffffff'), 'canonical'],
  ['negint -2^64', h('3bffffffffffffffff'), 'canonical'],
  ['negint -2^53', h('3b001fffffffffffff'), 'canonical'],
  ['float64 1.5', h('fb3ff8000000000000'), 'canonical'],
  ['float64 1.0 (an integer)', h('fb3ff0000000000000'), 'non-canonical'],
  ['float64 -0', h('fb8000000000000000'), 'non-canonical'],
  ['float64 2^53 (integral, not safe: stays a float)', h('fb4340000000000000'), 'canonical'],
  ['float64 2^53-1 (a safe integer)', h('fb433fffffffffffff'), 'non-canonical'],
  ['float32 1.5', h('fa3fc00000'), 'non-canonical'],
  ['float16 1.5', h('f93e00'), 'non-canonical'],
  ['float64 NaN', h('fb7ff8000000000000'), 'undecodable'],
  ['float64 +inf', h('fb7ff0000000000000'), 'undecodable'],
  ['undefined', h('f7'), 'non-canonical'],
  ['simple value 16', h('f0'), 'undecodable'],
  ['map keys sorted', h('a2 6161 01 6162 02'), 'canonical'],
  ['map keys unsorted', h('a2 6162 02 6161 01'), 'non-canonical'],
  ['map keys: a longer one first', h('a2 626161 01 6162 02'), 'non-canonical'],
  ['map keys length-first', h('a2 6162 02 626161 01'), 'canonical'],
  ['map duplicate keys', h('a2 6161 01 6161 02'), 'undecodable'],
  ['map with a uint key', h('a1 01 02'), 'undecodable'],
  ['map key __proto__', h('a1 695f5f70726f746f5f5f 01'), 'canonical'],
  ['indefinite array', h('9f 01 ff'), 'undecodable'],
  ['string with a leading BOM', h('63 efbbbf'), 'non-canonical'],
  ['string with an inner BOM', h('64 61efbbbf'), 'canonical'],
  ['string: overlong slash', h('62 c0af'), 'non-canonical'],
  ['string: surrogate', h('63 eda080'), 'non-canonical'],
  ['string: above U+10FFFF', h('64 f4908080'), 'non-canonical'],
  ['string: lone continuation', h('61 80'), 'non-canonical'],
  ['string: truncated sequence', h('62 e282'), 'non-canonical'],
  ['string: 4-byte emoji', h('64 f09f9880'), 'canonical'],
  ['string length in one byte more', h('7801 61'), 'undecodable'],
  ['bytes', h('43 010203'), 'canonical'],
  ['trailing byte', h('01 01'), 'undecodable'],
  ['empty', h(''), 'undecodable'],
  ['tag 42 (a CID)', dagCbor.encode({ cid: cidOf(new Uint8Array([1, 2, 3])) }), 'canonical'],
  ['tag 1', h('c1 01'), 'undecodable']
]

test('isCanonicalDagCbor: hand-built corner cases', () => {
  for (const [what, bytes, expected] of CORNERS) {
    assert.equal(check(bytes), expected, what)
  }
})

test('isCanonicalDagCbor agrees with the reference on random valid values', () => {
  // Not all of them are canonical: a string with a leading BOM, or with a lone surrogate, does not decode to itself
  // (and a map with keys '' and '\uFEFF' does not even decode: both read as '').
  const seen = { canonical: 0, 'non-canonical': 0, undecodable: 0 }
  fc.assert(fc.property(encoded, bytes => {
    seen[check(bytes)]++
  }), { numRuns: RUNS, seed: SEED })
  assert.ok(seen.canonical + seen['non-canonical'] + seen.undecodable >= RUNS)
  assert.ok(seen.canonical > seen['non-canonical'], JSON.stringify(seen))
})

test('isCanonicalDagCbor agrees with the reference on mutated encodings', () => {
  const seen = { canonical: 0, 'non-canonical': 0, undecodable: 0 }
  fc.assert(fc.property(encoded, fc.array(mutation, { minLength: 1, maxLength: 3 }), (bytes, ms) => {
    seen[check(mutate(bytes, ms))]++
  }), { numRuns: RUNS, seed: SEED + 1 })
  assert.ok(seen.canonical + seen['non-canonical'] + seen.undecodable >= RUNS)
  // The mutations must reach all three outcomes, or this test proves little.
  assert.ok(seen.canonical > 0 && seen['non-canonical'] > 0 && seen.undecodable > 0, JSON.stringify(seen))
})

test('isCanonicalDagCbor agrees with the reference on random bytes', () => {
  let n = 0
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 24 }),
    // Mostly-structural bytes: container and string heads, so that more of them decode.
    fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x80, 0x81, 0x82, 0xa0, 0xa1, 0xa2, 0x60, 0x61, 0x62, 0x40, 0x41, 0xf4, 0xf5, 0xf6, 0x00, 0x17)), { maxLength: 16 }).map(a => Uint8Array.from(a))
  )
  fc.assert(fc.property(bytes, b => {
    n++
    check(b)
  }), { numRuns: RUNS, seed: SEED + 2 })
  assert.ok(n >= RUNS)
})

test('isCanonicalDagCbor: totals', () => {
  assert.ok(counts.canonical > 0 && counts['non-canonical'] > 0 && counts.undecodable > 0, JSON.stringify(counts))
})
