import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { nodeFolderFs } from '../../src/files/folder-fs.ts'
import type { FolderFs } from '../../src/files/folder-fs.ts'
import { foldedName } from '../../src/files/safe-path.ts'
import { ME, MemoryNetwork, MemorySpace, memoryFolderSync } from './fake-folder.ts'

/**
 * A folder's first pass asks whether its file system ignores case with a new file in `.samepage/`. On a disk out of
 * inodes that file cannot be made: the pass failed on it, and the folder recorded nothing, send-only too (a review's
 * probe). It is now asked again at the next pass, and the pass goes on. And names are folded as such file systems
 * fold them (ẞ, capital sharp s, as ß and ss).
 */
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-case-probe-'))
after(() => { fs.rmSync(base, { recursive: true, force: true }) })

test('a folder whose disk makes no new file still records its user\'s edits', async () => {
  const root = path.join(base, 'f')
  fs.mkdirSync(path.join(root, '.samepage', 'tmp'), { recursive: true })
  fs.writeFileSync(path.join(root, 'notes.txt'), 'my notes\n')
  const noInodes: FolderFs = {
    ...nodeFolderFs,
    open: async (p, flags, mode) => {
      if (typeof flags === 'string' && flags.startsWith('w') && !fs.existsSync(p)) {
        throw Object.assign(new Error(`ENOSPC: no space left on device, open '${p}'`), { code: 'ENOSPC' })
      }
      return await nodeFolderFs.open(p, flags, mode)
    }
  }
  const space = new MemorySpace()
  const sync = memoryFolderSync(root, 'send-only', space, new MemoryNetwork(), noInodes)
  await sync.start()
  await sync.sync()
  await sync.stop()
  assert.deepEqual([...space.versions.values()].filter(v => v.author === ME).map(v => v.path), ['notes.txt'])
  assert.deepEqual(sync.status().errors, [])
})

test('names fold as a file system that ignores case folds them', () => {
  assert.equal(foldedName('STRAẞE'), foldedName('straße'))
  assert.equal(foldedName('Straße'), foldedName('STRASSE'))
  assert.equal(foldedName('Report.TXT'), foldedName('report.txt'))
  assert.notEqual(foldedName('report.txt'), foldedName('report.txt.'))
})
