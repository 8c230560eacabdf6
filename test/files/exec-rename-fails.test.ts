import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'
import { fakeFolder } from './fake-folder.ts'

/**
 * The last step of a write, the rename of the verified part file onto the
 * file's name, refused by the file system (another device under the folder,
 * no permission): nothing appears under the name, the part file is
 * removed, the path says why, and the next pass writes it.
 */
describe('the rename into place refused', () => {
  for (const [code, why] of [
    // In words, not as Node's message (which named the work area's part file): refusal-words.ts.
    ['EXDEV', /^not written: its directory is on another file system .*\(EXDEV\); keep the folder on one file system/],
    ['EACCES', /^not written: no permission here \(EACCES\); check the folder's permissions$/]
  ] as const) {
    test(`${code}: no file, no part file left, the reason shown; written once the disk allows it`, async () => {
      const disk = new MemoryDisk()
      const faults = new FaultyFs(disk.fs)
      disk.put('/f/notes.txt', 'v1', Date.UTC(2026, 0, 1))
      const f = await fakeFolder(disk, faults.fs, '/f')
      await f.theirs('docs/new.txt', 'a new file from another node')
      faults.fail('rename', /\.part$/, code)
      await f.sync.sync()
      assert.equal(disk.vol.existsSync('/f/docs/new.txt'), false)
      assert.deepEqual(disk.vol.readdirSync('/f/.samepage/tmp'), [], 'the part file is cleaned away')
      assert.match(f.errors()['docs/new.txt'] ?? '', why)
      assert.equal(disk.vol.readFileSync('/f/notes.txt', 'utf8'), 'v1', 'the rest of the folder untouched')
      faults.heal()
      await f.sync.sync()
      assert.equal(disk.vol.readFileSync('/f/docs/new.txt', 'utf8'), 'a new file from another node')
      assert.deepEqual(f.errors(), {})
    })
  }
})
