import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { folderLine } from '../../src/cli/folder-view.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { NodeError } from '../../src/node/index.ts'
import { folderPair, holdsTexts, passesUntil, readText } from '../helpers/folder-pair.ts'

/**
 * A receive-only folder's own changes (as Syncthing's receive-only folders): an edit or a deletion made on the
 * receive-only node is listed in `folder status` (`localChanges`) and the folder is not shown in sync while it stands;
 * a remote edit of a changed file first keeps the local bytes as a conflict copy on that node only; `folder revert`
 * puts back the space's versions. Before, the folder said "idle, in sync" for good, and the remote edit overwrote the
 * local one with no copy (review C, defect 2).
 */
test('a receive-only folder lists its own changes, keeps a changed file as a copy, and reverts', { timeout: 300_000 },
  async t => {
    const { a, b, space, fa, fb, both } = await folderPair(t, 'reader', 'receive-only')
    fs.writeFileSync(path.join(fa, 'report.txt'), 'v1 from a\n')
    fs.writeFileSync(path.join(fa, 'other.txt'), 'other\n')
    await passesUntil('b holds both', both, () => holdsTexts(fb, { 'report.txt': 'v1 from a\n', 'other.txt': 'other\n' }))
    const syncedBefore = b.folderStatus(space).status.lastSyncedMs

    const local = 'hours of local work on the receive-only node\n'
    fs.writeFileSync(path.join(fb, 'report.txt'), local)
    fs.unlinkSync(path.join(fb, 'other.txt'))
    await b.folderSync(space)
    await b.folderSync(space)
    const changed = b.folderStatus(space)
    assert.deepEqual(changed.status.localChanges, {
      count: 2, paths: [{ path: 'other.txt', change: 'deleted' }, { path: 'report.txt', change: 'changed' }]
    })
    assert.equal(changed.status.lastSyncedMs, syncedBefore, 'not in sync since the changes')
    assert.doesNotMatch(folderLine(changed), /in sync/)
    assert.match(folderLine(changed), /2 changed here/)
    assert.equal(readText(path.join(fb, 'report.txt')), local, 'a change stays until a new version comes')

    fs.writeFileSync(path.join(fa, 'report.txt'), 'v2 from a\n')
    await passesUntil('b holds v2', both, () => readText(path.join(fb, 'report.txt')) === 'v2 from a\n')
    const mark = authorKeyOf(b.keyPair.publicKey).slice(0, 7).toUpperCase()
    const copies = fs.readdirSync(fb).filter(n => n.includes('.sync-conflict-'))
    assert.equal(copies.length, 1, `one copy: ${JSON.stringify(copies)}`)
    assert.match(copies[0] as string, new RegExp(`^report\\.sync-conflict-\\d{8}-\\d{6}-${mark}\\.txt$`))
    assert.equal(readText(path.join(fb, copies[0] as string)), local, 'the local edit is kept')
    await a.folderSync(space)
    assert.equal(a.space(space).fileGet(copies[0] as string), undefined, 'the copy is not recorded')
    assert.deepEqual(fs.readdirSync(fa).filter(n => n !== '.samepage').sort(), ['other.txt', 'report.txt'])
    assert.deepEqual(b.folderStatus(space).status.localChanges.paths, [{ path: 'other.txt', change: 'deleted' }])

    const reverted = await b.folderRevert(space)
    assert.equal(readText(path.join(fb, 'other.txt')), 'other\n', 'the deleted file is back')
    assert.deepEqual(reverted.status.localChanges, { count: 0, paths: [] })
    assert.equal(reverted.status.errors.length, 0)
    assert.ok((reverted.status.lastSyncedMs ?? 0) > (syncedBefore ?? 0), 'in sync again')

    await assert.rejects(a.folderRevert(space), (err: unknown) =>
      err instanceof NodeError && err.code === 'BAD_FOLDER' && /send-receive/.test(err.message))
  })

test('folder revert sets a changed file aside as a copy and writes the space\'s version', { timeout: 300_000 },
  async t => {
    const { a, b, space, fa, fb, both } = await folderPair(t, 'reader', 'receive-only')
    fs.writeFileSync(path.join(fa, 'notes.txt'), 'from a\n')
    await passesUntil('b holds it', both, () => readText(path.join(fb, 'notes.txt')) === 'from a\n')
    fs.writeFileSync(path.join(fb, 'notes.txt'), 'mine\n')
    await b.folderSync(space)
    assert.equal(b.folderStatus(space).status.localChanges.count, 1)
    const reverted = await b.folderRevert(space)
    assert.equal(readText(path.join(fb, 'notes.txt')), 'from a\n')
    assert.deepEqual(reverted.status.localChanges, { count: 0, paths: [] })
    const copies = fs.readdirSync(fb).filter(n => n.startsWith('notes.sync-conflict-'))
    assert.equal(copies.length, 1, `the local bytes kept: ${JSON.stringify(fs.readdirSync(fb))}`)
    assert.equal(readText(path.join(fb, copies[0] as string)), 'mine\n')
  })
