/**
 * The kv rows a batch needs are read ahead in one statement on SQLite
 * (commits.ts storeRows): the views must come out exactly as on a store
 * read key by key, with keys repeated inside a run, keys that already have
 * a row (the replica reopened, so its kv order cache is empty), deletes,
 * and a second writer whose older clocks must lose to the rows read ahead.
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
import type { SpaceKey } from '../../src/ids/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const OWNER = seededKey('kv-read-ahead', 'owner')
const OTHER = seededKey('kv-read-ahead', 'other')

/** Runs of at most `size` entries of every feed of `from`, in feed order. */
function runsOf (from: SpaceReplica, size: number): ReturnType<SpaceReplica['serve']>[] {
  const runs: ReturnType<SpaceReplica['serve']>[] = []
  for (const row of from.vector()) {
    for (let seq = 0; seq < row.count;) {
      const run = from.serve(authorKeyOf(row.author), row.epoch, seq, Math.min(row.count, seq + size))
      assert.ok(run.length > 0)
      runs.push(run)
      seq += run.length
    }
  }
  return runs
}

test('kv rows read ahead in one statement give the views a read per key gives', () => {
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, 'kv-read-ahead', T0)
  origin.append(OWNER, { t: 'acl.grant', member: OTHER.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  // The other writer first, at older clocks, over keys the owner writes later.
  for (let i = 0; i < 300; i++) origin.append(OTHER, { t: 'kv.put', key: `k${i % 40}`, value: `other ${i}` }, T0 + 10 + i)
  for (let i = 0; i < 900; i++) {
    const key = `k${(i * 7) % 120}`
    if (i % 13 === 0) origin.append(OWNER, { t: 'kv.del', key }, T0 + 1000 + i)
    else origin.append(OWNER, { t: 'kv.put', key, value: i % 2 === 0 ? `v${i}` : { n: i } }, T0 + 1000 + i)
  }
  // The owner's feed (newer clocks) arrives before the other writer's, so the older entries meet rows already stored.
  const runs = runsOf(origin, 97).sort((a, b) => {
    const isOwner = (run: typeof a): number => Buffer.from(run[0]![0]).includes(Buffer.from(OWNER.publicKey)) ? 0 : 1
    return isOwner(a) - isOwner(b)
  })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-read-ahead-'))
  const sqlite = SqliteStore.open(path.join(dir, 'store.db'))
  try {
    const stores: Store[] = [new MemoryStore(), sqlite]
    const keys: SpaceKey[] = []
    for (const store of stores) {
      const r = SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
      assert.ok(r instanceof SpaceReplica)
      keys.push(r.key)
    }
    const nowMs = T0 + 100_000
    for (const [i, run] of runs.entries()) {
      for (const [k, store] of stores.entries()) {
        // Reopened every few runs: an empty kv order cache, so the rows already stored are read (ahead).
        const replica = SpaceReplica.open(store, keys[k]!)
        const result = replica.ingestRun(run, 'peer', nowMs)
        assert.equal(result.reject, undefined, `run ${i}: ${result.reject?.detail}`)
      }
    }
    const [mem, sql] = stores.map((store, k) => SpaceReplica.open(store, keys[k]!))
    assert.equal(sql!.viewHash(), mem!.viewHash())
    assert.deepEqual(sql!.kvList(), mem!.kvList())
    assert.equal(sql!.viewHash(), origin.viewHash())
  } finally {
    sqlite.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
