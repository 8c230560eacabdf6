/**
 * The direct reader of file records (src/codec/entry-fast.ts readFileEntry, through decodeEntry) against the general
 * decoder (decodeEntryByCbor: cborg, the canonical check, the field checks): for every record it reads, decodeEntry
 * must give exactly what the general path gives; for bytes the general path refuses, it must refuse them the same way.
 * Records encoded as cborg encodes any map (so with paths, sizes and flags the general path refuses too), then
 * byte-level mutations of them. A failure prints fast-check's seed; replay with FUZZ_SEED=<seed>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  cidOf, decodeEntry, decodeEntryByCbor, encodeCbor, encodeGenesis, encodeUnsignedEntry, FILE_CHUNKS_MAX, filePathProblem,
  isCodecError, POSITION_MAX, SUPERSEDES_MAX, toHex
} from '../../src/codec/index.ts'
import type { Entry, FileBody } from '../../src/codec/index.ts'
import { readFileEntry } from '../../src/codec/entry-fast.ts'

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) | 0
const RUNS = 3000
const SPACE = cidOf(encodeGenesis({ name: 'fast reader', createdMs: 1_700_000_000_000, owner: new Uint8Array(32) })).bytes
const SIG = new Uint8Array(64)

/** What a decode gives, or the error's code and message: the fast path and the general one must agree on both. */
function outcome (decode: () => Entry): Entry | string {
  try {
    return decode()
  } catch (err) {
    if (!isCodecError(err)) throw err
    return `${err.code}: ${err.message}`
  }
}

const edgy = (max: number): fc.Arbitrary<number> => fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1, 23, 24, 255, 256, 0o777, 0o4755, 65_536, 2 ** 32, max) },
  { weight: 6, arbitrary: fc.integer({ min: 0, max }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0o10000, 0.5, 2 ** 53) }
)
const path = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9]{1,8}(\/[a-z0-9._-]{1,12}){0,3}$/) },
  { weight: 1, arbitrary: fc.constantFrom('', '/abs', 'a/../b', 'a//b', '.samepage/tmp/x', '.SamePage/x', 'e\u0301') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\ud800', 'a', '/', '\ufeff', '\\') }) }
)
const hash = fc.oneof({ weight: 8, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }) },
  fc.uint8Array({ maxLength: 40 }))

/** Bytes of a file record as cborg writes any such map: the chunk sizes add up, mostly. */
const recordBytes: fc.Arbitrary<Uint8Array> = fc.record({
  epoch: edgy(POSITION_MAX),
  seq: edgy(POSITION_MAX),
  wallMs: edgy(POSITION_MAX),
  author: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  prev: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 })),
  path,
  mode: edgy(0o7777),
  mtimeMs: edgy(POSITION_MAX),
  deleted: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, fc.constant(true)),
  sizes: fc.array(edgy(2 ** 40), { maxLength: 4 }),
  hashes: fc.array(hash, { minLength: 4, maxLength: 4 }),
  supersedes: fc.array(hash, { maxLength: 3 }),
  skew: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, fc.constant(1)),
  extra: fc.oneof({ weight: 8, arbitrary: fc.constant({}) }, fc.constant({ parts: [[1, 2]] }), fc.constant({ x: 1 }))
}).map(r => {
  const chunks = r.sizes.map((n, i) => [r.hashes[i], n])
  const size = r.sizes.reduce((a, b) => a + b, 0) + r.skew
  const body = { t: 'file', path: r.path, size, mode: r.mode, mtimeMs: r.mtimeMs, deleted: r.deleted, chunks,
    supersedes: r.supersedes, ...r.extra }
  try {
    return encodeCbor({ s: SPACE, a: r.author, e: r.epoch, q: r.seq, p: r.prev, c: [r.wallMs, 0], b: body })
  } catch {
    return new Uint8Array([0xa0]) // a value cborg cannot write (a float): the empty map, refused by both
  }
})

test('decodeEntry gives what the general path gives for file records, and reads the plain ones directly', () => {
  let read = 0
  fc.assert(fc.property(recordBytes, bytes => {
    for (const checkCanonical of [true, false]) {
      const fast = outcome(() => decodeEntry(bytes, SIG, checkCanonical))
      assert.deepStrictEqual(fast, outcome(() => decodeEntryByCbor(bytes, SIG, checkCanonical)), toHex(bytes))
    }
    if (readFileEntry(bytes, filePathProblem) !== undefined) read++
  }), { seed: SEED, numRuns: RUNS })
  // ~18% are read directly (526-566 of 3,000 in two seeds); a tenth is ~9 standard deviations below, so only a
  // generator that stopped making records the reader takes fails it.
  assert.ok(read > RUNS / 10, `only ${read} of ${RUNS} records were read directly`)
})

test('mutated bytes: decodeEntry refuses what the general path refuses, with its error, and agrees on the rest', () => {
  const mutated = fc.tuple(recordBytes, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })),
    { minLength: 1, maxLength: 3 }), fc.integer({ min: -2, max: 2 }))
    .map(([b, flips, cut]) => {
      const out = new Uint8Array(b.length + cut)
      out.set(cut >= 0 ? b : b.subarray(0, out.length))
      for (const [at, v] of flips) out[at % out.length] = v
      return out
    })
  fc.assert(fc.property(mutated, bytes => {
    const fast = outcome(() => decodeEntry(bytes, SIG))
    assert.deepStrictEqual(fast, outcome(() => decodeEntryByCbor(bytes, SIG)), `bytes ${toHex(bytes)}`)
  }), { seed: SEED, numRuns: RUNS * 3 })
})

test('a record read directly holds copies of its hashes, and a path in the work area is read as its rule says', () => {
  const e = {
    space: SPACE, author: new Uint8Array(32).fill(1), epoch: 3, seq: 4, prev: null, clock: { wallMs: 5, counter: 0 },
    body: {
      t: 'file', path: 'a/b.txt', size: 10, mode: 0o4755, mtimeMs: 6, deleted: false,
      chunks: [[new Uint8Array(32).fill(7), 10]], supersedes: Array.from({ length: SUPERSEDES_MAX }, () => new Uint8Array(32))
    } as FileBody
  }
  const bytes = encodeUnsignedEntry(e)
  const fast = readFileEntry(bytes, filePathProblem)
  assert.ok(fast !== undefined)
  assert.equal(fast.body.mode, 0o755, 'the setuid bit dropped, as the general path drops it')
  const chunk = fast.body.chunks[0]?.[0] as Uint8Array
  assert.notEqual(chunk.buffer, bytes.buffer, 'a copy, not a view that would keep the frame the record came in')
  assert.notEqual(fast.body.supersedes[0]?.buffer, bytes.buffer)
  assert.deepStrictEqual(decodeEntry(bytes, SIG), decodeEntryByCbor(bytes, SIG))

  // Lists one past their bounds: refused by the general path, so never read directly.
  const over = [
    { supersedes: Array.from({ length: SUPERSEDES_MAX + 1 }, () => new Uint8Array(32)) },
    { size: FILE_CHUNKS_MAX + 1, chunks: Array.from({ length: FILE_CHUNKS_MAX + 1 }, () => [new Uint8Array(32), 1]) }
  ]
  for (const change of over) {
    const long = encodeCbor({ s: SPACE, a: e.author, e: 3, q: 4, p: null, c: [5, 0], b: { ...e.body, ...change } })
    assert.equal(readFileEntry(long, filePathProblem), undefined)
    assert.match(outcome(() => decodeEntry(long, SIG)) as string, /^OVERSIZED|^INVALID_FIELD/)
    assert.deepStrictEqual(outcome(() => decodeEntry(long, SIG)), outcome(() => decodeEntryByCbor(long, SIG)))
  }

  // A record stored before the work-area rule still reads from our own store (checkCanonical false), not from a peer.
  const old = encodeCbor({ s: SPACE, a: e.author, e: 3, q: 4, p: null, c: [5, 0], b: { ...e.body, path: '.samepage/x' } })
  assert.equal(outcome(() => decodeEntry(old, SIG, false)).constructor, Object)
  assert.match(outcome(() => decodeEntry(old, SIG)) as string, /work area/)
})
