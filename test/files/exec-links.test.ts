import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { unlinkInFolder } from '../../src/files/safe-path.ts'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'
import { fakeFolder } from './fake-folder.ts'

/**
 * Nothing is written, renamed or removed through a symbolic link (decision
 * 19), on the fake disk, which has no /proc/self/fd: each directory of the
 * path is checked by lstat, and again just before the rename. A link
 * already in the path is refused before anything is fetched; one swapped
 * in after the check (the race a real disk makes hard to show) is caught
 * by the recheck; a deletion does not follow one either.
 */
const LINK = /^not written: sub is a symbolic link on this node; links are never followed, so nothing is written through it$/

describe('a symbolic link in the path', () => {
  test('already there: refused before anything is fetched; nothing lands outside', async () => {
    const disk = new MemoryDisk()
    disk.vol.mkdirSync('/outside')
    disk.vol.mkdirSync('/f', { recursive: true })
    disk.vol.symlinkSync('/outside', '/f/sub')
    const f = await fakeFolder(disk, disk.fs, '/f')
    await f.theirs('sub/x.txt', 'must stay inside the folder')
    await f.sync.sync()
    assert.match(f.errors()['sub/x.txt'] ?? '', LINK)
    assert.equal(f.net.gets, 0)
    assert.deepEqual(disk.vol.readdirSync('/outside'), [])
  })

  test('swapped in after the directory was checked: the recheck refuses it; no part file left', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    disk.vol.mkdirSync('/outside')
    disk.vol.mkdirSync('/f/sub', { recursive: true })
    const f = await fakeFolder(disk, faults.fs, '/f')
    await f.theirs('sub/x.txt', 'must stay inside the folder')
    // Between the check of sub/ and the rename into it (the part file's bits are set in between).
    faults.before('chmod', /\.part$/, () => {
      disk.vol.renameSync('/f/sub', '/f/moved')
      disk.vol.symlinkSync('/outside', '/f/sub')
    })
    await f.sync.sync()
    assert.deepEqual(disk.vol.readdirSync('/outside'), [], 'nothing outside')
    assert.match(f.errors()['sub/x.txt'] ?? '', LINK)
    assert.deepEqual(disk.vol.readdirSync('/f/.samepage/tmp'), [])
  })

  test('a deletion does not follow one either', async () => {
    const disk = new MemoryDisk()
    disk.put('/outside/precious.txt', 'keep')
    disk.vol.mkdirSync('/f')
    disk.vol.symlinkSync('/outside', '/f/sub')
    await assert.rejects(unlinkInFolder(disk.fs, '/f', 'sub/precious.txt'), /symbolic link/)
    assert.equal(disk.vol.readFileSync('/outside/precious.txt', 'utf8'), 'keep')
  })
})
