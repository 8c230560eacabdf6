/**
 * The direct reader of common kv entries (src/codec/entry-fast.ts) against
 * the general decoder (cborg, the canonical check, the field checks): for
 * every entry it reads, it must give exactly what the general path gives;
 * for bytes the general path refuses, it must read nothing (and so leave the
 * error to the general path). Generated entries, then byte-level mutations
 * of them. A failure prints fast-check's seed; replay with FUZZ_SEED=<seed>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  cidOf, CLOCK_COUNTER_MAX, decodeCbor, encodeGenesis, encodeUnsignedEntry, ENTRY_DEPTH_MAX, fields as f,
  isCodecError, KEY_BYTES_MAX, POSITION_MAX, toHex
} from '../../src/codec/index.ts'
import type { Body, Entry, UnsignedEntry } from '../../src/codec/index.ts'
import { readKvEntry } from '../../src/codec/entry-fast.ts'
import type { FastFields } from '../../src/codec/entry-fast.ts'

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) | 0
const RUNS = 3000
const SPACE = cidOf(encodeGenesis({ name: 'fast reader', createdMs: 1_700_000_000_000, owner: new Uint8Array(32) })).bytes

/** What the general path makes of kv bytes (cborg and the canonical check), or the CodecError it throws. */
function general (bytes: Uint8Array): Omit<Entry, 'id' | 'bytes' | 'sig'> | 'refused' {
  try {
    const v = f.map(decodeCbor(bytes, 'entry', 64 * 1024, true, ENTRY_DEPTH_MAX), 'entry', ['s', 'a', 'e', 'q', 'p', 'c', 'b'])
    const c = f.array(v.c, 'c', 2, 2)
    const b = f.map(v.b, 'b', ['t', 'key', 'value'])
    const body = b.t === 'kv.put' && 'value' in b
      ? { t: 'kv.put', key: f.string(b.key, 'key', KEY_BYTES_MAX, 1), value: b.value }
      : { t: f.oneOf(b.t, 't', ['kv.del']), key: f.string(b.key, 'key', KEY_BYTES_MAX, 1) }
    if (body.t === 'kv.del' && 'value' in b) return 'refused'
    return {
      space: f.bytes(v.s, 's', 36),
      author: f.bytes(v.a, 'a', 32),
      epoch: f.int(v.e, 'e', 0, POSITION_MAX),
      seq: f.int(v.q, 'q', 0, POSITION_MAX),
      prev: f.nullableBytes(v.p, 'p', 32),
      clock: { wallMs: f.int(c[0], 'c0', 0, POSITION_MAX), counter: f.int(c[1], 'c1', 0, CLOCK_COUNTER_MAX) },
      body: body as Body
    }
  } catch (err) {
    if (isCodecError(err)) return 'refused'
    throw err
  }
}

function fastFields (bytes: Uint8Array): Omit<Entry, 'id' | 'bytes' | 'sig'> | undefined {
  const r: FastFields | undefined = readKvEntry(bytes)
  if (r === undefined) return undefined
  const { wallMs, counter, ...rest } = r
  return { ...rest, clock: { wallMs, counter } }
}

/** Integers around every head size's edges, and past the bounds. */
const edgy = (max: number): fc.Arbitrary<number> => fc.oneof(
  fc.constantFrom(0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32).filter(n => n <= max),
  fc.integer({ min: 0, max: Math.min(max, Number.MAX_SAFE_INTEGER) })
)
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ minLength: 300, maxLength: 400 }))
  .filter(s => s.charCodeAt(0) !== 0xfeff)
const kvEntry: fc.Arbitrary<UnsignedEntry> = fc.record({
  epoch: edgy(POSITION_MAX),
  seq: edgy(POSITION_MAX),
  wallMs: edgy(POSITION_MAX),
  counter: edgy(CLOCK_COUNTER_MAX),
  prev: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 })),
  author: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  key: text.filter(s => s.length > 0 && Buffer.byteLength(s) <= KEY_BYTES_MAX),
  value: fc.oneof(text, fc.constant(undefined), fc.integer(), fc.constant(null))
}).map(r => ({
  space: SPACE,
  author: r.author,
  epoch: r.epoch,
  seq: r.seq,
  prev: r.prev,
  clock: { wallMs: r.wallMs, counter: r.counter },
  body: r.value === undefined ? { t: 'kv.del', key: r.key } : { t: 'kv.put', key: r.key, value: r.value }
}))

test('the fast reader gives what the general decoder gives, and reads every kv entry with a text value', () => {
  fc.assert(fc.property(kvEntry, e => {
    const bytes = encodeUnsignedEntry(e)
    const fast = fastFields(bytes)
    const textOrDelete = e.body.t === 'kv.del' || (e.body.t === 'kv.put' && typeof e.body.value === 'string')
    assert.equal(fast !== undefined, textOrDelete, `read ${toHex(bytes)}`)
    if (fast !== undefined) assert.deepStrictEqual(fast, general(bytes))
  }), { seed: SEED, numRuns: RUNS })
})

test('mutated bytes: the fast reader reads nothing the general path refuses, and agrees on the rest', () => {
  const mutated = fc.tuple(kvEntry, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
    fc.integer({ min: -2, max: 2 }))
    .map(([e, flips, cut]) => {
      const b = encodeUnsignedEntry(e)
      const out = new Uint8Array(cut > 0 ? b.length + cut : b.length + cut)
      out.set(cut >= 0 ? b : b.subarray(0, out.length))
      for (const [at, v] of flips) out[at % out.length] = v
      return out
    })
  fc.assert(fc.property(mutated, bytes => {
    const fast = fastFields(bytes)
    if (fast === undefined) return
    assert.deepStrictEqual(fast, general(bytes), `bytes ${toHex(bytes)}`)
  }), { seed: SEED, numRuns: RUNS * 3 })
})

test('the fast reader refuses the shapes it does not prove: long heads, trailing bytes, a leading BOM', () => {
  const e: UnsignedEntry = {
    space: SPACE, author: new Uint8Array(32).fill(1), epoch: 5, seq: 9, prev: null, clock: { wallMs: 1000, counter: 1 },
    body: { t: 'kv.put', key: 'k', value: 'v' }
  }
  const bytes = encodeUnsignedEntry(e)
  assert.ok(readKvEntry(bytes) !== undefined)
  assert.equal(readKvEntry(new Uint8Array([...bytes, 0])), undefined)
  // 'e' (epoch 5) in a one-byte head: not the shortest form.
  const at = bytes.indexOf(0x65, 1) // the key 'e'
  const long = new Uint8Array([...bytes.subarray(0, at + 1), 0x18, 5, ...bytes.subarray(at + 2)])
  assert.equal(readKvEntry(long), undefined)
  assert.equal(general(long), 'refused')
  const bom = encodeUnsignedEntry({ ...e, body: { t: 'kv.put', key: 'k', value: 'x\ufeff' } })
  assert.ok(readKvEntry(bom) !== undefined)
  const leading = new Uint8Array(bom)
  const v = leading.lastIndexOf(0x78) // 'x': swap so the BOM leads
  leading.set([0xef, 0xbb, 0xbf, 0x78], v)
  assert.equal(readKvEntry(leading), undefined)
})
