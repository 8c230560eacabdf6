import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'
import { fakeFolder } from './fake-folder.ts'

/**
 * What a pass looks at before it writes (write-jobs.ts probeTargets): a directory's listing says which of its paths
 * hold something, and only those are lstat'ed. A new file's path is looked at once, just before its rename.
 * Counts of calls, no time.
 */
const T = Date.UTC(2026, 0, 1)

test('files new to a directory are not lstat\'ed before they are written, only just before their rename', async () => {
  const disk = new MemoryDisk()
  disk.put('/f/dir/kept.txt', 'here first', T)
  const faults = new FaultyFs(disk.fs)
  const f = await fakeFolder(disk, faults.fs, '/f')
  await f.sync.sync()
  const names = Array.from({ length: 12 }, (_, i) => `dir/new${i}.txt`).concat(['top.txt', 'fresh/one.txt'])
  for (const n of names) await f.theirs(n, `written there: ${n}`, { mtimeMs: T })
  faults.calls.length = 0
  await f.sync.sync()
  for (const n of names) {
    assert.equal(disk.vol.readFileSync(`/f/${n}`, 'utf8'), `written there: ${n}`)
    assert.deepEqual(faults.calls.filter(c => c === `lstat /f/${n}`), [`lstat /f/${n}`], n)
  }
  assert.deepEqual(f.errors(), {})
})
