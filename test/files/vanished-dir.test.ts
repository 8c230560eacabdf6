import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { nodeFolderFs } from '../../src/files/folder-fs.ts'
import { FaultyFs } from './fake-fs.ts'
import { THEM } from './fake-folder.ts'
import { realFolder } from './real-folder.ts'

/**
 * A real refusal the named ones do not cover, on a real disk: the directory a file is written into is removed (its
 * user's `rm -r`) just before the finished file is renamed into it, so the kernel refuses the rename through
 * `/proc/self/fd/N/` with ENOENT. The folder's status says so in words, without Node's message (which named that /proc
 * path and the work area's part file), and the next pass writes the file.
 */
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vanished-dir-'))
after(() => { fs.rmSync(base, { recursive: true, force: true }) })

test('the directory removed before the rename: the status says what happened, nothing internal; written after', {
  skip: nodeFolderFs.procFd === null ? 'no /proc/self/fd here' : false
}, async () => {
  const root = path.join(base, 'f')
  const faults = new FaultyFs(nodeFolderFs)
  const f = await realFolder(root, faults.fs)
  await f.theirs(THEM, 'docs/new.txt', 'a new file from another node')
  faults.before('rename', /\.part$/, () => { fs.rmSync(path.join(root, 'docs'), { recursive: true }) })
  await f.sync.sync()
  assert.ok(faults.calls.some(c => c.startsWith('rename ') && c.endsWith('.part')), 'the rename was tried')
  const error = f.sync.status().errors.find(e => e.path === 'docs/new.txt')?.error ?? ''
  assert.equal(error, 'not written: it, or a directory of its path, disappeared meanwhile (ENOENT); it is tried again')
  assert.deepEqual(fs.readdirSync(path.join(root, '.samepage', 'tmp')), [], 'the part file is cleaned away')
  await f.sync.sync()
  assert.equal(fs.readFileSync(path.join(root, 'docs', 'new.txt'), 'utf8'), 'a new file from another node')
  assert.deepEqual(f.errors(), {})
})
