/**
 * A folder's records as its node reads and writes them (src/node/folder-records.ts): the versions it recorded and
 * those it read last are not looked up again at the next read, and none are kept once the folder has left its records
 * alone for a while.
 */
import { mock, test } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '../../src/codec/index.ts'
import type { FileChunk } from '../../src/codec/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import type { NewFileVersion } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { FolderRecords } from '../../src/node/folder-records.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const W = seededKey(73, 'writer')

function version (path: string): NewFileVersion {
  const chunks: FileChunk[] = [[sha256(Buffer.from(path)), 1000]]
  return { path, size: 1000, mode: 0o644, mtimeMs: T0, deleted: false, supersedes: [], chunks }
}

/** A replica whose store counts the entries looked up by id (what a read of the files view does per version). */
function setup (): { replica: SpaceReplica, lookups: () => number } {
  const store = new MemoryStore()
  let n = 0
  const byId = store.entryById.bind(store)
  store.entryById = (...args: Parameters<typeof byId>) => { n++; return byId(...args) }
  return { replica: SpaceReplica.create(store, W, 'files', T0), lookups: () => n }
}

test('records written here and those read last are not looked up again; the rest are looked up once', () => {
  const { replica, lookups } = setup()
  const records = new FolderRecords()
  try {
    records.record(replica, [version('mine.txt')], bodies => replica.appendBodies(W, bodies, T0 + 1))
    replica.appendBodies(W, [{ t: 'file', ...version('theirs.txt') }], T0 + 2)
    const before = lookups()
    const list = records.list(replica)
    assert.equal(lookups() - before, 1, 'only the version not written here was looked up')
    assert.deepEqual(list.map(f => f.path), ['mine.txt', 'theirs.txt'])
    assert.deepEqual(list, replica.filesList(), 'as a read without what was kept')
    const again = lookups()
    records.list(replica)
    assert.equal(lookups(), again, 'a read with nothing new looks up nothing')
  } finally {
    records.close()
  }
})

test('what is kept is dropped once the folder left its records alone for the time given', () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  const { replica, lookups } = setup()
  const records = new FolderRecords(10_000)
  try {
    records.record(replica, [version('a.txt'), version('b.txt')], bodies => replica.appendBodies(W, bodies, T0 + 1))
    mock.timers.tick(9_000)
    let before = lookups()
    records.list(replica) // a read within the time: nothing looked up, and the time starts again
    assert.equal(lookups(), before)
    mock.timers.tick(9_000)
    before = lookups()
    records.list(replica)
    assert.equal(lookups(), before, '9 s after the last read, still kept')
    mock.timers.tick(10_000)
    before = lookups()
    records.list(replica)
    assert.equal(lookups() - before, 2, '10 s after the last read, every version is looked up again')
  } finally {
    records.close()
    mock.timers.reset()
  }
})
