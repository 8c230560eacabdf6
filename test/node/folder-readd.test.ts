import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { folderPair, holdsTexts, passesUntil, readText } from '../helpers/folder-pair.ts'

/**
 * `folder remove` drops what this node knew of its files; while the folder is not shared here, another member deletes
 * one file and edits another. `folder add` of the same path again: the stale files hold versions the space
 * superseded since, so they are taken as those versions and the newer records apply (the deletion deletes, the edit
 * replaces). They were recorded as new versions superseding nothing: the deleted file came back on every node, and
 * the edited one left a stale conflict copy everywhere (review C, defect 1).
 */
test('a folder added again takes deletions and edits made meanwhile; it brings back nothing', { timeout: 300_000 },
  async t => {
    const { a, b, space, fa, fb, both } = await folderPair(t, 'writer', 'send-receive')
    fs.writeFileSync(path.join(fa, 'old.txt'), 'to be deleted\n')
    fs.writeFileSync(path.join(fa, 'edit.txt'), 'v1\n')
    await passesUntil('b holds both files', both, () => holdsTexts(fb, { 'old.txt': 'to be deleted\n', 'edit.txt': 'v1\n' }))

    await b.folderRemove(space)
    fs.unlinkSync(path.join(fa, 'old.txt'))
    fs.writeFileSync(path.join(fa, 'edit.txt'), 'v2 from a\n')
    await a.folderSync(space)
    await passesUntil('b stores the deletion and the edit', async () => {}, () =>
      b.space(space).fileGet('old.txt')?.current.deleted === true &&
      b.space(space).fileGet('edit.txt')?.current.size === 'v2 from a\n'.length)

    await b.folderAdd(space, fb)
    await passesUntil('b applies them', both, () => holdsTexts(fb, { 'old.txt': null, 'edit.txt': 'v2 from a\n' }))
    await both()
    for (const [who, node] of [['a', a], ['b', b]] as const) {
      const old = node.space(space).fileGet('old.txt')
      assert.equal(old?.current.deleted, true, `on ${who}, the deletion stands (author ${old?.current.author})`)
      const edit = node.space(space).fileGet('edit.txt')
      assert.deepEqual(edit?.conflicts, [], `on ${who}, the stale copy is no concurrent version`)
    }
    assert.equal(readText(path.join(fa, 'old.txt')), null, 'the deleted file is not brought back on a')
    for (const dir of [fa, fb]) {
      const names = fs.readdirSync(dir).filter(n => n !== '.samepage').sort()
      assert.deepEqual(names, ['edit.txt'], `${dir}: no conflict copy, no deleted file`)
    }
  })
