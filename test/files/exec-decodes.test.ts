import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryDisk } from './fake-fs.ts'
import { fakeFolder, fetcherOf, THEM } from './fake-folder.ts'
import type { FakeFolder } from './fake-folder.ts'

/**
 * How often a pass decodes the space's file records (src/files/pass-views.ts): once when nothing changes them
 * during the pass, again after the folder's own records, and again when entries from a peer were stored
 * while it wrote (FolderSync.recordsChanged), so the pass writes them too and its conflict count sees them. Counts of
 * calls, no time.
 */
const T = Date.UTC(2026, 0, 1)

function countDecodes (f: FakeFolder): { n: number } {
  const count = { n: 0 }
  const files = f.space.files.bind(f.space)
  f.space.files = () => { count.n++; return files() }
  return count
}

describe('the records a pass decodes', () => {
  test('a pass that records nothing decodes them once, and writes what a peer recorded', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f')
    await f.theirs('theirs.txt', 'written there', { mtimeMs: T })
    const decodes = countDecodes(f)
    await f.sync.sync()
    assert.equal(disk.vol.readFileSync('/f/theirs.txt', 'utf8'), 'written there')
    assert.equal(decodes.n, 1)
  })

  test('a pass decodes them again after recording a local file, and plans with that record', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f')
    disk.put('/f/mine.txt', 'written here', T)
    const decodes = countDecodes(f)
    await f.sync.sync()
    assert.equal(decodes.n, 2)
    assert.equal(f.space.versions.size, 1)
    assert.equal(f.sync.status().conflicts, 0)
    assert.deepEqual(f.errors(), {})
  })

  test('entries a peer stored during the pass\'s writes are decoded again and written in the same pass', async () => {
    const disk = new MemoryDisk()
    disk.put('/f/shared.txt', 'written here', T)
    const f = await fakeFolder(disk, disk.fs, '/f')
    await f.theirs('theirs.txt', 'written there', { mtimeMs: T })
    // While the pass fetches theirs.txt, a peer's concurrent version of shared.txt is stored and signalled.
    let stored = false
    f.net.fetcher = () => fetcherOf(f.net.held, () => {
      if (stored) return
      stored = true
      void f.theirs('shared.txt', 'written there too', { mtimeMs: T + 1000 }).then(() => { f.sync.recordsChanged(3_600_000) })
    })
    const decodes = countDecodes(f)
    await f.sync.sync()
    assert.ok(stored)
    // Before the local record, after it, and after the peer's entries: the pass looks again (FolderSync's rounds)
    // and writes the peer's version, keeping this node's as a conflict copy, without waiting for another pass.
    assert.equal(decodes.n, 3)
    assert.equal(disk.vol.readFileSync('/f/shared.txt', 'utf8'), 'written there too')
    assert.ok(disk.vol.readdirSync('/f').some(n => String(n).startsWith('shared.sync-conflict-')))
    assert.equal(f.sync.status().conflicts, 1)
  })
})
