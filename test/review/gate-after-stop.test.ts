/**
 * Review (durable gate, a045ada): once the driver is stopped (node.stop():
 * driver.stop() comes before network.stop(), which still delivers the frames
 * its closing streams read), the gate "passes later outputs at once": a
 * peer's run committed without its fsync is then relayed (`have`) to the
 * other members at once, and no sync is even asked for it (the store's close
 * checkpoints later). A power cut in that window loses what was told. What a
 * stopped driver says after a commit without fsync must wait like the rest:
 * dropped, as the gate drops what it held at close.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SqliteStore } from '../../src/store/index.ts'
import { threeSides } from './driver-side.ts'

test('after stop, a peer\'s run committed without its fsync is not relayed to other members', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-stop-'))
  const store = SqliteStore.open(path.join(dir, 'store.db'))
  t.after(() => { store.close(); fs.rmSync(dir, { recursive: true, force: true }) })
  const { A, B, origin, toC, flush } = await threeSides(t, 'review-stop', store)

  B.driver.stop() // the node is stopping; its sessions still read what was in flight
  const mark = toC.length
  A.driver.append(origin.key, { t: 'kv.put', key: 'k', value: 1 })
  await flush()
  assert.equal(B.driver.holdings().pendingEntries, 0)
  assert.ok(store.unsyncedCommits > 0, 'B committed A\'s run without its fsync')
  assert.deepEqual(toC.slice(mark).filter(m => m === 'have'), [],
    `B told C it holds A's new entry with no sync asked for it: ${JSON.stringify(toC.slice(mark))}`)
})
