import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'
import { fakeFolder } from './fake-folder.ts'

/**
 * A full disk, on the fake: a disk that fills up in the middle of a write
 * leaves nothing half-written under the file's name, frees the room its
 * part file took, says why on the path, and the file is written once there
 * is room; a disk already too full (by statfs) starts no write and fetches
 * nothing; the reserve kept for the node's store holds.
 */
describe('a full disk', () => {
  test('full in the middle of a write: nothing under the name, the part file gone, the reason shown; written later', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    const f = await fakeFolder(disk, faults.fs, '/f')
    const big = crypto.randomBytes(1024 * 1024)
    await f.theirs('big.bin', big)
    // The first chunk is written; the disk is full at the second.
    faults.fail('write', /\.part$/, 'ENOSPC', { after: 1 })
    await f.sync.sync()
    assert.ok(faults.calls.filter(c => c.startsWith('write ')).length >= 2, 'it failed mid-write, not before')
    assert.equal(disk.vol.existsSync('/f/big.bin'), false, 'nothing under the name')
    assert.deepEqual(disk.vol.readdirSync('/f/.samepage/tmp'), [], 'the part file went, to leave the room it took')
    assert.equal(f.errors()['big.bin'],
      'not written: the disk is full; free some space (nothing was half-written; it is tried again)')
    faults.heal()
    await f.sync.sync()
    assert.ok((disk.vol.readFileSync('/f/big.bin') as Buffer).equals(big))
    assert.deepEqual(f.errors(), {})
  })

  test('less free space than the file needs: not started, nothing fetched, the sizes shown', async () => {
    const disk = new MemoryDisk()
    disk.freeBytes = 100 * 4096
    const f = await fakeFolder(disk, disk.fs, '/f')
    await f.theirs('big.bin', crypto.randomBytes(600 * 1024))
    await f.sync.sync()
    assert.equal(f.net.gets, 0)
    assert.equal(disk.vol.existsSync('/f/big.bin'), false)
    assert.match(f.errors()['big.bin'] ?? '', /^not written: the disk is full.*: it needs 614400 bytes, 409600 are free$/)
  })

  test('the directories a file needs count: an empty file 102 levels deep needs 101 of them', async () => {
    // Records of empty files at deep paths made a receiver create 32,739 directories (128 MiB), counted by no check
    // of free space (a review's probe). A directory takes a block (4 KiB) on most file systems.
    const disk = new MemoryDisk()
    disk.freeBytes = 100 * 4096
    const f = await fakeFolder(disk, disk.fs, '/f')
    const deep = Array.from({ length: 101 }, (_, i) => `d${i}`).join('/') + '/empty.txt'
    await f.theirs(deep, '')
    await f.sync.sync()
    assert.equal(disk.vol.existsSync('/f/d0'), false, 'no directory made')
    assert.match(f.errors()[deep] ?? '', /^not written: the disk is full.*: it needs 413696 bytes, 409600 are free$/)
  })

  test('a write that would eat into the store\'s reserve is not started either, and says how to change it', async () => {
    const disk = new MemoryDisk()
    disk.freeBytes = 54 * 1024 * 1024
    const f = await fakeFolder(disk, disk.fs, '/f')
    await f.theirs('big.bin', crypto.randomBytes(3 * 1024 * 1024))
    await f.sync.sync()
    assert.equal(f.net.gets, 0)
    assert.match(f.errors()['big.bin'] ?? '', /would leave less than the \d+ bytes kept free .* lower diskReserveBytes/)
  })
})
