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
import { TAKEN_UNSYNCED_PER_PEER_MAX } from '../../src/net/durable-gate.ts'
import type { SyncEvent } from '../../src/sync/index.ts'
import { pusherSide } from './pusher-side.ts'

test('runs a member pushes unasked while the WAL sync hangs are not taken past a per-peer bound', async t => {
  const { driver, pusher, syncs, perRun, runs, grants, mine, push, taken } = pusherSide(t, 'bound')
  const told: SyncEvent[] = []
  driver.onEvent(ev => { told.push(ev) })
  assert.equal(driver.connect(pusher), true)

  assert.equal(push(grants), undefined) // the grants: the pusher is a member from here on
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
  const takenEntries = taken()
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
