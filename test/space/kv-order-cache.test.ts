/**
 * The kv order cache (space/views.ts KvOrderCache) keeps the order of a key
 * that had a row before the batch, so that its next update reads nothing;
 * a key new to the store is not kept (a late joiner's keys are nearly all
 * new, and their orders outlived V8's young generation by the thousand).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeEntry } from '../../src/codec/index.ts'
import type { Entry } from '../../src/codec/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { applyDataEntry, EMPTY_ROWS, encodeKvRow, KvOrderCache, ViewOverlay } from '../../src/space/views.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const OWNER = seededKey('kv-order-cache', 'owner')

/** The owner's kv.put entries of `keys`, one each, in order. */
function puts (...keys: string[]): Entry[] {
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, 'kv order cache', T0)
  keys.forEach((key, i) => origin.append(OWNER, { t: 'kv.put', key, value: i }, T0 + 1 + i))
  const row = origin.vector().find(r => authorKeyOf(r.author) === authorKeyOf(OWNER.publicKey))
  assert.ok(row !== undefined)
  return origin.serve(authorKeyOf(row.author), row.epoch, row.count - keys.length, row.count)
    .map(([bytes, sig]) => decodeEntry(bytes, sig))
}

test('keys new to the store are not kept; a key written twice in its first batch neither', () => {
  const cache = new KvOrderCache()
  const overlay = new ViewOverlay(EMPTY_ROWS, cache)
  for (const e of puts('a', 'b', 'a')) applyDataEntry(overlay, e)
  assert.equal(overlay.writes().length, 2, 'both keys written')
  cache.remember(overlay)
  assert.equal(cache.get('a'), undefined)
  assert.equal(cache.get('b'), undefined)
})

test('a key that had a row is kept with the order written, and its next update reads no row', () => {
  const [older, newer, later] = puts('u', 'u', 'u')
  assert.ok(older !== undefined && newer !== undefined && later !== undefined)
  const stored = encodeKvRow(older, false, 0)
  let reads = 0
  const source = { get: () => { reads++; return stored } }
  const cache = new KvOrderCache()
  const first = new ViewOverlay(source, cache)
  applyDataEntry(first, newer)
  cache.remember(first)
  assert.equal(reads, 1)
  const order = cache.get('u')
  assert.ok(order != null)
  assert.deepEqual({ wallMs: order.wallMs, counter: order.counter, seq: order.seq },
    { wallMs: newer.clock.wallMs, counter: newer.clock.counter, seq: newer.seq })
  const second = new ViewOverlay(source, cache)
  applyDataEntry(second, later)
  assert.equal(reads, 1, 'the update compared with the cached order, no row read')
  assert.equal(second.writes().length, 1)
})
