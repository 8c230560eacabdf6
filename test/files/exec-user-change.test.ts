import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'
import { fakeFolder, THEM } from './fake-folder.ts'

/**
 * A file its user changes while the folder writes another node's version of
 * it (after the scan, before the rename: on a real disk, a race): the
 * user's bytes are never overwritten. The write stops short of the rename
 * and says why (its part file kept, so the retry fetches nothing); the next
 * pass records the user's change, which is concurrent with the other
 * node's, and both are kept: the newer under the name, the other as a
 * conflict copy. So too a file deleted on record and edited before the pass
 * deletes it (deletions come last, after every write): it stays, and the
 * edit then wins over the deletion.
 */
const T = Date.UTC(2026, 0, 1)
const CHANGED = /^not written: it changed on this node while the new version was fetched; the local change is recorded next, as a conflict$/

describe('a file changed by its user during a pass', () => {
  test('an edit of a synced file: not overwritten; then both versions kept', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    disk.put('/f/notes.txt', 'v1', T)
    const f = await fakeFolder(disk, faults.fs, '/f')
    const v1 = f.space.file('notes.txt')?.current.id as string
    await f.theirs('notes.txt', 'their edit', { mtimeMs: T + 60_000, supersedes: [v1] })
    faults.before('open', /\.part$/, () => { disk.put('/f/notes.txt', 'my edit, made during the pass', T + 30_000) })
    await f.sync.sync()
    assert.equal(disk.vol.readFileSync('/f/notes.txt', 'utf8'), 'my edit, made during the pass')
    assert.match(f.errors()['notes.txt'] ?? '', CHANGED)
    assert.equal(disk.vol.readdirSync('/f/.samepage/tmp').length, 1, 'the verified part file is kept for the retry')
    await f.sync.sync()
    assert.equal(disk.vol.readFileSync('/f/notes.txt', 'utf8'), 'their edit', 'the newer edit under the name')
    const copies = (disk.vol.readdirSync('/f') as string[]).filter(n => n.startsWith('notes.sync-conflict-'))
    assert.equal(copies.length, 1, copies.join(', '))
    assert.equal(disk.vol.readFileSync(`/f/${copies[0] as string}`, 'utf8'), 'my edit, made during the pass')
    assert.deepEqual(f.errors(), {})
  })

  test('a file made where a new one was coming: not overwritten; then both kept', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    const f = await fakeFolder(disk, faults.fs, '/f')
    await f.theirs('plan.txt', 'their plan', { mtimeMs: T + 60_000 })
    faults.before('open', /\.part$/, () => { disk.put('/f/plan.txt', 'my plan', T) })
    await f.sync.sync()
    assert.equal(disk.vol.readFileSync('/f/plan.txt', 'utf8'), 'my plan')
    assert.match(f.errors()['plan.txt'] ?? '', CHANGED)
    await f.sync.sync()
    const names = (disk.vol.readdirSync('/f') as string[]).filter(n => n.startsWith('plan'))
    const kept = names.map(n => disk.vol.readFileSync(`/f/${n}`, 'utf8')).sort()
    assert.deepEqual(kept, ['my plan', 'their plan'], names.join(', '))
    assert.deepEqual(f.errors(), {})
  })

  test('a file deleted on record, edited while the pass writes: not deleted; then the edit wins', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    disk.put('/f/old.txt', 'v1', T)
    const f = await fakeFolder(disk, faults.fs, '/f')
    const v1 = f.space.file('old.txt')?.current.id as string
    f.space.add(THEM, { path: 'old.txt', size: 0, mode: 0o644, mtimeMs: T + 60_000, deleted: true, chunks: [],
      supersedes: [Buffer.from(v1, 'hex')] })
    await f.theirs('new.txt', 'a file written before the deletion')
    faults.before('open', /\.part$/, () => { disk.put('/f/old.txt', 'my edit, made during the pass', T + 30_000) })
    await f.sync.sync()
    assert.equal(disk.vol.readFileSync('/f/old.txt', 'utf8'), 'my edit, made during the pass')
    assert.match(f.errors()['old.txt'] ?? '', /^waiting: not deleted: it changed here after the scan/)
    await f.sync.sync()
    const now = f.space.file('old.txt')
    assert.equal(now?.current.deleted, false, 'the edit is recorded and wins over the deletion')
    assert.equal(now?.current.size, 'my edit, made during the pass'.length)
    assert.equal(disk.vol.readFileSync('/f/old.txt', 'utf8'), 'my edit, made during the pass')
    assert.deepEqual(f.errors(), {})
  })
})
