/**
 * The nesting limit (decision 14): decided by an iterative scan of the bytes
 * before cborg (which recurses) sees them, so the same bytes get the same
 * answer on every node, whatever its stack or JIT state.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fc from 'fast-check'
import * as dagCbor from '@ipld/dag-cbor'
import { cborNestingProblem, valueDeeperThan } from '../../src/codec/depth.ts'
import {
  CBOR_DEPTH_MAX, ENTRY_DEPTH_MAX, TIME_MS_MAX, VALUE_DEPTH_MAX, decodeCbor, decodeEntry, decodeMessage, decodeStatus, encodeCbor,
  encodeUnsignedEntry, encodeMessage, isCodecError, storedEntryClock
} from '../../src/codec/index.ts'
import { nestedArrays, PLACEHOLDER, withRaw } from '../helpers/raw-cbor.ts'
import type { UnsignedEntry } from '../../src/codec/index.ts'

const SIG = new Uint8Array(64).fill(7)
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) | 0

const arrays = (depth: number, leaf = 0x00): Uint8Array => { const b = new Uint8Array(depth + 1).fill(0x81); b[depth] = leaf; return b }
const maps = (depth: number): Uint8Array => { const b = new Uint8Array(depth * 3 + 1); for (let i = 0; i < depth; i++) b.set([0xa1, 0x61, 0x61], i * 3); return b }
const tags = (depth: number): Uint8Array => { const b = new Uint8Array(depth * 2 + 1); for (let i = 0; i < depth; i++) b.set([0xd8, 0x2a], i * 2); b[depth * 2] = 0x40; return b }
const nest = (depth: number, leaf: unknown = 1): unknown => { let v = leaf; for (let i = 0; i < depth; i++) v = [v]; return v }
const nestMaps = (depth: number): unknown => { let v: unknown = 'x'; for (let i = 0; i < depth; i++) v = { k: v }; return v }

function codeOf (f: () => unknown): string {
  try { f(); return 'ok' } catch (err) {
    assert.ok(isCodecError(err), `expected a CodecError, got ${String(err)}`)
    return err.code
  }
}

const unsigned = (body: UnsignedEntry['body']): UnsignedEntry => ({
  space: new Uint8Array(36), author: new Uint8Array(32), epoch: 0, seq: 0, prev: null, clock: { wallMs: 1, counter: 0 }, body
})

test('the depth of CBOR bytes is counted in containers: arrays, maps and tags', () => {
  assert.equal(cborNestingProblem(Uint8Array.of(0x01), 0), null)
  assert.equal(cborNestingProblem(arrays(1), 1), null)
  assert.match(cborNestingProblem(arrays(2), 1) ?? '', /nested deeper than 1/)
  assert.equal(cborNestingProblem(arrays(64), 64), null)
  assert.match(cborNestingProblem(arrays(65), 64) ?? '', /nested deeper than 64/)
  assert.equal(cborNestingProblem(maps(64), 64), null)
  assert.match(cborNestingProblem(maps(65), 64) ?? '', /nested/)
  assert.equal(cborNestingProblem(tags(64), 64), null)
  assert.match(cborNestingProblem(tags(65), 64) ?? '', /nested/)
  // Wide is not deep: a long flat array of arrays is depth 2.
  assert.equal(cborNestingProblem(encodeCbor(Array.from({ length: 10_000 }, () => [1, 2])), 2), null)
})

test('malformed heads and lengths are named, never decoded: truncation, indefinite lengths, reserved bytes, trailing bytes, huge counts', () => {
  assert.match(cborNestingProblem(Uint8Array.of(0x82, 0x01), 64) ?? '', /more items than there are bytes/)
  assert.match(cborNestingProblem(Uint8Array.of(0x19, 0x01), 64) ?? '', /truncated/)
  assert.match(cborNestingProblem(Uint8Array.of(0x9f, 0x01, 0xff), 64) ?? '', /indefinite/)
  assert.match(cborNestingProblem(Uint8Array.of(0x1c), 64) ?? '', /reserved/)
  assert.match(cborNestingProblem(Uint8Array.of(0x01, 0x02), 64) ?? '', /trailing/)
  assert.match(cborNestingProblem(Uint8Array.of(0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00), 64) ?? '', /more items than there are bytes/)
  assert.match(cborNestingProblem(Uint8Array.of(0x5a, 0xff, 0xff, 0xff, 0xff), 64) ?? '', /runs past the end/)
  assert.match(cborNestingProblem(new Uint8Array(0), 64) ?? '', /truncated/)
})

test('a value nested 100,000 levels is refused quickly, as OVERSIZED, with no RangeError, by every decoder', () => {
  const deep = arrays(100_000)
  const started = process.hrtime.bigint()
  for (let i = 0; i < 20; i++) {
    assert.equal(codeOf(() => decodeCbor(deep, 'x', 1 << 20, false)), 'OVERSIZED')
    assert.equal(codeOf(() => decodeMessage(deep)), 'OVERSIZED')
  }
  assert.equal(codeOf(() => decodeCbor(maps(100_000), 'x', 1 << 20, false)), 'OVERSIZED')
  assert.equal(codeOf(() => decodeCbor(tags(100_000), 'x', 1 << 20, false)), 'OVERSIZED')
  // The scan stops at the first level past the limit: the cost does not grow with the depth. A generous bound, not a speed test.
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  assert.ok(ms < 20_000, `40 refusals took ${ms} ms`)
})

test('the same bytes get the same answer however deep the stack already is (decided by rule, not by stack space)', () => {
  const cases = [arrays(CBOR_DEPTH_MAX), arrays(CBOR_DEPTH_MAX + 1), arrays(3000), arrays(12_000)]
  const fresh = cases.map(b => codeOf(() => decodeCbor(b, 'x', 1 << 20, false)))
  assert.deepEqual(fresh, ['ok', 'OVERSIZED', 'OVERSIZED', 'OVERSIZED'])
  // The same decisions with most of the stack used up.
  const atDepth = (n: number): string[] => n === 0 ? cases.map(b => codeOf(() => decodeCbor(b, 'x', 1 << 20, false))) : atDepth(n - 1)
  for (const depth of [10, 1000, 5000]) assert.deepEqual(atDepth(depth), fresh, `with ${depth} frames on the stack`)
  // And in another process with a much smaller stack.
  const script = `import { decodeCbor } from ${JSON.stringify(new URL('../../src/codec/index.ts', import.meta.url).href)};
    const arrays = d => { const b = new Uint8Array(d + 1).fill(0x81); b[d] = 0; return b };
    const out = [${CBOR_DEPTH_MAX}, ${CBOR_DEPTH_MAX + 1}, 3000, 12000].map(d => { try { decodeCbor(arrays(d), 'x', 1 << 20, false); return 'ok' } catch (e) { return e.code ?? e.name } });
    console.log(JSON.stringify(out))`
  const child = spawnSync(process.execPath, ['--stack-size=200', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(child.status, 0, child.stderr)
  assert.deepEqual(JSON.parse(child.stdout), fresh)
})

test('fuzz: the scan agrees with a reference depth of the decoded value, and never throws', () => {
  const depthOf = (v: unknown): number => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return 0
    const children = Array.isArray(v) ? v : Object.values(v)
    return 1 + Math.max(0, ...children.map(depthOf))
  }
  fc.assert(fc.property(fc.letrec(tie => ({
    value: fc.oneof({ depthSize: 'medium', withCrossShrink: true }, fc.integer(), fc.string(), fc.constant(null), fc.uint8Array({ maxLength: 4 }),
      fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 3 }), tie('value'), { maxKeys: 3 }))
  })).value, fc.integer({ min: 0, max: 12 }), (value, max) => {
    const bytes = dagCbor.encode(value)
    const d = depthOf(value)
    assert.equal(cborNestingProblem(bytes, max) === null, d <= max)
    assert.equal(valueDeeperThan(value, max), d > max)
  }), { numRuns: 3000, seed: SEED, interruptAfterTimeLimit: 60_000 })
  // Random bytes and mutations of valid encodings: an answer, never a throw.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 70 }), (bytes, max) => {
    const problem = cborNestingProblem(bytes, max)
    assert.ok(problem === null || typeof problem === 'string')
    // Whatever the scan lets through, the decoder takes without a RangeError.
    if (problem === null) assert.notEqual(codeOf(() => decodeCbor(bytes, 'x', 1 << 20, false)), 'RangeError')
  }), { numRuns: 20_000, seed: SEED, interruptAfterTimeLimit: 60_000 })
})

test('a kv value or ledger tx may nest VALUE_DEPTH_MAX levels: the writer and every receiver draw the line at the same place', () => {
  const ok = encodeUnsignedEntry(unsigned({ t: 'kv.put', key: 'k', value: nest(VALUE_DEPTH_MAX) }))
  assert.equal(codeOf(() => decodeEntry(ok, SIG)), 'ok')
  assert.equal(codeOf(() => encodeUnsignedEntry(unsigned({ t: 'kv.put', key: 'k', value: nest(VALUE_DEPTH_MAX + 1) }))), 'OVERSIZED')
  assert.equal(codeOf(() => encodeUnsignedEntry(unsigned({ t: 'ledger.append', tx: nestMaps(VALUE_DEPTH_MAX + 1) }))), 'OVERSIZED')
  assert.match((() => { try { encodeUnsignedEntry(unsigned({ t: 'ledger.append', tx: nest(5000) })); return '' } catch (e) { return (e as Error).message } })(), /deeper than 32 levels.*store it flatter/)
  // A user's JSON nested 100,000 levels is refused by the loop, before the encoder recurses.
  assert.equal(codeOf(() => encodeUnsignedEntry(unsigned({ t: 'kv.put', key: 'k', value: nest(100_000) }))), 'OVERSIZED')
  // A peer's entry one level deeper than a writer can make: refused by the decoder, canonical bytes and all.
  const tooDeep = encodeCbor({ s: new Uint8Array(36), a: new Uint8Array(32), e: 0, q: 0, p: null, c: [1, 0], b: { t: 'kv.put', key: 'k', value: nest(VALUE_DEPTH_MAX + 1) } })
  assert.equal(codeOf(() => decodeEntry(tooDeep, SIG)), 'OVERSIZED')
  assert.equal(codeOf(() => decodeEntry(tooDeep, SIG, false)), 'OVERSIZED')
  assert.equal(ENTRY_DEPTH_MAX, VALUE_DEPTH_MAX + 2)
})

test('times past TIME_MS_MAX are refused in status records and status heads (Date-safe by rule)', () => {
  assert.ok(TIME_MS_MAX < 8.64e15)
  const status = (wallMs: number): Uint8Array => encodeCbor({ s: new Uint8Array(36), a: new Uint8Array(32), c: [wallMs, 0], b: {} })
  assert.equal(codeOf(() => decodeStatus(status(TIME_MS_MAX), SIG)), 'ok')
  assert.equal(codeOf(() => decodeStatus(status(9e15), SIG)), 'INVALID_FIELD')
  const have = (wallMs: number): Uint8Array => encodeMessage({ m: 'status-have', space: new Uint8Array(36), heads: [{ author: new Uint8Array(32), clock: { wallMs, counter: 0 }, id: new Uint8Array(32) }] })
  assert.equal(codeOf(() => decodeMessage(have(TIME_MS_MAX))), 'ok')
  assert.equal(codeOf(() => decodeMessage(have(9e15))), 'INVALID_FIELD')
})

test('the clock of a stored entry too deep to decode is read by skipping, not decoding (a feed goes on after it)', () => {
  const entry = { s: new Uint8Array(36), a: new Uint8Array(32), e: 1, q: 0, p: null, c: [1234567, 8], b: { t: 'ledger.append', tx: PLACEHOLDER } }
  const deep = withRaw(entry, nestedArrays(50_000))
  assert.equal(codeOf(() => decodeEntry(deep, SIG, false)), 'OVERSIZED')
  assert.deepEqual(storedEntryClock(deep), { wallMs: 1234567, counter: 8 })
  assert.deepEqual(storedEntryClock(encodeUnsignedEntry(unsigned({ t: 'kv.del', key: 'k' }))), { wallMs: 1, counter: 0 })
  assert.equal(codeOf(() => storedEntryClock(Uint8Array.of(0xa0))), 'MALFORMED')
  assert.equal(codeOf(() => storedEntryClock(deep.subarray(0, 40))), 'MALFORMED')
})
