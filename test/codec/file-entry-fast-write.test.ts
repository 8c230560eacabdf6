/**
 * The direct writer of file records (src/codec/entry-fast-write.ts writeFileEntry) against the general encoder
 * (cborg's canonical DAG-CBOR of the same map): for every record it writes, its bytes must be exactly the general
 * encoder's; for every field it cannot prove it writes alike, it must write nothing. And encodeUnsignedEntry, which
 * takes it for file records, still refuses every record the general path refused, with the same error.
 * A failure prints fast-check's seed; replay with FUZZ_SEED=<seed>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  bytesEqual, cidOf, decodeEntry, encodeCbor, encodeGenesis, encodeUnsignedEntry, isCodecError, POSITION_MAX
} from '../../src/codec/index.ts'
import type { FileBody, UnsignedEntry } from '../../src/codec/index.ts'
import { writeFileEntry } from '../../src/codec/entry-fast-write.ts'
import { writesAlike } from './fast-write-check.ts'

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) | 0
const RUNS = 3000
const SPACE = cidOf(encodeGenesis({ name: 'fast writer', createdMs: 1_700_000_000_000, owner: new Uint8Array(32) })).bytes

/** What cborg encodes for the entry (the general path's map; an undefined `parts` is left out, as bodyToCbor does). */
function general (e: UnsignedEntry): Uint8Array | 'refused' {
  const { parts, ...rest } = e.body as FileBody
  try {
    return encodeCbor({
      s: e.space, a: e.author, e: e.epoch, q: e.seq, p: e.prev, c: [e.clock.wallMs, e.clock.counter],
      b: parts === undefined ? rest : { ...rest, parts }
    })
  } catch {
    return 'refused'
  }
}

const edgy = (max: number): fc.Arbitrary<number> => fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1, 23, 24, 255, 256, 0o777, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, max) },
  { weight: 6, arbitrary: fc.integer({ min: 0, max }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, -0, 0.5, 2 ** 53, Number.NaN) }
)
const path = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9]{1,8}(\/[a-z0-9._-]{1,12}){0,3}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\ud800', '\udc00', 'a', '/', '\ufeff') }) }
)
const bytes = (size: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof({ weight: 6, arbitrary: fc.uint8Array({ minLength: size, maxLength: size }) }, fc.uint8Array({ maxLength: 40 }))
const chunk = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(bytes(32), edgy(POSITION_MAX)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>([new Uint8Array(32)], 'chunk', [new Uint8Array(32), 1, 2]) }
)
const fileEntry: fc.Arbitrary<UnsignedEntry> = fc.record({
  epoch: edgy(POSITION_MAX),
  seq: edgy(POSITION_MAX),
  wallMs: edgy(POSITION_MAX),
  prev: fc.option(bytes(32)),
  author: bytes(32),
  path,
  size: edgy(POSITION_MAX),
  mode: edgy(0o7777),
  mtimeMs: edgy(POSITION_MAX),
  deleted: fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constant<unknown>(1) }),
  chunks: fc.array(chunk, { maxLength: 5 }),
  supersedes: fc.array(fc.oneof({ weight: 8, arbitrary: bytes(32) }, fc.constant<unknown>('id')), { maxLength: 3 }),
  extra: fc.oneof(
    { weight: 8, arbitrary: fc.constant({}) },
    fc.constant({ parts: undefined }), fc.constant({ parts: [{ epoch: 1, seq: 2 }] }), fc.constant({ note: 'x' })
  )
}).map(({ wallMs, path, size, mode, mtimeMs, deleted, chunks, supersedes, extra, ...at }) => ({
  space: SPACE,
  ...at,
  clock: { wallMs, counter: 0 },
  body: { t: 'file', path, size, mode, mtimeMs, deleted, chunks, supersedes, ...extra } as unknown as FileBody
}))

test('the file writer writes exactly the general encoder\'s bytes, for every file record it writes', () => {
  const written = writesAlike(fileEntry, writeFileEntry, general, { seed: SEED, runs: RUNS })
  // ~22% take it (666-682 of 3,000 in three seeds: the product of each field's odds of being plain); a tenth is ~16
  // standard deviations below, so only a generator that stopped making fast-path records fails it.
  assert.ok(written > RUNS / 10, `only ${written} of ${RUNS} records took the fast path`)
})

const T = 1_764_000_000_123
const record: UnsignedEntry = {
  space: SPACE, author: new Uint8Array(32).fill(1), epoch: T, seq: 9, prev: new Uint8Array(32).fill(2),
  clock: { wallMs: T, counter: 70_000 },
  body: {
    t: 'file', path: 'docs/ré sumé.txt', size: 300_000, mode: 0o644, mtimeMs: T, deleted: false,
    chunks: [[new Uint8Array(32).fill(3), 100_000], [new Uint8Array(32).fill(4), 200_000]],
    supersedes: [new Uint8Array(32).fill(5)]
  }
}

test('a file record is written directly, decodes to what was recorded, and odd shapes are left to the general path', () => {
  const bytes = encodeUnsignedEntry(record)
  assert.ok(bytesEqual(bytes, writeFileEntry(record) as Uint8Array))
  assert.ok(bytesEqual(bytes, general(record) as Uint8Array))
  const deleted = { ...record, body: { ...record.body, size: 0, deleted: true, chunks: [], supersedes: [] } as FileBody }
  assert.ok(bytesEqual(encodeUnsignedEntry(deleted), general(deleted) as Uint8Array))
  assert.deepEqual(decodeEntry(bytes, new Uint8Array(64)).body, record.body)
  const body = record.body as FileBody
  const others: unknown[] = [
    { ...body, parts: [{ epoch: 1, seq: 2 }], chunks: [] },
    { ...body, note: 'x' },
    { ...body, size: 1.5 },
    { ...body, mode: -1 },
    { ...body, deleted: 0 },
    { ...body, path: '\ufeffa' },
    { ...body, path: 'lone \ud800' },
    { ...body, chunks: [[new Uint8Array(32), -1]] },
    { ...body, chunks: [new Uint8Array(32)] },
    { ...body, supersedes: ['id'] },
    { ...body, t: 'file.part' }
  ]
  for (const other of others) {
    assert.equal(writeFileEntry({ ...record, body: other as FileBody }), undefined, JSON.stringify(other))
  }
})

test('encodeUnsignedEntry refuses a file record the general path refused, with its error', () => {
  const body = record.body as FileBody
  const refused: Array<[Partial<FileBody>, RegExp]> = [
    [{ path: '../out.txt' }, /entry\.b\.path/],
    [{ path: '.samepage/tmp/x.part' }, /entry\.b\.path/],
    [{ size: 1 }, /chunk sizes do not add up to size 1/],
    [{ deleted: true }, /entry\.b\.chunks: a deleted file has no chunks/],
    [{ mode: 0o10000 }, /entry\.b\.mode/],
    [{ chunks: [[new Uint8Array(31), 300_000]] }, /entry\.b\.chunks\[0\]\[0\]: expected 32 bytes/]
  ]
  for (const [change, message] of refused) {
    const e = { ...record, body: { ...body, ...change } as FileBody }
    assert.throws(() => encodeUnsignedEntry(e), (err: unknown) => isCodecError(err) && message.test(err.message),
      JSON.stringify(change))
  }
})
