/**
 * Review (durable gate, stop 24): close() drops what the gate holds and
 * from then on passes every output of a step that commits nothing at once.
 * But a run committed without its fsync BEFORE close(), whose sync has not
 * completed, is still not durable: after close() an answer that reads it (a
 * hello naming it, the entries served for a want) goes out at once, in the
 * window between driver.stop() and network.stop() (and store.close(), whose
 * sync is what makes it durable). A power cut there loses what a peer was
 * told and holds. Same shape as gate-after-stop.test.ts, with the commit
 * made before the stop: B commits A's run, its sync hangs, B stops, C
 * reconnects (a session that was being set up as the node stopped) and must
 * not hear of, nor be served, the run.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { flusher, pipe, side } from './driver-side.ts'

test('after stop, a run committed before it and not yet synced is neither announced nor served', async t => {
  const o = seededKey('review-close-pending', 'owner')
  const r = seededKey('review-close-pending', 'reader')
  const c = seededKey('review-close-pending', 'other')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-close-'))
  let holding = false
  const held: (() => void)[] = []
  const fsync = async (fd: number): Promise<void> => {
    if (holding) await new Promise<void>(resolve => { held.push(resolve) })
    fs.fdatasyncSync(fd)
  }
  const store = SqliteStore.open(path.join(dir, 'store.db'), { fsync })
  t.after(() => {
    for (const release of held.splice(0)) release()
    store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const ownerStore = new MemoryStore()
  const origin = SpaceReplica.create(ownerStore, o, 'close', T0)
  origin.append(o, { t: 'acl.grant', member: r.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
  origin.append(o, { t: 'acl.grant', member: c.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 2)
  const otherStore = ownerStore.clone()
  SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
  const A = side(o, ownerStore)
  const B = side(r, store, store)
  const C = side(c, otherStore)
  t.after(() => { A.driver.stop(); C.driver.stop() })
  const queue: (() => void)[] = []
  const toC: string[] = []
  A.sessions.set(B.author, pipe(queue, A, B))
  B.sessions.set(A.author, pipe(queue, B, A))
  B.sessions.set(C.author, pipe(queue, B, C, toC))
  C.sessions.set(B.author, pipe(queue, C, B))
  const flush = flusher(queue)
  for (const [x, y] of [[A, B], [B, C]] as const) {
    assert.ok(x.driver.connect(y.author))
    assert.ok(y.driver.connect(x.author))
  }
  await flush()

  holding = true // B's next sync does not complete: A's run stays committed without fsync
  A.driver.append(origin.key, { t: 'kv.put', key: 'k', value: 1 })
  await flush()
  assert.ok(held.length > 0, 'B committed A\'s run and waits for its sync')
  assert.ok(!toC.includes('entries'), 'nothing of the run reached C before the stop')

  B.driver.stop() // the node is stopping; its network still runs for a while
  const mark = toC.length
  // A session with C that was being set up as the node stopped comes up now.
  C.driver.disconnect(B.author)
  B.driver.disconnect(C.author)
  assert.ok(B.driver.connect(C.author))
  assert.ok(C.driver.connect(B.author))
  await flush()
  const otherReplica = SpaceReplica.open(otherStore, origin.key)
  const cHolds = otherReplica.vector().reduce((n, row) => n + row.count, 0)
  const originHolds = origin.vector().reduce((n, row) => n + row.count, 0)
  assert.ok(cHolds < originHolds,
    `C was served B's unsynced run after B stopped: ${JSON.stringify(toC.slice(mark))}`)
})
