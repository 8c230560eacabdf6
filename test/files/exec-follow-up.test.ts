import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FolderMode } from '../../src/files/index.ts'
import type { FolderFs } from '../../src/files/folder-fs.ts'
import { MemoryDisk } from './fake-fs.ts'
import { fakeFolder, fetcherOf } from './fake-folder.ts'
import type { FakeFolder } from './fake-folder.ts'

/**
 * Whether a pass is followed by another when entries came from a peer while it ran (FolderSync.recordsChanged).
 * Entries stored during its scan are applied by its own step 2, which decodes the records after them: a second pass
 * would only stat every file and decode every record again (a sender's first pass did, while it served them). Entries
 * the pass may not have applied (a send-only folder applies none) still bring another pass. A pass that left errors
 * is tried again after 5 s, as documented (it was after 250 ms: the retry asked during the pass was taken as a change
 * seen during it). Passes scheduled are counted through FolderSync.schedule; no time is waited on.
 */
const T = Date.UTC(2026, 0, 1)

/** The folder at /f, and a hook run once, at the first directory read of its next scan. */
async function folderWithScanHook (mode: FolderMode): Promise<{
  f: FakeFolder, disk: MemoryDisk, onScan: (run: () => Promise<void>) => void
}> {
  const disk = new MemoryDisk()
  let hook: (() => Promise<void>) | null = null
  const fs: FolderFs = {
    ...disk.fs,
    readdir: async (p, opts) => {
      const run = hook
      hook = null
      if (run !== null) await run()
      return await disk.fs.readdir(p, opts)
    }
  }
  const f = await fakeFolder(disk, fs, '/f', mode)
  return { f, disk, onScan: run => { hook = run } }
}

/** Every delay FolderSync.schedule is called with from now on. */
function scheduled (f: FakeFolder): number[] {
  const delays: number[] = []
  const schedule = f.sync.schedule.bind(f.sync)
  f.sync.schedule = (delayMs?: number) => { delays.push(delayMs ?? -1); schedule(delayMs) }
  return delays
}

describe('a pass after entries came during one', () => {
  test('entries stored during the scan are written by that pass, and no other pass follows', async () => {
    const { f, disk, onScan } = await folderWithScanHook('send-receive')
    disk.put('/f/mine.txt', 'written here', T)
    let stored = false
    onScan(async () => {
      await f.theirs('theirs.txt', 'written there', { mtimeMs: T })
      f.sync.recordsChanged(200)
      stored = true
    })
    const delays = scheduled(f)
    await f.sync.sync()
    assert.ok(stored)
    assert.equal(disk.vol.readFileSync('/f/theirs.txt', 'utf8'), 'written there')
    assert.equal(f.space.versions.size, 2, 'this node\'s file recorded beside the peer\'s')
    assert.deepEqual(delays, [], 'no pass scheduled after it')
    assert.deepEqual(f.errors(), {})
  })

  test('entries that come during the last round of writes bring another pass, which writes them', async () => {
    const { f, disk } = await folderWithScanHook('send-receive')
    await f.theirs('theirs0.txt', 'written there 0', { mtimeMs: T })
    // Each round of writes fetches a file, and a peer's next file is stored meanwhile: a pass writes 4 rounds
    // (FolderSync's APPLY_ROUNDS), and what came during the fourth is left to the pass after it.
    let stored = 0
    f.net.fetcher = () => fetcherOf(f.net.held, () => {
      const n = ++stored
      void f.theirs(`theirs${n}.txt`, `written there ${n}`, { mtimeMs: T }).then(() => { f.sync.recordsChanged(200) })
    })
    const delays = scheduled(f)
    await f.sync.sync()
    assert.equal(stored, 4)
    assert.equal(disk.vol.existsSync('/f/theirs3.txt'), true)
    assert.equal(disk.vol.existsSync('/f/theirs4.txt'), false)
    assert.ok(delays.length > 0, 'a pass scheduled after it')
    f.net.fetcher = () => fetcherOf(f.net.held)
    await f.sync.sync()
    assert.equal(disk.vol.readFileSync('/f/theirs4.txt', 'utf8'), 'written there 4')
  })

  test('a send-only folder, which applies no entries, looks again after entries came during its pass', async () => {
    const { f, disk, onScan } = await folderWithScanHook('send-only')
    disk.put('/f/mine.txt', 'written here', T)
    onScan(async () => {
      await f.theirs('theirs.txt', 'written there', { mtimeMs: T })
      f.sync.recordsChanged(200)
    })
    const delays = scheduled(f)
    await f.sync.sync()
    assert.ok(delays.length > 0, 'a pass scheduled after it')
    assert.equal(disk.vol.existsSync('/f/theirs.txt'), false)
  })

  test('a pass that left an error is tried again after RETRY_MS (5 s), not at once', async () => {
    const { f } = await folderWithScanHook('send-receive')
    await f.theirs('theirs.txt', 'no peer holds this', { mtimeMs: T })
    f.net.held.clear()
    const delays = scheduled(f)
    await f.sync.sync()
    assert.match(f.errors()['theirs.txt'] ?? '', /./)
    assert.deepEqual(delays, [5_000, 5_000], 'asked by the pass, then made after it')
    await f.sync.stop()
  })

  test('entries that come when no pass runs schedule one, with the delay asked', async () => {
    const { f } = await folderWithScanHook('send-receive')
    const delays = scheduled(f)
    await f.theirs('theirs.txt', 'written there', { mtimeMs: T })
    f.sync.recordsChanged(200)
    assert.deepEqual(delays, [200])
    await f.sync.stop()
  })
})
