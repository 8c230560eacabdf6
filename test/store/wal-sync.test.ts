/**
 * The group commit's durability at the store (store/wal-sync.ts): commits
 * made inside unsynced() are durable only once a sync of the WAL that
 * started after them completed. The sync is injected (a gate the test
 * opens), so every assertion is about order, never about time.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { SqliteStore } from '../../src/store/index.ts'
import type { Batch } from '../../src/store/index.ts'
import { authorKey, entryId, spaceKey } from '../helpers/ids.ts'

const SPACE = spaceKey('walsync')
const AUTHOR = authorKey('aa')

function entryBatch (seq: number): Batch {
  const id = entryId(`e${seq}`)
  return {
    space: SPACE,
    entries: [{ author: AUTHOR, epoch: 1, seq, id, bytes: new Uint8Array([seq]), sig: new Uint8Array(64), verified: true, kind: 'data' }]
  }
}

/** An fsync the test completes or fails by hand, recording what each call covered. */
class GatedFsync {
  readonly calls: { readonly committedBefore: number, readonly open: () => void, readonly fail: (e: Error) => void }[] = []
  committed = 0
  readonly fsync = async (fd: number): Promise<void> => {
    assert.ok(Number.isInteger(fd) && fd >= 0)
    await new Promise<void>((resolve, reject) => {
      this.calls.push({ committedBefore: this.committed, open: resolve, fail: reject })
    })
  }
}

/** Lets every callback already due run (promise jobs and I/O of this turn), without waiting for any time. */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

function tracked (p: Promise<void>): { readonly state: () => 'pending' | 'resolved' | 'rejected', readonly error: () => unknown } {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending'
  let error: unknown
  p.then(() => { state = 'resolved' }, (err: unknown) => { state = 'rejected'; error = err })
  return { state: () => state, error: () => error }
}

function openStore (t: { after: (fn: () => void) => void }, gate: GatedFsync): { store: SqliteStore, file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-walsync-'))
  const file = path.join(dir, 'store.db')
  const store = SqliteStore.open(file, { fsync: gate.fsync })
  t.after(() => {
    store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { store, file }
}

function commitUnsynced (store: SqliteStore, gate: GatedFsync, seq: number): void {
  store.unsynced(() => { store.commit(entryBatch(seq)) })
  gate.committed++
}

test('an unsynced commit is there at once, and durable only once a sync started after it completes', async t => {
  const gate = new GatedFsync()
  const { store } = openStore(t, gate)
  commitUnsynced(store, gate, 0)
  assert.equal(store.feed(SPACE, AUTHOR, 1)?.count, 1, 'readable once committed')
  const first = tracked(store.synced())
  await settle()
  assert.equal(gate.calls.length, 1)
  assert.equal(gate.calls[0]?.committedBefore, 1, 'the sync started after the commit')
  assert.equal(first.state(), 'pending', 'not durable before its sync completes')

  // Two commits while that sync runs: it may have started before their frames were written, so they wait for the next.
  commitUnsynced(store, gate, 1)
  const second = tracked(store.synced())
  commitUnsynced(store, gate, 2)
  const third = tracked(store.synced())
  await settle()
  assert.equal(gate.calls.length, 1, 'no second sync while one runs')
  gate.calls[0]?.open()
  await settle()
  assert.equal(first.state(), 'resolved')
  assert.deepEqual([second.state(), third.state()], ['pending', 'pending'], 'the first sync does not cover later commits')
  assert.equal(gate.calls.length, 2, 'the next sync starts when the first one ends')
  assert.equal(gate.calls[1]?.committedBefore, 3, 'and covers both commits made meanwhile')
  gate.calls[1]?.open()
  await settle()
  assert.deepEqual([second.state(), third.state()], ['resolved', 'resolved'], 'one sync for both')
  assert.equal(gate.calls.length, 2)
})

test('a second caller with no commit since a running sync was asked for joins that sync', async t => {
  const gate = new GatedFsync()
  const { store } = openStore(t, gate)
  commitUnsynced(store, gate, 0)
  const gateAsks = tracked(store.synced()) // the durable gate asks first...
  const ackAsks = tracked(store.synced()) // ...then the group's acknowledgement, for the same commit
  await settle()
  assert.equal(gate.calls.length, 1)
  gate.calls[0]?.open()
  await settle()
  assert.deepEqual([gateAsks.state(), ackAsks.state()], ['resolved', 'resolved'], 'one fsync serves both')
  assert.equal(gate.calls.length, 1, 'no second sync was needed')
})

test('a failed sync rejects its commits, and the store then refuses every commit and every later sync', async t => {
  const gate = new GatedFsync()
  const { store } = openStore(t, gate)
  commitUnsynced(store, gate, 0)
  const first = tracked(store.synced())
  await settle()
  commitUnsynced(store, gate, 1)
  const second = tracked(store.synced())
  const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })
  gate.calls[0]?.fail(eio)
  await settle()
  assert.equal(first.state(), 'rejected')
  assert.equal(first.error(), eio)
  assert.equal(second.state(), 'rejected', 'a sync that failed is never retried: the kernel may have dropped those pages')
  assert.equal(gate.calls.length, 1)
  assert.throws(() => { store.commit(entryBatch(2)) }, (err: unknown) => err === eio, 'no commit after a failed sync')
  assert.throws(() => { store.unsynced(() => { store.commit(entryBatch(2)) }) }, (err: unknown) => err === eio)
  await assert.rejects(store.synced(), (err: unknown) => err === eio)
})

test('closing the store syncs what still waits: its commits are then durable, and there after a reopen', async t => {
  const gate = new GatedFsync()
  const { store, file } = openStore(t, gate)
  commitUnsynced(store, gate, 0)
  const first = tracked(store.synced())
  await settle()
  commitUnsynced(store, gate, 1)
  const second = tracked(store.synced())
  store.close() // a real fdatasync of the WAL for the second, now; the first's sync is still the gate's
  await settle()
  assert.equal(second.state(), 'resolved', 'synced by the close')
  assert.equal(first.state(), 'pending', 'a running sync still settles its own commits')
  gate.calls[0]?.open()
  await settle()
  assert.equal(first.state(), 'resolved')
  const again = SqliteStore.open(file)
  assert.equal(again.feed(SPACE, AUTHOR, 1)?.count, 2)
  again.close()
})

test('commits outside unsynced() need no sync: they are durable when commit() returns', async t => {
  const gate = new GatedFsync()
  const { store } = openStore(t, gate)
  store.commit(entryBatch(0))
  store.commit({ ...entryBatch(1), durable: false }) // a status-like batch: no sync asked for, none made
  await settle()
  assert.equal(gate.calls.length, 0)
})

test('unsyncedCommits counts the commits made inside unsynced() that need a sync, and only those', async t => {
  const gate = new GatedFsync()
  const { store } = openStore(t, gate)
  assert.equal(store.unsyncedCommits, 0)
  store.commit(entryBatch(0))
  assert.equal(store.unsyncedCommits, 0, 'a commit with its own fsync')
  commitUnsynced(store, gate, 1)
  assert.equal(store.unsyncedCommits, 1)
  store.unsynced(() => { store.commit({ space: SPACE, viewWrites: [{ view: 'status', key: new Uint8Array([1]), value: new Uint8Array([2]) }], durable: false }) })
  assert.equal(store.unsyncedCommits, 1, 'a batch that asked for no durability')
  assert.throws(() => { store.unsynced(() => { store.commit(entryBatch(5)) }) })
  assert.equal(store.unsyncedCommits, 1, 'a commit that failed and was rolled back')
})

test('a database SQLite cannot keep in WAL mode syncs every commit itself, and synced() has nothing to wait for', async () => {
  const gate = new GatedFsync()
  const store = SqliteStore.open(':memory:', { fsync: gate.fsync }) // journal_mode stays "memory"
  store.unsynced(() => { store.commit(entryBatch(0)) })
  await store.synced()
  assert.equal(gate.calls.length, 0)
  assert.equal(store.feed(SPACE, AUTHOR, 1)?.count, 1)
  store.close()
})
