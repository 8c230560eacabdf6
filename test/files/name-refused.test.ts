import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { nodeFolderFs } from '../../src/files/folder-fs.ts'
import type { FolderFs } from '../../src/files/folder-fs.ts'
import { mountCaseInsensitive } from '../helpers/case-insensitive-mount.ts'
import type { CaseInsensitiveMount } from '../helpers/case-insensitive-mount.ts'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'
import { fakeFolder, ME, MemoryNetwork, MemorySpace, memoryFolderSync } from './fake-folder.ts'
import { realFolder } from './real-folder.ts'
import type { RealFolder } from './real-folder.ts'

/**
 * A name legal where it was made and refused by the receiver's disk: `meeting: notes.bin` (fine on ext4 and APFS) on
 * a FAT, exFAT or NTFS (ntfs-3g windows_names) disk, which answers EINVAL; a name of 100 CJK characters (300 bytes,
 * fine on a Mac) on ext4, which answers ENAMETOOLONG. Before, the receiver fetched the whole file, the rename was
 * refused, the part file was removed and the folder tried again 5 s later: the whole file fetched at every pass, for
 * good, and the path said `EINVAL: invalid argument, rename '…part' -> '/proc/self/fd/43/meeting: notes.bin'` (a
 * review's probe). Now the name is asked of the disk before any fetch, the refusal is lasting (no pass every 5 s; a
 * new record or a change here lifts it), and the path says what happened and what to do.
 */
const A = 'a'.repeat(64)
const read = (p: string): string | null => { try { return fs.readFileSync(p, 'utf8') } catch { return null } }
const BIG = 'x'.repeat(300_000) // more than one chunk

/** The delays of the passes the folder schedules from now on (a lasting error schedules none). */
function scheduled (f: { sync: RealFolder['sync'] }): number[] {
  const delays: number[] = []
  const schedule = f.sync.schedule.bind(f.sync)
  f.sync.schedule = (delayMs?: number) => { delays.push(delayMs ?? -1); schedule(delayMs) }
  return delays
}

describe('a folder on a disk that refuses the names Windows cannot hold (a FUSE mount as a FAT disk)', () => {
  let m: CaseInsensitiveMount
  before(async () => { m = await mountCaseInsensitive(undefined, { windowsNames: true }) })
  after(async () => { await m?.unmount() })

  test('meeting: notes.bin is refused before any fetch, not tried every 5 s, and the status says what to do', async () => {
    const root = path.join(m.dir, 'colon')
    const f = await realFolder(root)
    assert.throws(() => fs.writeFileSync(path.join(root, 'x:y'), ''), /EINVAL/, 'the disk refuses a colon')
    await f.theirs(A, 'meeting: notes.bin', BIG)
    await f.theirs(A, 'hello.txt', 'hello\n')
    const delays = scheduled(f)
    for (let i = 0; i < 3; i++) await f.sync.sync()
    assert.equal(read(path.join(root, 'hello.txt')), 'hello\n')
    assert.equal(f.net.gets, 1, 'only hello.txt\'s chunk was fetched')
    assert.equal(f.errors()['meeting: notes.bin'], 'not written: this disk cannot hold the name "meeting: notes.bin" ' +
      '(EINVAL): rename it on another node, or add it to .samepageignore here')
    assert.deepEqual(delays, [], 'a lasting error: no pass every 5 s')
    assert.deepEqual(f.mine(), [], 'nothing recorded')
    assert.deepEqual(fs.readdirSync(path.join(root, '.samepage', 'tmp', 'names')), [], 'no probe left behind')

    // Ignored here: the error goes (the next pass, as any change to .samepageignore brings).
    fs.writeFileSync(path.join(root, '.samepageignore'), 'meeting: notes.bin\n')
    await f.sync.sync()
    assert.deepEqual(f.errors(), {})
    assert.equal(f.net.gets, 1)
    await f.sync.stop()
  })

  test('a directory on the path the disk refuses: said of the directory, nothing made, nothing fetched', async () => {
    const root = path.join(m.dir, 'dir')
    const f = await realFolder(root)
    await f.theirs(A, 'q3 report?/data.csv', 'a,b\n')
    await f.sync.sync()
    assert.equal(f.errors()['q3 report?/data.csv'], 'not written: this disk cannot hold the name "q3 report?" ' +
      '(a directory on its path) (EINVAL): rename it on another node, or add it to .samepageignore here')
    assert.equal(f.net.gets, 0)
    assert.deepEqual(fs.readdirSync(root).sort(), ['.samepage'])
    await f.sync.stop()
  })

  test('a new record under a name the disk holds lifts the error, and the file is written', async () => {
    const root = path.join(m.dir, 'renamed')
    const f = await realFolder(root)
    const old = await f.theirs(A, 'notes.', 'notes\n')
    await f.sync.sync()
    assert.match(f.errors()['notes.'] ?? '', /^not written: this disk cannot hold the name "notes\." \(EINVAL\)/)
    // The member renames it: the old name deleted, the new one recorded.
    f.space.add(A, { path: 'notes.', size: 0, mode: 0o644, mtimeMs: Date.UTC(2026, 0, 2), deleted: true,
      supersedes: [Buffer.from(old, 'hex')], chunks: [] })
    await f.theirs(A, 'notes.txt', 'notes\n')
    await f.sync.sync()
    assert.deepEqual(f.errors(), {})
    assert.equal(read(path.join(root, 'notes.txt')), 'notes\n')
    await f.sync.stop()
  })
})

describe('names the disk refuses, on this machine\'s own disk', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-name-refused-'))
  after(() => { fs.rmSync(base, { recursive: true, force: true }) })

  test('a name of 300 bytes (100 CJK characters) on a disk of 255 at most: refused before any fetch', async () => {
    const root = path.join(base, 'long')
    const f = await realFolder(root)
    const name = '会'.repeat(100)
    await f.theirs(A, name, BIG)
    const delays = scheduled(f)
    await f.sync.sync()
    await f.sync.sync()
    assert.equal(f.errors()[name], `not written: this disk cannot hold the name "${name}" (ENAMETOOLONG: 300 bytes): ` +
      'rename it on another node, or add it to .samepageignore here')
    assert.equal(f.net.gets, 0)
    assert.deepEqual(delays, [])
    await f.sync.stop()
  })

  test('a name the disk keeps as another (a FAT disk drops trailing dots) is refused, naming what it keeps', async () => {
    const root = path.join(base, 'dots')
    fs.mkdirSync(root)
    const dropsDots: FolderFs = {
      ...nodeFolderFs,
      open: async (p, flags, mode) => await nodeFolderFs.open(p.replace(/(?<=[^/])\.+$/, ''), flags, mode)
    }
    const space = new MemorySpace()
    const net = new MemoryNetwork()
    const sync = memoryFolderSync(root, 'send-receive', space, net, dropsDots)
    await sync.start()
    await sync.sync()
    const f = await realFolder(path.join(base, 'source')) // only to cut the chunks and hold them
    const { path: p, size, mode, mtimeMs, chunks } = f.space.versions.get(await f.theirs(A, 'draft..', 'a draft\n'))!
    space.add(A, { path: p, size, mode, mtimeMs, chunks, deleted: false, supersedes: [] })
    for (const [k, v] of f.net.held) net.held.set(k, v)
    await sync.sync()
    const errors = Object.fromEntries(sync.status().errors.map(e => [e.path, e.error]))
    assert.equal(errors['draft..'], 'not written: this disk keeps the name "draft.." as "draft": ' +
      'rename it on another node, or add it to .samepageignore here')
    assert.equal(net.gets, 0)
    assert.deepEqual([...space.versions.values()].filter(v => v.author === ME), [])
    await sync.stop()
    await f.sync.stop()
  })
})

test('a refusal the probe did not foresee, found by the rename: lasting, and the fetched bytes are kept', async () => {
  const disk = new MemoryDisk()
  const faults = new FaultyFs(disk.fs)
  const f = await fakeFolder(disk, faults.fs, '/f')
  await f.theirs('plain.txt', BIG)
  const delays = scheduled(f)
  faults.fail('rename', /\.part$/, 'EINVAL')
  await f.sync.sync()
  const fetched = f.net.gets
  assert.ok(fetched > 1)
  assert.equal(f.errors()['plain.txt'], 'not written: this disk cannot hold the name "plain.txt" (EINVAL): ' +
    'rename it on another node, or add it to .samepageignore here')
  assert.deepEqual(delays, [], 'lasting: no pass every 5 s')
  assert.equal(disk.vol.readdirSync('/f/.samepage/tmp').filter(n => String(n).endsWith('.part')).length, 1,
    'the part file stays while the version is wanted')
  await f.sync.sync()
  assert.equal(f.net.gets, fetched, 'tried again at the next pass (every name asked now) without a fetch')
  faults.heal()
  await f.sync.sync()
  assert.equal(disk.vol.readFileSync('/f/plain.txt', 'utf8'), BIG)
  assert.equal(f.net.gets, fetched, 'written from the part file')
  assert.deepEqual(f.errors(), {})
  await f.sync.stop()
})
