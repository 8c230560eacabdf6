import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { toHex } from '../../src/codec/index.ts'
import { MemoryDisk } from './fake-fs.ts'
import { fakeFolder, ME, THEM } from './fake-folder.ts'

/**
 * A pass of FolderSync on the fake disk, everything behaving: local files
 * become records; records become files (bytes, permission bits, mtime as
 * recorded, nothing left in the work area); a version whose bytes are
 * already here is copied, not fetched; a deletion takes the file and the
 * directories it leaves empty (on a receiver: where the user emptied one, it
 * stays); each mode does only its half.
 */
const T = Date.UTC(2026, 0, 1)

describe('a pass on the fake disk', () => {
  test('a local file is recorded; another node\'s version is written as recorded', async () => {
    const disk = new MemoryDisk()
    disk.put('/f/mine.txt', 'written here', T)
    const f = await fakeFolder(disk, disk.fs, '/f')
    const mine = f.space.file('mine.txt')?.current
    assert.equal(mine?.author, ME)
    assert.equal(mine?.size, 'written here'.length)
    assert.equal(mine?.mtimeMs, T)
    await f.theirs('docs/theirs.txt', 'written there', { mtimeMs: T + 1000, mode: 0o600 })
    await f.sync.sync()
    assert.equal(disk.vol.readFileSync('/f/docs/theirs.txt', 'utf8'), 'written there')
    const st = disk.vol.statSync('/f/docs/theirs.txt')
    assert.equal(Number(st.mode) & 0o777, 0o600)
    assert.equal(Number(st.mtimeMs), T + 1000)
    assert.deepEqual(disk.vol.readdirSync('/f/.samepage/tmp'), [], 'the part file became the file')
    assert.deepEqual(f.errors(), {})
    assert.equal(f.space.versions.size, 2, 'a version written here is not recorded again')
  })

  test('a version whose bytes this node holds (a rename elsewhere) is copied from the local file, not fetched', async () => {
    const disk = new MemoryDisk()
    disk.put('/f/report.txt', 'the same bytes, under another name', T)
    const f = await fakeFolder(disk, disk.fs, '/f')
    await f.theirs('archive/report.txt', 'the same bytes, under another name', { mtimeMs: T })
    await f.sync.sync()
    assert.equal(disk.vol.readFileSync('/f/archive/report.txt', 'utf8'), 'the same bytes, under another name')
    assert.equal(f.net.gets, 0, 'no chunk asked of the network')
  })

  test('a deletion on record takes the file and the directories it leaves empty', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f')
    const id = await f.theirs('a/b/gone.txt', 'soon deleted')
    await f.sync.sync()
    assert.equal(disk.vol.existsSync('/f/a/b/gone.txt'), true)
    f.space.add(THEM, {
      path: 'a/b/gone.txt', size: 0, mode: 0o644, mtimeMs: T + 1000, deleted: true, chunks: [],
      supersedes: [Buffer.from(id, 'hex')]
    })
    await f.sync.sync()
    assert.equal(disk.vol.existsSync('/f/a'), false, 'the file and its emptied directories are gone')
    assert.deepEqual(f.errors(), {})
  })

  test('a file moved out of its directory here: the deletion is recorded, the directory left empty stays here', async () => {
    // Only files are shared: the directory is the user's own on this node (delete-file.ts says why; README, "Folders").
    const disk = new MemoryDisk()
    disk.put('/f/inbox/todo.txt', 'todo', T)
    const f = await fakeFolder(disk, disk.fs, '/f')
    disk.vol.renameSync('/f/inbox/todo.txt', '/f/todo.txt')
    await f.sync.sync()
    assert.equal(f.space.file('inbox/todo.txt')?.current.deleted, true)
    assert.equal(f.space.file('todo.txt')?.current.deleted, false)
    assert.deepEqual(disk.vol.readdirSync('/f/inbox'), [], 'the emptied directory stays on the node that emptied it')
    assert.equal(f.space.files().some(v => v.path === 'inbox'), false, 'and nothing records it')
  })

  test('send-only records and does not apply; receive-only applies and does not record', async () => {
    const disk = new MemoryDisk()
    disk.put('/send/s.txt', 'from the send-only folder', T)
    disk.put('/recv/r.txt', 'from the receive-only folder', T)
    const send = await fakeFolder(disk, disk.fs, '/send', 'send-only')
    const recv = await fakeFolder(disk, disk.fs, '/recv', 'receive-only')
    assert.ok(send.space.file('s.txt') !== undefined, 'send-only recorded its file')
    assert.equal(recv.space.file('r.txt'), undefined, 'receive-only did not')
    await send.theirs('in.txt', 'arrives')
    await recv.theirs('in.txt', 'arrives')
    await send.sync.sync()
    await recv.sync.sync()
    assert.equal(disk.vol.existsSync('/send/in.txt'), false, 'send-only did not write it')
    assert.equal(disk.vol.readFileSync('/recv/in.txt', 'utf8'), 'arrives', 'receive-only did')
  })

  test('a part file kept for a resume, and its error, go once its version is no longer wanted (superseded by a deletion)', async () => {
    // A writer's record of chunks the receiver copied locally, then one nobody has, then a deletion superseding it:
    // the part file, kept for the resume, stayed for good (96 MiB in a review's probe), and a writer could repeat it.
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f')
    const id = await f.theirs('big.bin', crypto.randomBytes(1024 * 1024), { mtimeMs: T })
    const last = f.space.versions.get(id)?.chunks.at(-1)
    f.net.held.delete(toHex(last?.[0] as Uint8Array))
    await f.sync.sync()
    assert.match(f.errors()['big.bin'] ?? '', /^waiting: /)
    assert.equal(disk.vol.readdirSync('/f/.samepage/tmp').length, 1, 'kept for the resume')
    f.space.add(THEM, { path: 'big.bin', size: 0, mode: 0o644, mtimeMs: T + 1, deleted: true, supersedes: [Buffer.from(id, 'hex')], chunks: [] })
    await f.sync.sync()
    assert.deepEqual(disk.vol.readdirSync('/f/.samepage/tmp'), [])
    // Its "waiting" error goes too: it stayed in the status, and held the folder to a pass every 5 s, for good.
    assert.deepEqual(f.errors(), {})
  })
})
