/**
 * Checkpoints beside the event loop (store/wal-checkpoint.ts): the thread's
 * own connection copies the WAL into the database file while the main
 * connection's automatic checkpoint stays far off, and a store's close()
 * lets the thread's connection go first, so the main connection closes last
 * and removes the WAL as before. Every wait is for the checkpoint's own
 * reply (with an overall timeout only as a safety net), never for a time.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { SqliteStore } from '../../src/store/index.ts'
import type { Batch } from '../../src/store/index.ts'
import { WAL_PAGES_BOUND, WalCheckpoints } from '../../src/store/wal-checkpoint.ts'
import { authorKey, entryId, spaceKey } from '../helpers/ids.ts'

const SPACE = spaceKey('checkpoints')
const AUTHOR = authorKey('aa')

function entryBatch (seq: number): Batch {
  const id = entryId(`e${seq}`)
  return {
    space: SPACE,
    entries: [{ author: AUTHOR, epoch: 1, seq, id, bytes: new Uint8Array(512).fill(seq), sig: new Uint8Array(64), verified: true, kind: 'data' }]
  }
}

function tempDir (t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-checkpoint-'))
  t.after(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** Resolves once `done()` holds, looking after each turn of the event loop (the thread's reply is such an event). */
async function until (done: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000 // a safety net, not a measurement
  while (!done()) {
    assert.ok(Date.now() < deadline, 'the checkpoint thread never answered')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

test('the thread copies the WAL into the database file; the main connection never checkpoints below its bound', async t => {
  const file = path.join(tempDir(t), 'db.sqlite')
  const db = new DatabaseSync(file)
  t.after(() => { if (db.isOpen) db.close() })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec(`PRAGMA wal_autocheckpoint = ${WAL_PAGES_BOUND}`)
  db.exec('CREATE TABLE t (x BLOB)')
  let fellBack = false
  const checkpoints = new WalCheckpoints(file, () => { fellBack = true })
  const before = fs.statSync(file).size
  const insert = db.prepare('INSERT INTO t VALUES (?)')
  for (let i = 0; i < 64; i++) {
    insert.run(new Uint8Array(4096).fill(i))
    checkpoints.committed()
  }
  await until(() => checkpoints.done >= 1)
  assert.ok(fs.statSync(file).size > before, 'pages were copied into the database file by the thread')
  checkpoints.close()
  assert.equal(fellBack, false)
  const count = db.prepare('SELECT count(*) AS n FROM t').get()?.['n']
  assert.equal(count, 64)
})

test('a store closes its checkpoint thread first: the main connection closes last and removes the WAL', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'store.db')
  const store = SqliteStore.open(file)
  const before = fs.statSync(file).size
  for (let seq = 0; seq < 40; seq++) store.unsynced(() => { store.commit(entryBatch(seq)) })
  await store.synced()
  // The thread has its connection open once it copied pages into the database file (only it checkpoints here).
  await until(() => fs.statSync(file).size > before)
  store.close()
  assert.equal(fs.existsSync(`${file}-wal`), false, 'the WAL was checkpointed and removed at close')
  const reopened = SqliteStore.open(file)
  t.after(() => { reopened.close() })
  assert.equal(reopened.feed(SPACE, AUTHOR, 1)?.count, 40)
})
