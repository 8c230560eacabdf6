/**
 * Review (durable gate, a045ada): what the gate holds is addressed by peer,
 * not by session. When a peer's session ends while a sync is pending and
 * the peer connects again before it completes, the old session's held
 * messages (wants, served runs, haves, nones: answers to a state the peer
 * no longer has) are released onto the new session, ahead of its hello. The
 * peer takes them as unasked: wants served for pulls it gave up on, entries
 * nobody asked for (charged as replays when already held), all before it
 * knows what we hold. Real SqliteStore on the gated side, its WAL sync held
 * by the store's test hook; the two drivers over in-memory sessions.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { flusher, heldFsync, pipe, side } from './driver-side.ts'

test('messages held for a peer\'s ended session are not released onto its next session, before its hello', async t => {
  const [o, r] = [seededKey('review-stale', 'owner'), seededKey('review-stale', 'reader')]
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-stale-'))
  const { state, fsync } = heldFsync()
  const held = state.held
  const store = SqliteStore.open(path.join(dir, 'store.db'), { fsync })
  t.after(() => { store.close(); fs.rmSync(dir, { recursive: true, force: true }) })
  const ownerStore = new MemoryStore()
  const origin = SpaceReplica.create(ownerStore, o, 'stale', T0)
  origin.append(o, { t: 'acl.grant', member: r.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
  SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
  const A = side(o, ownerStore)
  const B = side(r, store, store)
  t.after(() => { A.driver.stop(); B.driver.stop() })
  const queue: (() => void)[] = []
  const fromB: string[] = []
  A.sessions.set(B.author, pipe(queue, A, B))
  B.sessions.set(A.author, pipe(queue, B, A, fromB))
  const flush = flusher(queue)
  assert.ok(A.driver.connect(B.author))
  assert.ok(B.driver.connect(A.author))
  await flush()

  state.holding = true // B's next sync waits: what B says after its next commit is held
  A.driver.append(origin.key, { t: 'kv.put', key: 'k1', value: 1 })
  await flush()
  assert.ok(held.length > 0, 'B committed k1 and waits for its sync')
  A.driver.append(origin.key, { t: 'kv.put', key: 'k2', value: 2 })
  await flush() // B's want for k2 (the old session's) waits behind the held step

  // The link drops and comes back while B's sync still runs: a new session on both sides.
  A.driver.disconnect(B.author)
  B.driver.disconnect(A.author)
  assert.ok(A.driver.connect(B.author))
  assert.ok(B.driver.connect(A.author))
  const mark = fromB.length
  state.holding = false
  for (const release of held.splice(0)) release()
  await flush()
  assert.ok(fromB.length > mark, 'B spoke on the new session')
  assert.equal(fromB[mark], 'hello',
    `B's first messages on the new session: ${JSON.stringify(fromB.slice(mark, mark + 6))} (the old session's first)`)
})
