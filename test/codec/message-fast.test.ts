/**
 * The direct reader of `entries` messages (src/codec/message-fast.ts)
 * against the general path (cborg and the field checks): for every message
 * it reads, it must give exactly what the general path gives, each byte
 * string in its own buffer; for bytes the general path refuses, it must read
 * nothing. Generated messages (sizes around every bound), then byte-level
 * mutations of them. A failure prints fast-check's seed; replay with
 * FUZZ_SEED=<seed>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  cidOf, decodeCbor, encodeCbor, encodeGenesis, ENTRY_BYTES_MAX, fields as f, isCodecError, MESSAGE_BYTES_MAX,
  RUN_BYTES_MAX, RUN_ENTRIES_MAX, SIGNATURE_SIZE
} from '../../src/codec/index.ts'
import type { SignedBytes } from '../../src/codec/index.ts'
import { readEntriesMessage } from '../../src/codec/message-fast.ts'

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) | 0
const RUNS = 400
const SPACE = cidOf(encodeGenesis({ name: 'fast messages', createdMs: 1_700_000_000_000, owner: new Uint8Array(32) })).bytes

/** What message.ts's general path makes of `entries` bytes, or 'refused' for the CodecError it throws. */
function general (bytes: Uint8Array): { m: 'entries', space: Uint8Array, run: SignedBytes[] } | 'refused' | 'other' {
  try {
    const raw = f.map(decodeCbor(bytes, 'message', MESSAGE_BYTES_MAX, false), 'message', ['m', 'v', 'sp', 's', 'r', 'h', 'a', 'b', 't'])
    if (raw.m !== 'entries') return 'other'
    const v = f.map(raw, 'entries', ['m', 's', 'r'])
    const run = f.array(v.r, 'entries.r', RUN_ENTRIES_MAX).map((e, i) => {
      const a = f.array(e, `r[${i}]`, 2, 2)
      return [f.bytes(a[0], 'b', undefined, ENTRY_BYTES_MAX), f.bytes(a[1], 's', SIGNATURE_SIZE)] as const
    })
    if (run.reduce((n, e) => n + e[0].length, 0) > RUN_BYTES_MAX) return 'refused'
    return { m: 'entries', space: f.bytes(v.s, 'entries.s', 36), run }
  } catch (err) {
    if (isCodecError(err)) return 'refused'
    throw err
  }
}

function check (bytes: Uint8Array): void {
  const fast = readEntriesMessage(bytes)
  const slow = general(bytes)
  if (fast === undefined) return // the general path decides
  assert.notEqual(slow, 'refused', 'read what the general path refuses')
  assert.deepStrictEqual(fast, slow)
  for (const [b, s] of fast.run) {
    assert.ok(b.buffer !== bytes.buffer && s.buffer !== bytes.buffer, 'each byte string in its own buffer')
  }
}

const bytesOf = (max: number): fc.Arbitrary<Uint8Array> => fc.oneof(
  fc.uint8Array({ maxLength: Math.min(max, 300) }),
  fc.constantFrom(0, 23, 24, 255, 256, max, max + 1).map(n => new Uint8Array(n).fill(7))
)
const pair = fc.tuple(bytesOf(ENTRY_BYTES_MAX), fc.oneof(fc.constant(SIGNATURE_SIZE), fc.integer({ min: 0, max: 70 })))
  .map(([b, n]) => [b, new Uint8Array(n).fill(9)] as const)
const message = fc.record({
  run: fc.oneof(fc.array(pair, { minLength: 0, maxLength: 40 }), fc.array(pair, { minLength: 1020, maxLength: 1030 })),
  space: fc.oneof(fc.constant(SPACE), fc.uint8Array({ minLength: 30, maxLength: 40 }))
}).map(({ run, space }) => encodeCbor({ m: 'entries', s: space, r: run }))

test('fast entries reader: the general path\'s result for every message it reads, nothing it refuses', () => {
  fc.assert(fc.property(message, bytes => {
    check(bytes)
    const slow = general(bytes)
    // Every message a sender's encoder writes is read fast (an empty run, which no server sends, is left to cborg).
    if (typeof slow === 'object' && slow.run.length > 0) assert.ok(readEntriesMessage(bytes) !== undefined, 'read fast')
  }), { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 20_000 })
})

test('fast entries reader: byte-level mutations', () => {
  const mutated = fc.tuple(message, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: -3, max: 3 }))
    .map(([bytes, flips, tail]) => {
      const out = tail >= 0 ? new Uint8Array([...bytes, ...new Uint8Array(tail)]) : bytes.slice(0, Math.max(0, bytes.length + tail))
      for (const [at, v] of flips) if (out.length > 0) out[at % out.length] = v
      return out
    })
  fc.assert(fc.property(mutated, check), { seed: SEED, numRuns: RUNS * 3, interruptAfterTimeLimit: 20_000 })
})

test('fast entries reader: a run over RUN_BYTES_MAX and an empty run are left to the general path', () => {
  const big = Array.from({ length: 33 }, () => [new Uint8Array(ENTRY_BYTES_MAX), new Uint8Array(SIGNATURE_SIZE)] as const)
  const over = encodeCbor({ m: 'entries', s: SPACE, r: big })
  assert.equal(readEntriesMessage(over), undefined)
  assert.equal(general(over), 'refused')
  assert.equal(readEntriesMessage(encodeCbor({ m: 'entries', s: SPACE, r: [] })), undefined)
})
