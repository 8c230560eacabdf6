/**
 * Review (durable gate backpressure, 0e495b8): a peer's reading pauses once
 * its frames committed and not yet synced pass TAKEN_UNSYNCED_PER_PEER_MAX,
 * but the bound is looked at only AFTER a frame is taken: a session's first
 * frame is always read and committed. A member over the bound hangs up and
 * connects again (its session was paused, so this costs it one handshake):
 * the new session's first frame, a run of up to 2 MiB of new entries of its
 * own feed (taken unasked, without a charge), is committed and held, and
 * so on for every reconnect: what it holds here committed, decoded and untold
 * grows by one run per reconnect while the sync is slow, past the bound
 * gate-held-bound.test.ts checks for one session. Same setup as that test.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { streamPair } from '@libp2p/utils'
import type { Connection } from '@libp2p/interface'
import { SyncSession } from '../../src/net/sync-session.ts'
import { TAKEN_UNSYNCED_PER_PEER_MAX } from '../../src/net/durable-gate.ts'
import { pusherSide } from './pusher-side.ts'

test('reconnecting does not let a member past the per-peer bound of unsynced runs', async t => {
  const { driver, sessions, pusher, syncs, perRun, runs, grants, mine, push, taken } = pusherSide(t, 'reconnect')
  // The pusher's session, as far as the driver sees it: what it is told to wait for before reading a new session.
  let hold: Promise<void> | undefined
  const session = {
    closed: false,
    queuedBytes: 0,
    send: () => {},
    close: () => {},
    holdReadingUntil: (settled: Promise<void>) => { hold = settled },
    connection: { close: async () => {}, remotePeer: { toString: () => pusher } }
  }
  sessions.set(pusher, session as unknown as SyncSession)
  assert.equal(driver.connect(pusher), true)
  assert.equal(push(grants), undefined) // the grants: the pusher is a member from here on
  let next = 0
  let paused: Promise<void> | undefined
  while (next < runs && paused === undefined) {
    paused = push(mine.slice(next * perRun, (next + 1) * perRun))
    next++
  }
  assert.ok(paused !== undefined, `${next} runs taken without a pause`)
  // Paused: the member hangs up and comes back, and sends one run on each new session (read unless it must wait).
  for (let reconnects = 0; reconnects < 5 && next < runs; reconnects++) {
    driver.disconnect(pusher)
    hold = undefined
    assert.equal(driver.connect(pusher), true)
    if (hold !== undefined) continue
    push(mine.slice(next * perRun, (next + 1) * perRun))
    next++
  }
  const takenEntries = taken()
  const takenBytes = mine.slice(0, takenEntries).reduce((n, [b]) => n + b.length, 0)
  assert.ok(takenBytes <= TAKEN_UNSYNCED_PER_PEER_MAX + 2 * 1024 * 1024,
    `${takenEntries} entries (${(takenBytes / 1e6).toFixed(1)} MB) committed and held untold while the sync hangs, ` +
    `over 5 reconnects; the bound is ${(TAKEN_UNSYNCED_PER_PEER_MAX / 1e6).toFixed(1)} MB and one frame`)
  // Once the syncs made room, the new session reads.
  let settled = hold === undefined
  void hold?.then(() => { settled = true })
  while (!settled) {
    for (const finish of syncs.splice(0)) finish()
    await new Promise(resolve => setImmediate(resolve))
  }
})

test('a session told to hold its reading reads no frame, its first included, until told it may', async () => {
  const [ours, theirs] = await streamPair()
  const seen: number[] = []
  let settle: () => void = () => {}
  const session = new SyncSession(ours, { close: async () => {} } as unknown as Connection, {
    onFrame: bytes => { seen.push(bytes[0] ?? -1); return undefined },
    onBadFrame: reason => { assert.fail(reason) },
    onClose: () => {}
  })
  session.holdReadingUntil(new Promise<void>(resolve => { settle = resolve }))
  const done = session.run()
  const sender = new SyncSession(theirs, { close: async () => {} } as unknown as Connection, {
    onFrame: () => undefined, onBadFrame: () => {}, onClose: () => {}
  })
  void sender.run()
  for (let i = 1; i <= 3; i++) sender.send(new Uint8Array([i, 0, 0]))
  // What the sender wrote has had every chance to arrive (several turns of the loop and the pair's delay).
  for (let i = 0; i < 20; i++) await new Promise(resolve => setTimeout(resolve, 5))
  assert.deepEqual(seen, [], 'no frame is read while the hold is pending')
  settle()
  while (seen.length < 3) await new Promise(resolve => setTimeout(resolve, 5))
  assert.deepEqual(seen, [1, 2, 3])
  session.close()
  sender.close()
  await done
})
