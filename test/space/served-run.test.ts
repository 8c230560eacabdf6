/**
 * A server sends a run only up to an entry whose own signature it verified
 * (decision 2); SqliteStore gives serving its runs without ids (servedRun),
 * so when no verified entry is in reach the server's check of the last one
 * is committed by its position and the id hashed from its bytes. Both stores
 * must serve the same runs and mark the same entry verified.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import type { Store } from '../../src/store/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey } from '../../src/ids/index.ts'
import type { FeedRow, SignedBytes } from '../../src/codec/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const OWNER = seededKey('served-run', 'owner')

/** A space whose owner wrote `count` kv entries: its feed, and the feed as one served run. */
function ownerFeed (name: string, count: number): { origin: SpaceReplica, author: AuthorKey, feed: FeedRow, all: SignedBytes[] } {
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, name, T0)
  for (let i = 0; i < count; i++) origin.append(OWNER, { t: 'kv.put', key: `k${i}`, value: `v${i}` }, T0 + 1 + i)
  const author = authorKeyOf(OWNER.publicKey)
  const feed = origin.vector().find(r => authorKeyOf(r.author) === author)
  assert.ok(feed !== undefined)
  return { origin, author, feed, all: origin.serve(author, feed.epoch, 0, feed.count) }
}

/** `check` run on a fresh MemoryStore and a fresh SqliteStore, each with `origin`'s space adopted. */
function onBothStores (origin: SpaceReplica, check: (r: SpaceReplica, store: Store) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'served-run-'))
  const sqlite = SqliteStore.open(path.join(dir, 'store.db'))
  try {
    for (const store of [new MemoryStore(), sqlite] as Store[]) {
      const r = SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
      assert.ok(r instanceof SpaceReplica)
      check(r, store)
    }
  } finally {
    sqlite.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The run with the signatures of the entries `botched` picks garbled (one bit flipped). */
const botching = (run: readonly SignedBytes[], botched: (i: number) => boolean): [Uint8Array, Uint8Array][] =>
  run.map(([bytes, sig], i) => {
    if (!botched(i)) return [bytes, sig]
    const g = new Uint8Array(sig)
    g[0] = (g[0] as number) ^ 1
    return [bytes, g]
  })

test('a run with no verified entry in reach is served up to its last entry, then marked verified, alike on both stores', () => {
  const { origin, author, feed, all } = ownerFeed('served-run', 10)
  assert.equal(all.length, feed.count)
  const served: unknown[] = []
  onBothStores(origin, (r, store) => {
    // One run from a peer: only its last entry's own signature is checked (and marked verified).
    assert.equal(r.ingestRun(all, 'peer', T0 + 1000).reject, undefined)
    const last: number = feed.count - 1
    assert.equal(store.entryAt(r.key, author, feed.epoch, last)?.verified, true)
    assert.equal(store.entryAt(r.key, author, feed.epoch, 4)?.verified, false)
    const run = r.serve(author, feed.epoch, 0, 5)
    assert.deepEqual(run, all.slice(0, 5))
    assert.equal(store.entryAt(r.key, author, feed.epoch, 4)?.verified, true)
    served.push(run)
  })
  assert.deepEqual(served[0], served[1])
})

test('an entry held with a garbled signature, then brought with its own, is held with its own and verified, alike on both stores', () => {
  const { origin, author, feed, all } = ownerFeed('served-run-2', 10)
  // Every signature garbled but the run's last (which covers them all): the run is authentic.
  const garbled = botching(all, i => i !== all.length - 1)
  onBothStores(origin, (r, store) => {
    assert.equal(r.ingestRun(garbled, 'relay', T0 + 1000).reject, undefined)
    assert.equal(r.ingestRun([all[4] as [Uint8Array, Uint8Array]], 'author', T0 + 1000).duplicates, 1)
    const row = store.entryAt(r.key, author, feed.epoch, 4)
    assert.deepEqual([row?.verified, row?.sig], [true, (all[4] as [Uint8Array, Uint8Array])[1]])
    assert.deepEqual(r.serve(author, feed.epoch, 0, 5), all.slice(0, 4).map((_, i) => garbled[i]).concat([all[4] as [Uint8Array, Uint8Array]]))
  })
})

test('a range ending at entries whose signatures the author botched is served up to the last one that verifies, within a bound', () => {
  const { origin, author, feed, all } = ownerFeed('served-run-3', 40)
  // Botched by their author: 10 (one), and 20..36 (17 in a row); the run's last signature covers them all.
  const sent = botching(all, i => i === 10 || (i >= 20 && i <= 36))
  onBothStores(origin, (r, store) => {
    assert.equal(r.ingestRun(sent, 'relay', T0 + 1000).reject, undefined)
    // Asked up to the botched entry 10: served up to 9, checked on the way (before, nothing was served).
    assert.deepEqual(r.serve(author, feed.epoch, 0, 11), sent.slice(0, 10))
    assert.equal(store.entryAt(r.key, author, feed.epoch, 9)?.verified, true)
    assert.equal(store.entryAt(r.key, author, feed.epoch, 10)?.verified, false)
    // Past a verified one in reach, nothing is checked: the run ends at it.
    assert.deepEqual(r.serve(author, feed.epoch, 0, 15), sent.slice(0, 10))
    // Ending at 16 botched in a row (20..35), the serve gives up after checking them; at 15, its 16th check is 19's.
    assert.deepEqual(r.serve(author, feed.epoch, 11, 36), [])
    assert.deepEqual(r.serve(author, feed.epoch, 11, 35), sent.slice(11, 20))
  })
})
