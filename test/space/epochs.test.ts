/**
 * Decision 15 at the replica: a process never continues an epoch it did not
 * open, so a store restored from an older copy (byte-identical, real SQLite
 * files) never forks its author's feed, and two copies opened at once draw
 * different epochs.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { toHex } from '../../src/codec/index.ts'
import { EPOCH_SALT_RANGE, nextEpoch, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { authorKeyOf, entryIdOf } from '../../src/ids/index.ts'

const W = seededKey('epochs', 'writer')
const me = authorKeyOf(W.publicKey)

/** Everything `from` stores, run by run, into `to` (a catch-up); returns whether any fork was proven. */
function sync (from: SpaceReplica, to: SpaceReplica, now: number): boolean {
  let forked = false
  for (const row of from.vector()) {
    for (let seq = 0; seq < row.count;) {
      const run = from.serve(authorKeyOf(row.author), row.epoch, seq, row.count)
      if (run.length === 0) break
      const r = to.ingestRun(run, 'peer', now)
      assert.equal(r.reject, undefined, r.reject?.detail)
      forked ||= r.fork !== undefined
      seq += run.length
    }
  }
  return forked
}

function ownEpochs (r: SpaceReplica): number[] {
  return r.vector().filter(f => authorKeyOf(f.author) === me).map(f => f.epoch).sort((a, b) => a - b)
}

test('nextEpoch is above every held epoch, at least the wall time, and salted within its range', () => {
  assert.equal(nextEpoch([], T0, 0), T0)
  assert.equal(nextEpoch([T0 + 5], T0, 0), T0 + 6)
  assert.equal(nextEpoch([T0 - 5], T0, 7), T0 + 7)
  assert.equal(nextEpoch([T0 + 5], T0, 3), T0 + 9, 'the salt is added after the max, so copies ahead of the clock still draw apart')
  assert.equal(nextEpoch([], T0, EPOCH_SALT_RANGE * 4), T0 + EPOCH_SALT_RANGE - 1)
  assert.equal(nextEpoch([], T0, -1), T0)
})

test('a reopened replica (a process start) writes in a new epoch linked to the old head, and makes no feed without a write', () => {
  const store = new MemoryStore()
  const first = SpaceReplica.create(store, W, 'epochs', T0)
  const a = first.append(W, { t: 'kv.put', key: 'k', value: 1 }, T0 + 1)
  const b = first.append(W, { t: 'kv.put', key: 'k', value: 2 }, T0 + 2)
  assert.deepEqual([a.epoch, b.epoch, b.seq], [T0 + 1, T0 + 1, 1], 'one process continues its own epoch')
  SpaceReplica.open(store, first.key) // a start without a write
  assert.deepEqual(ownEpochs(first), [T0 + 1], 'no feed for a start that wrote nothing')
  const again = SpaceReplica.open(store, first.key)
  const c = again.append(W, { t: 'kv.put', key: 'k', value: 3 }, T0 + 3)
  assert.ok(c.epoch > b.epoch)
  assert.equal(c.seq, 0)
  assert.equal(c.prev === null ? null : toHex(c.prev), entryIdOf(b.id), 'the new epoch names the last head it holds')
  assert.deepEqual(again.kvGet('k')?.value, 3)
})

test('a store restored from an older copy of its file never forks its feed: every write of both branches stays effective', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-epochs-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'store.db')
  const copy = path.join(dir, 'copy.db')

  let store = SqliteStore.open(file)
  let replica = SpaceReplica.create(store, W, 'restore', T0, { epochSalt: 11 })
  for (let i = 0; i < 3; i++) replica.append(W, { t: 'kv.put', key: `before-${i}`, value: i }, T0 + 10 + i)
  store.close()
  fs.copyFileSync(file, copy) // the user's copy of a stopped node

  store = SqliteStore.open(file) // started again: writes more
  replica = SpaceReplica.open(store, replica.key, { epochSalt: 22 })
  for (let i = 0; i < 3; i++) replica.append(W, { t: 'ledger.append', tx: { after: i } }, T0 + 100 + i)
  const later = new MemoryStore() // a peer that got everything
  const peer = SpaceReplica.adopt(later, [replica.genesis.bytes, replica.genesis.sig]) as SpaceReplica
  assert.equal(sync(replica, peer, T0 + 200), false)
  store.close()

  fs.copyFileSync(copy, file) // the old copy put back
  for (const f of [`${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true })
  store = SqliteStore.open(file)
  const restored = SpaceReplica.open(store, replica.key, { epochSalt: 33 })
  const fresh = restored.append(W, { t: 'kv.put', key: 'restored', value: true }, T0 + 300)
  assert.ok(!ownEpochs(peer).includes(fresh.epoch), 'the restored store opened an epoch nobody holds')

  assert.equal(sync(restored, peer, T0 + 400), false, 'no fork at the peer')
  assert.equal(sync(peer, restored, T0 + 400), false, 'no fork when the restored node gets its own entries back')
  assert.deepEqual(peer.forkProofs(), [])
  assert.deepEqual(restored.forkProofs(), [])
  for (const r of [peer, restored]) {
    assert.deepEqual([0, 1, 2].map(i => r.kvGet(`before-${i}`)?.value), [0, 1, 2])
    assert.equal(r.kvGet('restored')?.value, true)
    assert.deepEqual(r.ledgerList().length, 3, 'the writes made after the copy are effective')
  }
  assert.equal(peer.viewHash(), restored.viewHash())
  store.close()
})

test('two copies of one store opened at once draw different epochs (salts) and neither branch is a fork', () => {
  const origin = SpaceReplica.create(new MemoryStore(), W, 'twins', T0)
  origin.append(W, { t: 'kv.put', key: 'base', value: 0 }, T0 + 1)
  const twins = [5, 900_000].map(salt => {
    const r = SpaceReplica.adopt(new MemoryStore(), [origin.genesis.bytes, origin.genesis.sig], undefined, { epochSalt: salt }) as SpaceReplica
    sync(origin, r, T0 + 2)
    return r
  })
  const [x, y] = twins as [SpaceReplica, SpaceReplica]
  const ex = x.append(W, { t: 'kv.put', key: 'x', value: 'x' }, T0 + 50) // the same millisecond on both
  const ey = y.append(W, { t: 'kv.put', key: 'y', value: 'y' }, T0 + 50)
  assert.notEqual(ex.epoch, ey.epoch)
  const third = SpaceReplica.adopt(new MemoryStore(), [origin.genesis.bytes, origin.genesis.sig]) as SpaceReplica
  for (const r of [origin, x, y]) assert.equal(sync(r, third, T0 + 60), false)
  assert.deepEqual(third.forkProofs(), [])
  assert.deepEqual([third.kvGet('base')?.value, third.kvGet('x')?.value, third.kvGet('y')?.value], [0, 'x', 'y'])
})

test('a group committed without its fsync, served to a peer, then lost in a power cut, is never signed again at its seqs', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-epochs-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'store.db')
  const onDisk = path.join(dir, 'on-disk.db')

  let store = SqliteStore.open(file)
  const replica = SpaceReplica.create(store, W, 'power-cut', T0, { epochSalt: 11 })
  replica.append(W, { t: 'kv.put', key: 'synced', value: 1 }, T0 + 10)
  await store.backup(onDisk) // what the disk holds when the power goes: everything up to here was synced
  const group = store.unsynced(() => replica.appendEach(W, [0, 1, 2].map(i => ({ t: 'kv.put', key: `group-${i}`, value: i })), T0 + 20))
  const lost = group.map(o => 'entry' in o ? o.entry : assert.fail('written'))
  const peer = SpaceReplica.adopt(new MemoryStore(), [replica.genesis.bytes, replica.genesis.sig]) as SpaceReplica
  assert.equal(sync(replica, peer, T0 + 30), false, 'the peer got the group before its fsync')
  store.close()

  fs.copyFileSync(onDisk, file) // the power cut: the group's frames never reached the disk
  for (const f of [`${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true })
  store = SqliteStore.open(file)
  const restarted = SpaceReplica.open(store, replica.key, { epochSalt: 22 })
  assert.equal(restarted.kvGet('group-0'), undefined, 'lost here')
  const fresh = restarted.append(W, { t: 'kv.put', key: 'group-0', value: 'other' }, T0 + 40)
  assert.ok(fresh.epoch > (lost[0]?.epoch ?? Infinity), 'written in a new epoch, never at the lost seqs')
  assert.equal(sync(restarted, peer, T0 + 50), false, 'no fork at the peer')
  assert.equal(sync(peer, restarted, T0 + 50), false, 'the lost entries come back from the peer, authentic')
  assert.deepEqual([peer.forkProofs(), restarted.forkProofs()], [[], []])
  for (const r of [peer, restarted]) assert.deepEqual([1, 2].map(i => r.kvGet(`group-${i}`)?.value), [1, 2])
  assert.equal(peer.viewHash(), restarted.viewHash())
  store.close()
})
