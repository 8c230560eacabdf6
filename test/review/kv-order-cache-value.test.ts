/**
 * Review (kv views, 9e8dfaa and the kv order cache it feeds): what the
 * space's KvOrderCache keeps (10,000 keys per space, long after the batch)
 * must be a kv row's order only. When a batch's kv entry is not in the cache,
 * ViewOverlay.kvOrder reads the stored row and keeps decodeKvRow's result,
 * which is the whole row: its `value` too (up to ~64 kB, an entry's limit).
 * If that entry loses to the stored row (another member's older write that
 * arrives later, as a catch-up from several peers or after the cache was
 * cleared, at every 10,000 keys, or emptied by a restart), setKv never
 * replaces it and remember() keeps the decoded value: 10,000 keys could hold
 * ~640 MB of values per space where ~100 bytes each are needed.
 *
 * (The rows 9e8dfaa cuts from a 64 KiB slab go to the store only: SQLite copies
 * them at bind, and decodeKvRow's byte strings are copies, so no cached order
 * holds a slab; a MemoryStore keeps them as given, tests only.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeEntry } from '../../src/codec/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { applyDataEntry, encodeKvRow, KvOrderCache, ViewOverlay } from '../../src/space/views.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const OWNER = seededKey('review-kv-order-value', 'owner')

test('the kv order cache keeps a row\'s order, not the value of a stored row an older entry lost to', () => {
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, 'order cache', T0)
  origin.append(OWNER, { t: 'kv.put', key: 'k', value: 'old' }, T0 + 1)
  origin.append(OWNER, { t: 'kv.put', key: 'k', value: 'v'.repeat(60_000) }, T0 + 2)
  const row = origin.vector().find(r => authorKeyOf(r.author) === authorKeyOf(OWNER.publicKey))
  assert.ok(row !== undefined)
  const [older, newer] = origin.serve(authorKeyOf(row.author), row.epoch, row.count - 2, row.count)
    .map(([bytes, sig]) => decodeEntry(bytes, sig))
  assert.ok(older !== undefined && newer !== undefined && newer.body.t === 'kv.put')
  // The newer write is the committed row, read back as SQLite gives a blob: bytes of their own.
  const stored = new Uint8Array(encodeKvRow(newer, false, newer.body.value))
  const cache = new KvOrderCache()
  const source = {
    get: (view: string, key: Uint8Array) => view === 'kv' && Buffer.from(key).toString() === 'k' ? stored : undefined
  }
  const overlay = new ViewOverlay(source, cache)
  applyDataEntry(overlay, older) // loses to the stored row: nothing written
  assert.deepEqual(overlay.writes(), [])
  cache.remember(overlay)
  const order = cache.get('k')
  assert.ok(order != null)
  assert.deepEqual(Object.keys(order).sort(), ['author', 'counter', 'epoch', 'id', 'seq', 'wallMs'],
    `the cached order of k keeps ${JSON.stringify(Object.keys(order))}, its stored value (60,000 bytes) included`)
})
