import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'

/**
 * Review (node/leave.ts against folders.ts add): `folder add` checks the
 * folder and starts its sync across awaits, and enters the binding only at
 * the end; a leave that runs meanwhile finds no folder bound, removes the
 * space, and answers "left, no folder". The add then binds the folder to a
 * space this node no longer holds: it is listed and kept in folders.json,
 * no command can remove it (every SPACE argument is UNKNOWN_SPACE now), and
 * a later join of the space brings the binding back at the next start.
 */
test('a folder add racing a leave of its space leaves no binding to a space not held', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-'))
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-folder-'))
  fs.writeFileSync(path.join(folder, 'a.txt'), 'hello')
  const node = Node.open({ dir })
  t.after(async () => {
    await node.stop()
    fs.rmSync(dir, { recursive: true, force: true })
    fs.rmSync(folder, { recursive: true, force: true })
  })
  const team = node.createSpace('team')
  const adding = node.folderAdd('team', folder)
  const left = await node.leave('team', true)
  assert.equal(left.folder, null, 'the leave found no folder yet')
  await assert.rejects(adding, { code: 'UNKNOWN_SPACE' }, 'the add says why it did not take effect')
  const bound = node.folderList().filter(f => f.space === team.id)
  assert.deepEqual(bound.map(f => f.path), [], 'a folder is bound to a space this node left')
  const file = path.join(dir, 'folders.json')
  const saved = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as { folders?: unknown[] } : {}
  assert.deepEqual(saved.folders ?? [], [], 'nor kept in folders.json')
})
