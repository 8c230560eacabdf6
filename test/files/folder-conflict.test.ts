import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chunkFile, conflictCopyPath, FolderSync } from '../../src/files/index.ts'
import type { FolderHost, RecordedFile, RecordedVersion } from '../../src/files/index.ts'
import { toHex } from '../../src/codec/index.ts'
import { fetcherOf, MemorySpace } from './fake-folder.ts'

/**
 * A conflict whose losing version exists only in this node's own file (the
 * node that made the edit, back after being offline): the copy of it must be
 * on disk before the winner replaces that file. Here the winner's bytes come
 * at once from the fetcher while the loser is big (many chunks copied
 * locally, one after the other), so a winner written beside the copy always
 * replaces the file first: the test fails for any order but copy-then-file,
 * however fast or loaded the machine is.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-conflict-'))
after(() => { fs.rmSync(root, { recursive: true, force: true }) })

interface Scene { dir: string, sync: FolderSync, space: MemorySpace, mine: Buffer, own: RecordedVersion, copy: string }

/** A folder whose own edit (8 MiB, about 128 chunks) is recorded, and the record of another node's newer edit of it (one chunk the network holds). */
async function scene (name: string, beforeTheirs: (copy: string) => void = () => {}): Promise<Scene & { theirs: Buffer }> {
  const dir = path.join(root, name)
  fs.mkdirSync(dir)
  const space = new MemorySpace()
  const held = new Map<string, Uint8Array>()
  const me = 'c'.repeat(64)
  const host: FolderHost = {
    files: () => space.files(),
    record: versions => versions.map(v => space.add(me, v)),
    fetcher: () => fetcherOf(held)
  }
  const sync = new FolderSync({ root: dir, mode: 'send-receive', stateFile: path.join(root, `${name}.json`), host, watch: false, rescanMs: 3_600_000 })
  const mine = crypto.randomBytes(8 * 1024 * 1024)
  fs.writeFileSync(path.join(dir, 'shared.bin'), mine)
  fs.utimesSync(path.join(dir, 'shared.bin'), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000))
  await sync.start()
  await sync.sync()
  const own = space.files().find(f => f.path === 'shared.bin')?.current as RecordedVersion
  assert.ok(own !== undefined && own.chunks.length > 50, 'the local edit is recorded')
  const copy = conflictCopyPath('shared.bin', own)
  beforeTheirs(copy)
  const theirs = Buffer.from(`edited on another node, later (${name})`)
  const theirsFile = path.join(root, `${name}-theirs.txt`)
  fs.writeFileSync(theirsFile, theirs)
  const chunks = await chunkFile(theirsFile)
  for (const [hash] of chunks) held.set(toHex(hash), theirs)
  space.add('a'.repeat(64), { path: 'shared.bin', size: theirs.length, mode: own.mode, mtimeMs: Date.now(), deleted: false, supersedes: [], chunks })
  return { dir, sync, space, mine, own, copy, theirs }
}

function assertBothKept (s: Scene & { theirs: Buffer }): void {
  const { dir, copy } = s
  assert.ok(fs.existsSync(path.join(dir, copy)), `the losing version's copy is on disk: ${fs.readdirSync(dir).join(', ')} (errors ${JSON.stringify(s.sync.status().errors)})`)
  assert.ok(fs.readFileSync(path.join(dir, copy)).equals(s.mine), 'the copy holds the local edit')
  assert.ok(fs.readFileSync(path.join(dir, 'shared.bin')).equals(s.theirs), 'the winner is under the name')
  const resolved = s.space.files().find(f => f.path === 'shared.bin') as RecordedFile
  assert.equal(resolved.conflicts.length, 0, 'resolved once the copy is on disk')
}

describe('a conflict copy of a version only this node holds', { timeout: 600_000 }, () => {
  test('the copy is on disk before the winner replaces the file that held it: neither version lost', async () => {
    const s = await scene('race')
    await s.sync.sync()
    await s.sync.stop()
    assertBothKept(s)
  })

  test('a copy that cannot be written yet keeps the file that holds its version: the winner waits, then both are kept', async () => {
    // A directory where the copy goes: the copy is not written (decision 19), so nothing may replace its only source.
    let blocker = ''
    const s = await scene('blocked', copy => { blocker = path.join(root, 'blocked', copy); fs.mkdirSync(blocker) })
    await s.sync.sync()
    assert.ok(fs.readFileSync(path.join(s.dir, 'shared.bin')).equals(s.mine), 'the file holding the uncopied version is left as it is')
    const errors = s.sync.status().errors
    assert.ok(errors.some(e => e.path === 'shared.bin' && /waiting: its conflict copy .* is written first/.test(e.error)), JSON.stringify(errors))
    assert.equal(s.space.files().find(f => f.path === 'shared.bin')?.conflicts.length, 1, 'not resolved while the copy is missing')
    fs.rmdirSync(blocker)
    await s.sync.sync()
    await s.sync.stop()
    assertBothKept(s)
    assert.deepEqual(s.sync.status().errors, [])
  })
})

describe('a local change whose record was refused', { timeout: 600_000 }, () => {
  test('is not replaced by another node\'s version: kept on disk with the reason, then recorded as a conflict once records are taken again', async () => {
    const dir = path.join(root, 'refused')
    fs.mkdirSync(dir)
    const space = new MemorySpace()
    const held = new Map<string, Uint8Array>()
    let refuse = false
    const host: FolderHost = {
      files: () => space.files(),
      record: versions => { if (refuse) throw new Error('the disk under the store is full'); return versions.map(v => space.add('c'.repeat(64), v)) },
      fetcher: () => fetcherOf(held)
    }
    const sync = new FolderSync({ root: dir, mode: 'send-receive', stateFile: path.join(root, 'refused.json'), host, watch: false, rescanMs: 3_600_000 })
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'v1')
    await sync.start()
    await sync.sync()
    const v1 = space.files()[0]?.current as RecordedVersion
    refuse = true
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'my edit, not on record')
    const theirs = Buffer.from('their edit')
    const theirsFile = path.join(root, 'refused-theirs.txt')
    fs.writeFileSync(theirsFile, theirs)
    const chunks = await chunkFile(theirsFile)
    for (const [hash] of chunks) held.set(toHex(hash), theirs)
    space.add('a'.repeat(64), { path: 'notes.txt', size: theirs.length, mode: v1.mode, mtimeMs: Date.now() + 60_000, deleted: false, supersedes: [Buffer.from(v1.id, 'hex')], chunks })
    await sync.sync()
    assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'my edit, not on record')
    const errors = sync.status().errors
    assert.ok(errors.some(e => e.path === 'notes.txt' && /not shared: the disk under the store is full; the change here is not on record, so it is not replaced/.test(e.error)), JSON.stringify(errors))
    refuse = false
    await sync.sync()
    await sync.stop()
    assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'their edit')
    const copies = fs.readdirSync(dir).filter(n => n.startsWith('notes.sync-conflict-'))
    assert.equal(copies.length, 1, fs.readdirSync(dir).join(', '))
    assert.equal(fs.readFileSync(path.join(dir, copies[0] as string), 'utf8'), 'my edit, not on record')
    assert.deepEqual(sync.status().errors, [])
  })
})
