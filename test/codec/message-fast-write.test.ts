/**
 * The direct writer of `entries` messages (src/codec/message-fast.ts,
 * writeEntriesMessage) against cborg (encodeCbor of the same map): the same
 * bytes for every run, with byte strings whose lengths sit on each boundary of
 * a CBOR head's size (23/24, 255/256, 65535/65536) and runs of 1 to
 * RUN_ENTRIES_MAX entries; and what it writes reads back as the run. A
 * failure prints fast-check's seed; replay with FUZZ_SEED=<seed>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeMessage, encodeCbor, encodeMessage, RUN_ENTRIES_MAX } from '../../src/codec/index.ts'
import type { SignedBytes } from '../../src/codec/index.ts'
import { writeEntriesMessage } from '../../src/codec/message-fast.ts'

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) | 0
const LENGTHS = [0, 1, 23, 24, 25, 64, 255, 256, 257, 65_535, 65_536]
const bytesOf = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

test('writes what cborg writes for the same map (head-size boundaries)', () => {
  for (const a of LENGTHS) {
    for (const b of [0, 23, 24, 64, 255, 256]) {
      const run: SignedBytes[] = [[bytesOf(a, 1), bytesOf(b, 2)], [bytesOf(b, 3), bytesOf(a, 4)]]
      const space = bytesOf(a % 300, 5)
      assert.deepEqual(writeEntriesMessage(space, run), encodeCbor({ m: 'entries', s: space, r: run }), `${a}, ${b}`)
    }
  }
})

test('runs of 1 to RUN_ENTRIES_MAX entries (24 and 256 are head boundaries of the count too)', () => {
  for (const count of [1, 23, 24, 255, 256, RUN_ENTRIES_MAX]) {
    const run: SignedBytes[] = Array.from({ length: count }, (_, i) => [bytesOf(100 + (i % 7), i & 0xff), bytesOf(64, 9)])
    const space = bytesOf(36, 7)
    const written = encodeMessage({ m: 'entries', space, run })
    assert.deepEqual(written, encodeCbor({ m: 'entries', s: space, r: run }))
    assert.deepEqual(decodeMessage(written), { m: 'entries', space, run })
  }
})

test('generated runs: the same bytes as cborg', () => {
  const pair = fc.tuple(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 80 }))
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.array(pair, { minLength: 1, maxLength: 40 }), (space, run) => {
    assert.deepEqual(writeEntriesMessage(space, run), encodeCbor({ m: 'entries', s: space, r: run }))
  }), { seed: SEED, numRuns: 300 })
})
