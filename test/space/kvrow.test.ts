/**
 * encodeKvRow writes kv rows directly; it must give exactly encodeCbor's
 * bytes for every row (view hashes are compared across nodes and rebuilds).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeCbor, toHex } from '../../src/codec/index.ts'
import { encodeKvRow } from '../../src/space/views.ts'

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) | 0
const RUNS = Math.max(10_000, Number(process.env.FUZZ_RUNS ?? 0) || 0)

const EDGES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 48 - 1, Number.MAX_SAFE_INTEGER]
const uint = fc.oneof(fc.constantFrom(...EDGES), fc.nat(), fc.maxSafeNat())
const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 40 }), // lone surrogates too: encodeCbor's own business
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', 'x'.repeat(23), 'x'.repeat(24), 'é'.repeat(12), '\uD800', 'a\uDC00b', '\uFEFFbom')
)
const value = fc.oneof(
  text, fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter(x => !Object.is(x, -0)),
  fc.uint8Array({ maxLength: 40 }), fc.array(text, { maxLength: 4 }), fc.dictionary(text, fc.integer(), { maxKeys: 4, noNullPrototype: true })
)

test('encodeKvRow gives encodeCbor\'s bytes for every row', () => {
  let n = 0
  fc.assert(fc.property(
    uint, uint, fc.uint8Array({ minLength: 32, maxLength: 32 }), uint, uint, fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.boolean(), value,
    (wallMs, counter, author, epoch, seq, id, deleted, v) => {
      n++
      const e = { clock: { wallMs, counter }, author, epoch, seq, id }
      const expected = encodeCbor([wallMs, counter, author, epoch, seq, id, deleted, v])
      const got = encodeKvRow(e, deleted, v)
      assert.equal(toHex(got), toHex(expected), `FUZZ_SEED=${SEED}`)
      assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype)
    }), { numRuns: RUNS, seed: SEED })
  assert.ok(n >= RUNS)
})
