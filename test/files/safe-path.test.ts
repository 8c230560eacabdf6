import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { writeFileVersion } from '../../src/files/index.ts'
import { nodeFolderFs } from '../../src/files/folder-fs.ts'
import { unlinkInFolder } from '../../src/files/safe-path.ts'

/**
 * Nothing is written, renamed or removed through a symbolic link (decision
 * 19), with real files: a directory of the record's path that is a link is
 * refused, and one swapped for a link while the file is being written (the
 * race a check-then-write would lose) still gets nothing: the rename goes
 * into the directory that was checked.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-safe-path-'))
after(() => fs.rmSync(root, { recursive: true, force: true }))
const data = Buffer.from('bytes that must stay inside the folder')
const version = (id: string, rel: string): Parameters<typeof writeFileVersion>[1] => ({
  id: id.repeat(64), path: rel, size: data.length, mode: 0o644, mtimeMs: Date.UTC(2026, 0, 1), chunks: [[crypto.hash('sha256', data, 'buffer'), data.length]]
})
const fetch = async (): Promise<Uint8Array> => data

test('a directory of the path that is a symbolic link: refused, nothing lands outside', async () => {
  const folder = path.join(root, 'linked')
  const outside = path.join(root, 'outside-1')
  fs.mkdirSync(path.join(folder, '.samepage'), { recursive: true })
  fs.mkdirSync(outside)
  fs.symlinkSync(outside, path.join(folder, 'sub'))
  await assert.rejects(writeFileVersion(folder, version('a', 'sub/deeper/x.txt'), { fetch }), (err: NodeJS.ErrnoException) => err.code === 'ELINKINPATH' && /symbolic link/.test(err.message))
  assert.deepEqual(fs.readdirSync(outside), [])
})

test('a directory swapped for a symbolic link just before the rename: the file lands in the directory that was checked', async () => {
  const folder = path.join(root, 'swapped')
  const outside = path.join(root, 'outside-2')
  fs.mkdirSync(path.join(folder, 'sub'), { recursive: true })
  fs.mkdirSync(path.join(folder, '.samepage'))
  fs.mkdirSync(outside)
  await writeFileVersion(folder, version('b', 'sub/x.txt'), {
    fetch,
    beforeRename: async () => {
      fs.renameSync(path.join(folder, 'sub'), path.join(folder, 'moved'))
      fs.symlinkSync(outside, path.join(folder, 'sub'))
    }
  })
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing outside')
  assert.ok(fs.readFileSync(path.join(folder, 'moved', 'x.txt')).equals(data), 'the file is in the directory that was checked')
})

test('a deletion does not follow a link either', async () => {
  const folder = path.join(root, 'delete')
  const outside = path.join(root, 'outside-3')
  fs.mkdirSync(folder)
  fs.mkdirSync(outside)
  fs.writeFileSync(path.join(outside, 'precious.txt'), 'keep')
  fs.symlinkSync(outside, path.join(folder, 'sub'))
  await assert.rejects(unlinkInFolder(nodeFolderFs, folder, 'sub/precious.txt'), /symbolic link/)
  assert.equal(fs.readFileSync(path.join(outside, 'precious.txt'), 'utf8'), 'keep')
})
