import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { folderLine } from '../../src/cli/folder-view.ts'
import type { FolderInfo } from '../../src/cli/folder-view.ts'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'
import { fakeFolder, ME, THEM } from './fake-folder.ts'
import type { FakeFolder } from './fake-folder.ts'

/**
 * One path the scan cannot read this pass (a file that changes under every read, one the system refuses to read, a
 * directory it refuses to list) is a problem of that path, not of the folder: the rest is recorded and written as
 * ever, and the path shows why in the folder's status. Until a scan reads it, it stays as this node knew it: no change
 * or deletion recorded for it (it may hold changes no read saw), nothing written over it. Before, the scan failed
 * whole, and nothing in the folder synced while that one path stood (a log file appended to every few milliseconds,
 * a file of another user). The fake disk makes each of these a rule: the file changes exactly when it is read.
 */
const T = Date.UTC(2026, 0, 1)

interface Setup { readonly disk: MemoryDisk, readonly faults: FaultyFs, readonly f: FakeFolder }

async function setup (): Promise<Setup> {
  const disk = new MemoryDisk()
  const faults = new FaultyFs(disk.fs)
  const f = await fakeFolder(disk, faults.fs, '/f')
  return { disk, faults, f }
}

/** `p` is written again (a new mtime) every time the scanner reads from it. */
function changesUnderEveryRead ({ disk, faults }: Setup, p: string): void {
  let n = 0
  const file = `/f/${p}`
  faults.before('read', new RegExp(`^${file}$`), () => { n++; disk.put(file, `state ${n}`, T + n * 1000) },
    { times: Infinity })
}

const mine = (f: FakeFolder, p: string): { deleted: boolean, size: number }[] => [...f.space.versions.values()]
  .filter(v => v.author === ME && v.path === p).map(v => ({ deleted: v.deleted, size: v.size }))

/** The line `samepage folder list` prints for it. */
const line = (f: FakeFolder): string =>
  folderLine({ name: 'f', path: '/f', mode: 'send-receive', status: f.sync.status() } as unknown as FolderInfo)

describe('a path the scan cannot read this pass', () => {
  test('a file changing under every read: the rest syncs, it shows why, and it is recorded once it holds still',
    async () => {
      const s = await setup()
      const { disk, faults, f } = s
      const syncedBefore = f.sync.status().lastSyncedMs
      disk.put('/f/busy.log', 'state 0', T)
      disk.put('/f/notes.txt', 'a new file beside it', T)
      await f.theirs('from-them.txt', 'written here')
      changesUnderEveryRead(s, 'busy.log')
      await f.sync.sync()
      assert.deepEqual(mine(f, 'notes.txt'), [{ deleted: false, size: 'a new file beside it'.length }])
      assert.equal(disk.vol.readFileSync('/f/from-them.txt', 'utf8'), 'written here')
      assert.deepEqual(mine(f, 'busy.log'), [], 'nothing recorded of a file no read saw whole')
      assert.deepEqual(Object.keys(f.errors()), ['busy.log'])
      assert.match(f.errors()['busy.log'] ?? '',
        /^not scanned: it kept changing while it was read \(3 tries\); it is scanned again at the next pass/)
      assert.equal(f.sync.status().lastSyncedMs, syncedBefore, 'not in sync while it stands')
      assert.doesNotMatch(line(f), /in sync/)

      faults.heal()
      await f.sync.sync()
      const now = disk.vol.readFileSync('/f/busy.log', 'utf8') as string
      assert.deepEqual(mine(f, 'busy.log'), [{ deleted: false, size: now.length }])
      assert.deepEqual(f.errors(), {})
      assert.match(line(f), /^in sync/)
    })

  test('a shared file changing under every read: no change or deletion recorded, the record from elsewhere not ' +
    'written over it; its change is recorded once it holds still', async () => {
    const s = await setup()
    const { disk, faults, f } = s
    disk.put('/f/busy.log', 'shared', T)
    await f.sync.sync()
    const [shared] = [...f.space.versions.values()].filter(v => v.author === ME && v.path === 'busy.log')
    assert.ok(shared !== undefined)
    await f.theirs('busy.log', 'their edit of it', { mtimeMs: T + 60_000, supersedes: [shared.id] })
    disk.put('/f/busy.log', 'state 0', T + 500) // a program writes it: its stat is not the one known, so it is read
    changesUnderEveryRead(s, 'busy.log')
    await f.sync.sync()
    assert.deepEqual(mine(f, 'busy.log'), [{ deleted: false, size: 'shared'.length }], 'nothing more recorded')
    assert.match(disk.vol.readFileSync('/f/busy.log', 'utf8') as string, /^state \d+$/, 'the local file stays')
    assert.match(f.errors()['busy.log'] ?? '', /kept changing while it was read/)
    assert.equal(f.sync.status().localFiles, 1, 'still counted as this node last knew it')

    faults.heal()
    const local = disk.vol.readFileSync('/f/busy.log', 'utf8') as string
    await f.sync.sync()
    // Its change and theirs are concurrent: both stay (the local one recorded, one of the two as a conflict copy).
    assert.ok(mine(f, 'busy.log').some(v => !v.deleted && v.size === local.length), 'its change recorded')
    const contents = Object.values(disk.files('/f')).sort()
    assert.ok(contents.includes(local) && contents.includes('their edit of it'), JSON.stringify(contents))
  })

  test('a file the system refuses to read: the rest syncs; known, it is not taken as deleted; read once allowed',
    async () => {
      const { disk, faults, f } = await setup()
      disk.put('/f/kept.txt', 'known before', T)
      await f.sync.sync()
      disk.put('/f/secret.txt', 'not for this node', T)
      disk.put('/f/notes.txt', 'a new file beside it', T)
      faults.fail('open', /secret\.txt$/, 'EACCES')
      faults.fail('stat', /kept\.txt$/, 'EIO')
      await f.sync.sync()
      assert.deepEqual(mine(f, 'notes.txt'), [{ deleted: false, size: 'a new file beside it'.length }])
      assert.deepEqual(mine(f, 'kept.txt'), [{ deleted: false, size: 'known before'.length }], 'no deletion')
      assert.deepEqual(mine(f, 'secret.txt'), [])
      assert.deepEqual(f.errors(), {
        'kept.txt': 'not scanned: the disk reported an input/output error (EIO); check the disk and its connection ' +
          '(the system log says more); until a scan reads it, this node keeps it as it last knew it (no change or ' +
          'deletion recorded, nothing written over it)',
        'secret.txt': 'not scanned: no permission (EACCES); give the user this node runs as access to it, or add it ' +
          'to .samepageignore; until a scan reads it, this node keeps it as it last knew it (no change or deletion ' +
          'recorded, nothing written over it)'
      })
      assert.doesNotMatch(line(f), /in sync/)

      faults.heal()
      await f.sync.sync()
      assert.deepEqual(mine(f, 'secret.txt'), [{ deleted: false, size: 'not for this node'.length }])
      assert.deepEqual(mine(f, 'kept.txt'), [{ deleted: false, size: 'known before'.length }])
      assert.deepEqual(f.errors(), {})
    })

  test('a directory the system refuses to list: its files are not taken as deleted, nothing is written or deleted ' +
    'in it; the rest syncs; once listed, it syncs', async () => {
    const { disk, faults, f } = await setup()
    disk.put('/f/docs/a.txt', 'a', T)
    disk.put('/f/docs/deep/b.txt', 'b', T)
    await f.sync.sync()
    const a = [...f.space.versions.values()].find(v => v.path === 'docs/a.txt')
    assert.ok(a !== undefined)
    f.space.add(THEM, { path: 'docs/a.txt', size: 0, mode: 0o644, mtimeMs: T + 1, deleted: true, chunks: [],
      supersedes: [Buffer.from(a.id, 'hex')] })
    await f.theirs('docs/new.txt', 'theirs, new')
    disk.put('/f/top.txt', 'a new file elsewhere', T)
    faults.fail('readdir', /^\/f\/docs$/, 'EACCES')
    await f.sync.sync()
    assert.deepEqual(mine(f, 'top.txt'), [{ deleted: false, size: 'a new file elsewhere'.length }])
    assert.deepEqual([...f.space.versions.values()].filter(v => v.author === ME && v.deleted), [], 'no deletion')
    assert.equal(disk.vol.existsSync('/f/docs/a.txt'), true, 'their deletion waits for a scan of the directory')
    assert.equal(disk.vol.existsSync('/f/docs/new.txt'), false, 'nothing written into it meanwhile')
    assert.deepEqual(Object.keys(f.errors()), ['docs'])
    assert.match(f.errors()['docs'] ?? '',
      /^not listed: no permission \(EACCES\); .*; until a scan lists it, this node keeps its files as it last knew them/)
    assert.equal(f.sync.status().localFiles, 3, 'docs/a.txt, docs/deep/b.txt and top.txt')

    faults.heal()
    await f.sync.sync()
    assert.equal(disk.vol.existsSync('/f/docs/a.txt'), false)
    assert.equal(disk.vol.readFileSync('/f/docs/new.txt', 'utf8'), 'theirs, new')
    assert.deepEqual([...f.space.versions.values()].filter(v => v.author === ME && v.deleted), [])
    assert.deepEqual(f.errors(), {})
  })
})
