import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node, NodeError } from '../../src/node/index.ts'
import { LeftEpochs } from '../../src/node/left-epochs.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

/**
 * Review (node/leave.ts, store removeSpace): after a failed sync of the WAL
 * the store makes no commit until a restart (wal-sync.ts: what the kernel
 * dropped may be gone, and a later fsync would not tell). Every write path
 * refuses with STORAGE_FAILED; SqliteStore.removeSpace() does not look, so
 * `space leave` commits a deletion on top of a WAL that lost frames and
 * answers "left", though durability is exactly what it cannot promise: the
 * space may come back at the next start, its folder binding, local name and
 * peers already gone. And a disk error inside removeSpace is not turned into
 * the user's error (storageUserError): the API answers INTERNAL.
 */
test('a leave after a failed WAL sync is refused with STORAGE_FAILED, and the space stays held', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-'))
  const failed = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })
  const node = Node.open({ dir, walFsync: async () => { throw failed } })
  t.after(async () => {
    await node.stop().catch(() => {})
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const { id } = node.createSpace('team')
  await assert.rejects(node.kvPutGrouped(id, 'k', 'v'), { code: 'STORAGE_FAILED' })
  assert.equal(node.health(), 'failing')
  assert.throws(() => { node.kvPut(id, 'k2', 'v') }, { code: 'STORAGE_FAILED' }, 'every other write is refused')
  await assert.rejects(node.leave(id, true), (err: unknown) => err instanceof NodeError && err.code === 'STORAGE_FAILED',
    'the leave commits on a store that refuses commits')
  assert.equal(node.space(id).key, id)
})

/**
 * Review (left-epochs.ts record): the record was set in memory before its file
 * was written; a failed write (a full disk) left it only in memory, the leave
 * was refused, and the retried leave found it recorded, wrote nothing, went on
 * and removed the rows: after a restart the floor was gone.
 */
test('a left epoch whose write failed is written by the next record of it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-'))
  try {
    const key = SpaceReplica.create(new MemoryStore(), seededKey('review-left', 'owner'), 'team', T0).key
    const file = path.join(dir, 'not-yet', 'left-epochs.json') // its directory missing: the write fails
    const epochs = new LeftEpochs(file)
    assert.throws(() => { epochs.record(key, T0 + 5) })
    fs.mkdirSync(path.dirname(file))
    epochs.record(key, T0 + 5) // the retried leave
    assert.equal(new LeftEpochs(file).get(key), T0 + 5, 'on disk after the retry')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
