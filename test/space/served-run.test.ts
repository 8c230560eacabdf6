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
import { seededKey, T0 } from '../helpers/fixtures.ts'

const OWNER = seededKey('served-run', 'owner')

test('a run with no verified entry in reach is served up to its last entry, then marked verified, alike on both stores', () => {
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, 'served-run', T0)
  for (let i = 0; i < 10; i++) origin.append(OWNER, { t: 'kv.put', key: `k${i}`, value: `v${i}` }, T0 + 1 + i)
  const author = authorKeyOf(OWNER.publicKey)
  const feed = origin.vector().find(r => authorKeyOf(r.author) === author)
  assert.ok(feed !== undefined)
  const all = origin.serve(author, feed.epoch, 0, feed.count)
  assert.equal(all.length, feed.count)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'served-run-'))
  const sqlite = SqliteStore.open(path.join(dir, 'store.db'))
  try {
    const served: unknown[] = []
    for (const store of [new MemoryStore(), sqlite] as Store[]) {
      const r = SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
      assert.ok(r instanceof SpaceReplica)
      // One run from a peer: only its last entry's own signature is checked (and marked verified).
      assert.equal(r.ingestRun(all, 'peer', T0 + 1000).reject, undefined)
      const last: number = feed.count - 1
      assert.equal(store.entryAt(r.key, author, feed.epoch, last)?.verified, true)
      assert.equal(store.entryAt(r.key, author, feed.epoch, 4)?.verified, false)
      const run = r.serve(author, feed.epoch, 0, 5)
      assert.deepEqual(run, all.slice(0, 5))
      assert.equal(store.entryAt(r.key, author, feed.epoch, 4)?.verified, true)
      served.push(run)
    }
    assert.deepEqual(served[0], served[1])
  } finally {
    sqlite.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('an entry held with a garbled signature, then brought with its own, is held with its own and verified, alike on both stores', () => {
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, 'served-run-2', T0)
  for (let i = 0; i < 10; i++) origin.append(OWNER, { t: 'kv.put', key: `k${i}`, value: `v${i}` }, T0 + 1 + i)
  const author = authorKeyOf(OWNER.publicKey)
  const feed = origin.vector().find(r => authorKeyOf(r.author) === author)
  assert.ok(feed !== undefined)
  const all = origin.serve(author, feed.epoch, 0, feed.count)
  // Every signature garbled but the run's last (which covers them all): the run is authentic.
  const garbled = all.map(([bytes, sig], i): [Uint8Array, Uint8Array] => {
    if (i === all.length - 1) return [bytes, sig]
    const g = new Uint8Array(sig)
    g[0] = (g[0] as number) ^ 1
    return [bytes, g]
  })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'served-run-'))
  const sqlite = SqliteStore.open(path.join(dir, 'store.db'))
  try {
    for (const store of [new MemoryStore(), sqlite] as Store[]) {
      const r = SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
      assert.ok(r instanceof SpaceReplica)
      assert.equal(r.ingestRun(garbled, 'relay', T0 + 1000).reject, undefined)
      assert.equal(r.ingestRun([all[4] as [Uint8Array, Uint8Array]], 'author', T0 + 1000).duplicates, 1)
      const row = store.entryAt(r.key, author, feed.epoch, 4)
      assert.deepEqual([row?.verified, row?.sig], [true, (all[4] as [Uint8Array, Uint8Array])[1]])
      assert.deepEqual(r.serve(author, feed.epoch, 0, 5), all.slice(0, 4).map((_, i) => garbled[i]).concat([all[4] as [Uint8Array, Uint8Array]]))
    }
  } finally {
    sqlite.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
