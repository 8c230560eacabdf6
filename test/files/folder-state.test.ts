import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { hasCode } from '../../src/ids/index.ts'
import { loadFolderState, saveFolderState } from '../../src/files/folder-state.ts'

/**
 * A folder's state file that is not one (cut short by a crash of another
 * program, or overwritten by hand) stops that folder with an error that
 * names the file and the way out, never with a bare JSON SyntaxError.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-folder-state-'))
after(() => { fs.rmSync(dir, { recursive: true, force: true }) })

test('a missing state file is an empty folder state', () => {
  assert.equal(loadFolderState(path.join(dir, 'absent.json')).known.size, 0)
})

test('a state file that is not JSON, or not version 1, is refused with the file named and what to do', () => {
  const cases: Array<[string, string]> = [['cut.json', '{"v":1,"files":[["a.txt",'], ['v2.json', '{"v":2,"files":[]}'],
    ['list.json', '[1,2,3]'], ['null.json', 'null']]
  for (const [name, text] of cases) {
    const file = path.join(dir, name)
    fs.writeFileSync(file, text)
    assert.throws(() => loadFolderState(file), (err: unknown) => {
      assert.ok(hasCode(err, 'BAD_FOLDER'), `${name}: ${String(err)}`)
      assert.match(err.message, new RegExp(`${name} is not a samepage folder state .*move it away`))
      return true
    })
  }
})

test('the paths the older-copy rule still applies to are kept with the state; a state without them has none', () => {
  const file = path.join(dir, 'older.json')
  saveFolderState(file, new Map(), ['edit.txt', 'sub'])
  assert.deepEqual(loadFolderState(file).olderCopies, ['edit.txt', 'sub'])
  saveFolderState(file, new Map(), [])
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { v: 1, files: [] }, 'none: the state as it was')
  assert.deepEqual(loadFolderState(file).olderCopies, [])
  fs.writeFileSync(file, '{"v":1,"files":[],"olderCopies":["a.txt",7,null]}')
  assert.deepEqual(loadFolderState(file).olderCopies, ['a.txt'], 'only paths')
})
