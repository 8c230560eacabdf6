import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { checkFolder, writeFileVersion } from '../../src/files/index.ts'
import type { FolderFs } from '../../src/files/folder-fs.ts'
import { MemoryDisk } from './fake-fs.ts'
import { fakeFolder } from './fake-folder.ts'
import type { FakeFolder } from './fake-folder.ts'

/**
 * The folder's work area `.samepage/` is its marker (as Syncthing's `.stfolder`). A folder whose disk is unmounted
 * while the node runs is an empty directory (the mount point): before, the next pass took every file as deleted, and
 * every member deleted them. Now a folder that lost its marker while this node knows files of it records nothing and
 * writes nothing until the marker is back, and says so; a user who emptied it on purpose makes the marker again.
 */
const T = Date.UTC(2026, 0, 1)

function deletions (f: FakeFolder): string[] {
  return [...f.space.versions.values()].filter(v => v.deleted).map(v => v.path).sort()
}

async function syncedFolder (fs?: (disk: MemoryDisk) => FolderFs): Promise<{ f: FakeFolder, disk: MemoryDisk }> {
  const disk = new MemoryDisk()
  const f = await fakeFolder(disk, fs?.(disk) ?? disk.fs, '/f')
  disk.put('/f/a.txt', 'a', T)
  disk.put('/f/sub/b.txt', 'b', T)
  await f.sync.sync()
  assert.equal(f.space.versions.size, 2)
  return { f, disk }
}

/** The mount goes: the directory stays, empty. */
function unmount (disk: MemoryDisk): void {
  disk.vol.rmSync('/f', { recursive: true })
  disk.vol.mkdirSync('/f')
}

describe('a folder that lost its marker', () => {
  test('emptied while the node runs: no deletion recorded, nothing written, the reason shown; back, nothing lost', async () => {
    const { f, disk } = await syncedFolder()
    unmount(disk)
    await f.theirs('theirs.txt', 'from a peer', { mtimeMs: T })
    await f.sync.sync()
    assert.deepEqual(deletions(f), [])
    assert.match(f.errors()['.'] ?? '', /\/f\/\.samepage is gone, so the folder looks emptied or unmounted: nothing is recorded .* mkdir \/f\/\.samepage$/)
    assert.deepEqual(disk.vol.readdirSync('/f'), [], 'nothing written into the mount point, not even the work area')
    // The disk is mounted again.
    disk.put('/f/.samepage/tmp/.keep', '')
    disk.put('/f/a.txt', 'a', T)
    disk.put('/f/sub/b.txt', 'b', T)
    await f.sync.sync()
    assert.deepEqual(f.errors(), {})
    assert.deepEqual(deletions(f), [])
    assert.equal(disk.vol.readFileSync('/f/theirs.txt', 'utf8'), 'from a peer')
    await f.sync.stop()
  })

  test('emptied during a scan: the files it missed are not taken as deleted', async () => {
    let hook: (() => void) | null = null
    const { f, disk } = await syncedFolder(d => ({
      ...d.fs,
      readdir: async (p, opts) => {
        const run = hook
        hook = null
        run?.()
        return await d.fs.readdir(p, opts)
      }
    }))
    hook = () => { unmount(disk) }
    await f.sync.sync()
    assert.deepEqual(deletions(f), [])
    assert.match(f.errors()['.'] ?? '', /\.samepage is gone/)
    await f.sync.stop()
  })

  test('emptied on purpose: once the user makes the marker again, the deletions are recorded', async () => {
    const { f, disk } = await syncedFolder()
    unmount(disk)
    await f.sync.sync()
    assert.deepEqual(deletions(f), [])
    disk.vol.mkdirSync('/f/.samepage')
    await f.sync.sync()
    assert.deepEqual(deletions(f), ['a.txt', 'sub/b.txt'])
    assert.deepEqual(f.errors(), {})
    await f.sync.stop()
  })

  test('a folder this node knows no file of gets its marker made; one it knows files of does not, at start either', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f')
    disk.vol.rmSync('/f/.samepage', { recursive: true })
    await f.sync.sync()
    assert.deepEqual(f.errors(), {})
    assert.ok(disk.vol.existsSync('/f/.samepage/tmp'))
    disk.vol.mkdirSync('/g')
    await checkFolder('/g', disk.fs, true)
    assert.equal(disk.vol.existsSync('/g/.samepage'), false)
    await checkFolder('/g', disk.fs)
    assert.ok(disk.vol.existsSync('/g/.samepage/tmp'))
    await f.sync.stop()
  })

  test('the safe writer makes the work area\'s tmp/, never the marker itself', async () => {
    const disk = new MemoryDisk()
    disk.vol.mkdirSync('/f')
    const data = crypto.randomBytes(100)
    const version = { id: 'b'.repeat(64), path: 'x.bin', size: data.length, mode: 0o644, mtimeMs: T, chunks: [[crypto.hash('sha256', data, 'buffer'), data.length] as const] }
    await assert.rejects(writeFileVersion('/f', version, { fetch: async () => data }, disk.fs), (err: NodeJS.ErrnoException) => err.code === 'ENOENT')
    assert.deepEqual(disk.vol.readdirSync('/f'), [])
    disk.vol.mkdirSync('/f/.samepage')
    await writeFileVersion('/f', version, { fetch: async () => data }, disk.fs)
    assert.ok((disk.vol.readFileSync('/f/x.bin') as Buffer).equals(data))
  })
})
