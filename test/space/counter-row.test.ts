/**
 * Counter rows hold exact sums (space/counter-row.ts): adds past 2^53 are
 * counted, not saturated, and the row is the same whatever order the adds
 * were applied in, so every node agrees (review A, defect 3: one add of
 * 2^53-1 used to freeze a counter's side for good).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeCbor } from '../../src/codec/index.ts'
import { addToCounterRow, counterRowValue } from '../../src/space/counter-row.ts'

const MAX = Number.MAX_SAFE_INTEGER

function applied (deltas: readonly number[]): Uint8Array | undefined {
  let row: Uint8Array | undefined
  for (const d of deltas) row = addToCounterRow(row, d)
  return row
}

const valueOf = (deltas: readonly number[]): number | bigint => counterRowValue(applied(deltas) as Uint8Array)

test('an add after 2^53-1 is counted: the value is the exact sum of the adds', () => {
  assert.equal(valueOf([MAX, MAX, -1]), 2n * BigInt(MAX) - 1n)
  assert.equal(valueOf([MAX, 5]), BigInt(MAX) + 5n)
  assert.equal(valueOf([-MAX, -MAX]), -2n * BigInt(MAX))
  // Back in the safe range, a number again.
  assert.equal(valueOf([MAX, MAX, -MAX]), MAX)
  assert.equal(valueOf([MAX, 5, -10]), MAX - 5)
})

test('many adds of 2^53-1 sum past 64 bits, still exactly', () => {
  const adds = Array.from({ length: 5000 }, () => MAX)
  assert.equal(valueOf(adds), 5000n * BigInt(MAX))
})

test('rows within 2^53 are encoded as before (plain integers), so stored rows and view hashes stay the same', () => {
  assert.deepEqual(applied([5, -3, 2]), encodeCbor([7, 3]))
  assert.deepEqual(applied([MAX, -MAX]), encodeCbor([MAX, MAX]))
  // A row written by an earlier version (a saturated one too) still reads.
  assert.equal(counterRowValue(encodeCbor([MAX, 1])), MAX - 1)
})

test('any order of the same adds gives the same row bytes', () => {
  const delta = fc.oneof(
    fc.integer({ min: -MAX, max: MAX }).filter(d => d !== 0),
    fc.constantFrom(MAX, -MAX, MAX - 1, 1, -1)
  )
  fc.assert(fc.property(fc.array(delta, { minLength: 1, maxLength: 40 }), fc.func(fc.integer()), (deltas, key) => {
    const shuffled = deltas.map((d, i) => [key(i, d), d] as const).sort((a, b) => a[0] - b[0]).map(([, d]) => d)
    assert.deepEqual(applied(shuffled), applied(deltas))
    const sum = deltas.reduce((s, d) => s + BigInt(d), 0n)
    assert.equal(BigInt(valueOf(deltas)), sum)
  }))
})
