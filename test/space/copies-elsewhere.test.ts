/** Valid entries seen where ours is botched (space/copies-elsewhere.ts): a second that differs proves the fork. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { COPIES_ELSEWHERE_BYTES_MAX, COPIES_ELSEWHERE_MAX, CopiesElsewhere } from '../../src/space/copies-elsewhere.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { forkable } from '../sync/forked-writer.ts'
import type { Signed } from '../sync/forked-writer.ts'

test('the first valid entry of a position is kept; one that differs proves the fork with it; bounded in count', () => {
  const f = forkable('copies-elsewhere', [])
  const feed = `${authorKeyOf(f.e0.author)}/${f.e0.epoch}`
  const copies = new CopiesElsewhere()
  const x1 = f.next(1, f.e0.id, 'x1')
  const y1 = f.next(1, f.e0.id, 'y1')
  assert.equal(copies.proofWith(x1), undefined)
  assert.equal(copies.proofWith(x1), undefined, 'the same entry again proves nothing')
  assert.deepEqual(copies.proofWith(y1), { held: x1, entry: y1 })
  assert.equal(copies.differing(y1), x1)
  assert.equal(copies.differing(x1), undefined)
  assert.deepEqual([copies.below(feed, 1), copies.below(feed, 2)], [[], [1]])
  // Past the bound the oldest position goes: seq 1's x1, then a y1 proves nothing more.
  let prev: Signed = x1
  for (let seq = 2; seq <= COPIES_ELSEWHERE_MAX + 1; seq++) copies.proofWith(prev = f.next(seq, prev.id, `x${seq}`))
  assert.equal(copies.below(feed, Infinity).length, COPIES_ELSEWHERE_MAX)
  assert.deepEqual(copies.below(feed, 3), [2])
  assert.equal(copies.proofWith(y1), undefined)
})

test('bounded in bytes: entries of 60 KB each, the oldest dropped past COPIES_ELSEWHERE_BYTES_MAX', () => {
  const f = forkable('copies-elsewhere-bytes', [])
  const feed = `${authorKeyOf(f.e0.author)}/${f.e0.epoch}`
  const copies = new CopiesElsewhere()
  let prev: Signed = f.e0
  const size = f.next(1, prev.id, 'v'.repeat(60_000)).bytes.byteLength
  for (let seq = 1; seq <= 100; seq++) copies.proofWith(prev = f.next(seq, prev.id, 'v'.repeat(60_000)))
  const kept = copies.below(feed, Infinity)
  assert.equal(kept.length, Math.floor(COPIES_ELSEWHERE_BYTES_MAX / size))
  assert.equal(kept.at(-1), 100, 'the newest kept')
})
