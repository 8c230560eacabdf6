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
import { SqliteStore } from '../../src/store/index.ts'
import { heldFsync, threeSides } from './driver-side.ts'

test('after stop, a run committed before it and not yet synced is neither announced nor served', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-close-'))
  const { state, fsync } = heldFsync()
  const store = SqliteStore.open(path.join(dir, 'store.db'), { fsync })
  t.after(() => {
    for (const release of state.held.splice(0)) release()
    store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const { A, B, C, origin, otherStore, toC, flush } = await threeSides(t, 'review-close-pending', store)

  state.holding = true // B's next sync does not complete: A's run stays committed without fsync
  A.driver.append(origin.key, { t: 'kv.put', key: 'k', value: 1 })
  await flush()
  assert.ok(state.held.length > 0, 'B committed A\'s run and waits for its sync')
  assert.ok(!toC.includes('entries'), 'nothing of the run reached C before the stop')

  B.driver.stop() // the node is stopping; its network still runs for a while
  const mark = toC.length
  // A session with C that was being set up as the node stopped comes up now.
  C.driver.disconnect(B.author)
  B.driver.disconnect(C.author)
  assert.ok(B.driver.connect(C.author))
  assert.ok(C.driver.connect(B.author))
  await flush()
  const cHolds = SpaceReplica.open(otherStore, origin.key).vector().reduce((n, row) => n + row.count, 0)
  const originHolds = origin.vector().reduce((n, row) => n + row.count, 0)
  assert.ok(cHolds < originHolds,
    `C was served B's unsynced run after B stopped: ${JSON.stringify(toC.slice(mark))}`)
})
