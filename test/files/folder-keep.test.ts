import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chunkFile, conflictCopyPath, FolderSync, KeepRefused } from '../../src/files/index.ts'
import type { FolderHost, FolderMode, RecordedFile, RecordedVersion } from '../../src/files/index.ts'
import { toHex } from '../../src/codec/index.ts'
import { nodeFolderFs } from '../../src/files/folder-fs.ts'
import type { FolderFs } from '../../src/files/folder-fs.ts'
import { fetcherOf, MemorySpace } from './fake-folder.ts'

/**
 * Resolving a conflict by keeping one version (files/plan-keep.ts,
 * keep-version.ts), on one FolderSync over a real directory and a space in
 * memory: the kept content under the name and on record superseding every
 * head, the copies gone from disk and (those on record) deleted in the space;
 * and each refusal with its code; a copy the user edited after the last scan
 * (a merge by hand) is neither recorded with its old bytes nor removed. Two
 * real daemons: test/e2e/resolve.test.ts.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-keep-'))
after(() => { fs.rmSync(root, { recursive: true, force: true }) })

const ME = 'c'.repeat(64)
const OTHER = 'a'.repeat(64)

interface Scene { dir: string, sync: FolderSync, space: MemorySpace, mine: string, theirs: string, own: RecordedVersion, other: string }

/**
 * A folder whose own edit of shared.txt is recorded, then another node's concurrent edit of it: newer (it wins) or
 * older, its bytes held by the "network" or not.
 */
async function scene (name: string, o: { theirsWins: boolean, held: boolean, mode?: FolderMode, fs?: FolderFs }): Promise<Scene> {
  const dir = path.join(root, name)
  fs.mkdirSync(dir)
  const space = new MemorySpace()
  const held = new Map<string, Uint8Array>()
  const host: FolderHost = {
    files: () => space.files(),
    record: versions => versions.map(v => space.add(ME, v)),
    fetcher: () => fetcherOf(held)
  }
  const mine = `edited here (${name})`
  const file = path.join(dir, 'shared.txt')
  fs.writeFileSync(file, mine)
  const then = new Date(Date.now() - 120_000)
  fs.utimesSync(file, then, then)
  const recorder = new FolderSync({ root: dir, mode: 'send-receive', stateFile: path.join(root, `${name}.json`), host, watch: false, rescanMs: 3_600_000 })
  await recorder.start()
  await recorder.sync()
  await recorder.stop()
  const own = space.file('shared.txt')?.current as RecordedVersion
  const theirs = `edited on another node (${name})`
  const theirsFile = path.join(root, `${name}-theirs.txt`)
  fs.writeFileSync(theirsFile, theirs)
  const chunks = await chunkFile(theirsFile)
  if (o.held) for (const [hash] of chunks) held.set(toHex(hash), Buffer.from(theirs))
  const mtimeMs = o.theirsWins ? Date.now() : then.getTime() - 60_000
  const other = space.add(OTHER, { path: 'shared.txt', size: theirs.length, mode: own.mode, mtimeMs, deleted: false, supersedes: [], chunks })
  const sync = new FolderSync({ root: dir, mode: o.mode ?? 'send-receive', stateFile: path.join(root, `${name}.json`), host, watch: false, rescanMs: 3_600_000, ...o.fs === undefined ? {} : { fs: o.fs } })
  await sync.start()
  await sync.sync()
  await sync.sync() // the copy written by the first pass is recorded by this one, as any new file
  return { dir, sync, space, mine, theirs, own, other }
}

async function refusal (run: Promise<unknown>): Promise<KeepRefused> {
  const err = await run.then(() => null, (e: unknown) => e)
  assert.ok(err instanceof KeepRefused, `refused: ${String(err)}`)
  return err
}

describe('keep one version of a path in conflict', { timeout: 600_000 }, () => {
  test('keeping the losing copy: its content under the name, one head superseding all, the copy gone here and in the space', async () => {
    const s = await scene('keep-copy', { theirsWins: true, held: true })
    const copy = conflictCopyPath('shared.txt', s.own)
    const listed = s.sync.conflicts()
    assert.equal(listed.length, 1)
    assert.deepEqual(listed[0]?.copies, [copy])
    assert.equal(listed[0]?.versions.length, 0, 'resolved in the space by step 4, the copy left')
    assert.equal(fs.readFileSync(path.join(s.dir, 'shared.txt'), 'utf8'), s.theirs)
    const headsBefore = s.space.file('shared.txt') as RecordedFile

    const r = await s.sync.keep('shared.txt', copy)
    assert.equal(fs.readFileSync(path.join(s.dir, 'shared.txt'), 'utf8'), s.mine, 'the kept version is under the name')
    assert.ok(!fs.existsSync(path.join(s.dir, copy)), 'the copy is gone here')
    assert.deepEqual(r.removed, [copy])
    const now = s.space.file('shared.txt') as RecordedFile
    assert.equal(now.conflicts.length, 0)
    assert.equal(now.current.id, r.recorded)
    assert.equal(now.current.size, s.mine.length)
    const record = s.space.versions.get(r.recorded as string)
    assert.deepEqual(record?.supersedes, [headsBefore.current.id], 'it supersedes the head it replaces')
    assert.equal(s.space.file(copy)?.current.deleted, true, 'the copy is deleted on record, so every node removes it')
    await s.sync.sync()
    assert.deepEqual(s.sync.conflicts(), [])
    assert.equal(s.space.file('shared.txt')?.current.id, r.recorded, 'the next pass records nothing more')
    assert.deepEqual(s.sync.status().errors, [])
    await s.sync.stop()
  })

  test('keeping the version under the name: the copies go, nothing else changes', async () => {
    const s = await scene('keep-current', { theirsWins: true, held: true })
    const current = s.sync.conflicts()[0]?.current.id as string
    const r = await s.sync.keep('shared.txt', current)
    assert.equal(r.recorded, null, 'one head with that content already: nothing to record for the path')
    assert.equal(fs.readFileSync(path.join(s.dir, 'shared.txt'), 'utf8'), s.theirs)
    assert.deepEqual(fs.readdirSync(s.dir).filter(n => n !== '.samepage'), ['shared.txt'])
    await s.sync.sync()
    assert.deepEqual(s.sync.conflicts(), [])
    await s.sync.stop()
  })

  test('refusals: no conflict, not one of its versions, bytes not here yet, receive-only', async () => {
    // Their version lost and its bytes are nowhere: its copy cannot be written, so it stays unresolved.
    const s = await scene('refusals', { theirsWins: false, held: false })
    const listed = s.sync.conflicts()
    assert.equal(listed[0]?.versions[0]?.id, s.other, 'the unresolved version is listed')
    assert.equal((await refusal(s.sync.keep('other.txt', s.other))).code, 'NO_CONFLICT')
    const bad = await refusal(s.sync.keep('shared.txt', 'f'.repeat(64)))
    assert.equal(bad.code, 'BAD_INPUT')
    assert.match(bad.message, /keep one of/)
    const waiting = await refusal(s.sync.keep('shared.txt', s.other))
    assert.equal(waiting.code, 'NOT_ON_DISK')
    assert.match(waiting.message, /wait for the sync/)
    assert.equal(fs.readFileSync(path.join(s.dir, 'shared.txt'), 'utf8'), s.mine, 'nothing changed on disk')
    assert.equal(s.space.file('shared.txt')?.conflicts.length, 1, 'nothing recorded')
    await s.sync.stop()

    const ro = await scene('receive-only', { theirsWins: true, held: true, mode: 'receive-only' })
    const refused = await refusal(ro.sync.keep('shared.txt', ro.other))
    assert.equal(refused.code, 'RECEIVE_ONLY')
    assert.match(refused.message, /receive-only/)
    await ro.sync.stop()
  })

  test('a copy edited since the last scan is kept with its edit: refused until the sync records it, then kept', async () => {
    const s = await scene('edited-copy', { theirsWins: true, held: true })
    const copy = conflictCopyPath('shared.txt', s.own)
    const before = s.space.file('shared.txt')?.current.id
    const merged = `${s.mine}\n${s.theirs}\n(merged by hand)\n`
    fs.writeFileSync(path.join(s.dir, copy), merged)
    const refused = await refusal(s.sync.keep('shared.txt', copy))
    assert.equal(refused.code, 'NOT_ON_DISK')
    assert.equal(refused.message, `${copy} was changed since the last scan; wait for the sync, then choose again`)
    assert.equal(fs.readFileSync(path.join(s.dir, copy), 'utf8'), merged, 'the merge is still in the copy')
    assert.equal(s.space.file('shared.txt')?.current.id, before, 'nothing recorded')

    await s.sync.sync()
    const r = await s.sync.keep('shared.txt', copy)
    assert.equal(fs.readFileSync(path.join(s.dir, 'shared.txt'), 'utf8'), merged, 'the merge is under the name')
    assert.equal(s.space.file('shared.txt')?.current.size, Buffer.byteLength(merged), 'and on record')
    assert.deepEqual(r.removed, [copy])
    await s.sync.stop()
  })

  test('keeping the version under the name does not remove a copy edited since the last scan', async () => {
    const s = await scene('edited-copy-current', { theirsWins: true, held: true })
    const copy = conflictCopyPath('shared.txt', s.own)
    const current = s.sync.conflicts()[0]?.current.id as string
    fs.writeFileSync(path.join(s.dir, copy), 'an edit of the copy')
    const refused = await refusal(s.sync.keep('shared.txt', current))
    assert.equal(refused.code, 'NOT_ON_DISK')
    assert.match(refused.message, /was changed since the last scan/)
    assert.equal(fs.readFileSync(path.join(s.dir, copy), 'utf8'), 'an edit of the copy')
    assert.equal(s.space.file(copy)?.current.deleted, false, 'its deletion is not recorded')
    await s.sync.stop()
  })

  test('a copy edited while the keep writes the name is left; its edit is recorded next and wins', async () => {
    let edit: (() => void) | null = null
    // The user saves the copy right after the kept content is renamed into place, before the copies are removed.
    const racing: FolderFs = {
      ...nodeFolderFs,
      rename: async (from, to) => {
        await nodeFolderFs.rename(from, to)
        if (to.endsWith('/shared.txt')) edit?.()
      }
    }
    const s = await scene('edited-copy-during', { theirsWins: true, held: true, fs: racing })
    const copy = conflictCopyPath('shared.txt', s.own)
    edit = () => { edit = null; fs.writeFileSync(path.join(s.dir, copy), 'saved during the keep') }
    const left = await refusal(s.sync.keep('shared.txt', copy))
    assert.equal(left.code, 'NOT_WRITTEN')
    assert.match(left.message, /the choice is recorded, but copies stayed here .*not deleted: it changed here/)
    assert.equal(fs.readFileSync(path.join(s.dir, 'shared.txt'), 'utf8'), s.mine, 'the choice is applied')
    assert.equal(fs.readFileSync(path.join(s.dir, copy), 'utf8'), 'saved during the keep', 'the edit stays')
    await s.sync.sync()
    const recorded = s.space.file(copy)
    assert.equal(recorded?.current.deleted, false, 'the edit of the copy is recorded and wins over its deletion')
    assert.equal(recorded?.current.size, 'saved during the keep'.length)
    await s.sync.stop()
  })
})
