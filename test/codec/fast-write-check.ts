import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bytesEqual, toHex } from '../../src/codec/index.ts'

/**
 * For the direct writers' tests (entry-fast-write.ts and the like): every value of `values` that `write` writes must
 * come out exactly as `general` (cborg) encodes it, as a plain Uint8Array. Returns how many it wrote, for the caller
 * to check its generator still reaches the fast path.
 */
export function writesAlike<T> (
  values: fc.Arbitrary<T>,
  write: (value: T) => Uint8Array | undefined,
  general: (value: T) => Uint8Array | 'refused',
  opts: { readonly seed: number, readonly runs: number }
): number {
  let written = 0
  fc.assert(fc.property(values, value => {
    const fast = write(value)
    if (fast === undefined) return
    written++
    const want = general(value)
    assert.ok(want !== 'refused' && bytesEqual(fast, want), `wrote ${toHex(fast)}`)
    assert.equal(Object.getPrototypeOf(fast), Uint8Array.prototype)
  }), { seed: opts.seed, numRuns: opts.runs })
  return written
}
