/**
 * Review (durable gate, a045ada + 0326586): while a WAL sync is slow, what
 * the engine says after a peer's run waits in the gate, and with it the
 * run's `stored` event, which holds every decoded entry of the run (its
 * bytes, its value). Before the gate, each run was committed with its own
 * fsync on the event loop, so a slow disk slowed the reading of the socket
 * and nothing of a run outlived its step. Our own pulls stay bounded (the next
 * want waits in the gate too), but a member may push runs nobody asked for
 * (new entries of a feed it may write are taken without a charge), at up to
 * 2,000 messages/s of up to 2 MiB each: each is committed and held, in
 * decoded form, until a sync that does not come. The gate counts only its
 * sends, and as the backlog of the peer they go to, never of the peer whose
 * runs made them. The bound asked here is the one that bounds an honest
 * peer's traffic to us (PULL_BYTES_PER_PEER_MAX, which TAKEN_UNSYNCED_PER_PEER_MAX is): past it, the node must stop
 * taking that peer's runs (refuse, charge, or stop reading) until a sync.
 * Fixed by stopping reading: the driver hands back a promise and the
 * session pauses its stream until a sync made room (no charge: the slow disk
 * is ours). Real SqliteStore, its WAL sync held by the store's test hook.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { encodeMessage } from '../../src/codec/index.ts'
import type { SignedBytes } from '../../src/codec/index.ts'
import { SessionTable, SyncDriver } from '../../src/net/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { SpaceKey } from '../../src/ids/index.ts'
import { TAKEN_UNSYNCED_PER_PEER_MAX } from '../../src/net/durable-gate.ts'
import type { SyncEvent } from '../../src/sync/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const OWNER = seededKey('review-gate-bound', 'owner')
const PUSHER = seededKey('review-gate-bound', 'pusher')
const ME = seededKey('review-gate-bound', 'me')

test('runs a member pushes unasked while the WAL sync hangs are not taken past a per-peer bound', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-bound-'))
  // The WAL's syncs wait until the test lets them finish.
  const syncs: (() => void)[] = []
  const hang = async (): Promise<void> => { await new Promise<void>(resolve => { syncs.push(resolve) }) }
  const store = SqliteStore.open(path.join(dir, 'store.db'), { fsync: hang })
  t.after(() => { store.close(); fs.rmSync(dir, { recursive: true, force: true }) })

  // The space: the owner grants the pusher writer and me reader; the pusher writes 30 kB values.
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, 'bound', T0)
  origin.append(OWNER, { t: 'acl.grant', member: PUSHER.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  origin.append(OWNER, { t: 'acl.grant', member: ME.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 2)
  const perRun = 60
  const runs = 20 // 20 runs of 60 entries of ~30 kB: ~36 MB, 1.5 times the bound
  for (let i = 0; i < perRun * runs; i++) {
    origin.append(PUSHER, { t: 'kv.put', key: `k${i}`, value: String(i % 10).repeat(30_000) }, T0 + 10 + i)
  }
  const feedOf = (who: typeof OWNER): SignedBytes[] => {
    const row = origin.vector().find(r => authorKeyOf(r.author) === authorKeyOf(who.publicKey))
    assert.ok(row !== undefined)
    const all: SignedBytes[] = []
    while (all.length < row.count) all.push(...origin.serve(authorKeyOf(row.author), row.epoch, all.length, row.count))
    return all
  }

  const adopted = SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
  assert.ok(adopted instanceof SpaceReplica)
  const replicas = new Map<SpaceKey, SpaceReplica>([[adopted.key, adopted]])
  const spaces = { get: (k: SpaceKey) => replicas.get(k), all: () => replicas.values() }
  const driver = new SyncDriver({
    sync: { keyPair: ME, spaces },
    sessions: new SessionTable(),
    now: () => T0 + 60_000,
    durability: {
      unsynced: step => store.unsynced(step),
      unsyncedCommits: () => store.unsyncedCommits,
      synced: async () => { await store.synced() }
    }
  })
  t.after(() => { driver.stop() })
  const told: SyncEvent[] = []
  driver.onEvent(ev => { told.push(ev) })
  const pusher = authorKeyOf(PUSHER.publicKey)
  assert.equal(driver.connect(pusher), true)

  const push = (run: SignedBytes[]): Promise<void> | undefined =>
    driver.receive(pusher, encodeMessage({ m: 'entries', space: origin.id, run }))
  assert.equal(push(feedOf(OWNER)), undefined) // the grants: the pusher is a member from here on
  const mine = feedOf(PUSHER)
  let pushed = 0
  let paused: Promise<void> | undefined
  for (let i = 0; i < runs && paused === undefined; i++) {
    paused = push(mine.slice(i * perRun, (i + 1) * perRun)) // its session reads no more while this is pending
    pushed++
  }
  assert.ok(paused !== undefined, `${pushed} runs taken without a pause`)
  let resumed = false
  void paused.then(() => { resumed = true })
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(resumed, false, 'the pause lasts while nothing is synced')
  const row = adopted.vector().find(r => authorKeyOf(r.author) === pusher)
  const takenEntries = row?.count ?? 0
  const takenBytes = mine.slice(0, takenEntries).reduce((n, [b]) => n + b.length, 0)
  assert.equal(told.filter(e => e.type === 'stored').length, 0, 'nothing was told: no sync completed')
  assert.ok(takenBytes <= TAKEN_UNSYNCED_PER_PEER_MAX + 2 * 1024 * 1024,
    `${pushed} unasked runs taken, ${takenEntries} entries (${(takenBytes / 1e6).toFixed(1)} MB) committed and held ` +
    `untold in memory while the sync hangs; the bound is ${(TAKEN_UNSYNCED_PER_PEER_MAX / 1e6).toFixed(1)} MB`)
  // The syncs finish: what was held is told, and the pusher may send again.
  while (!resumed) {
    for (const finish of syncs.splice(0)) finish()
    await new Promise(resolve => setImmediate(resolve))
  }
  assert.ok(told.some(e => e.type === 'stored'), 'the runs held are told once synced')
  assert.equal(driver.bannedUntil(pusher), undefined, 'pausing charges nobody')
})
