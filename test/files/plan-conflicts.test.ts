import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { conflictCopyPath } from '../../src/files/conflict-name.ts'
import { conflictList } from '../../src/files/conflict-list.ts'
import { MODE_RULES } from '../../src/files/plan-modes.ts'
import { planRemoteChanges, planReplace, planResolutions, waitingError } from '../../src/files/plan.ts'
import { folder, hex, idOf, knownAs, noIgnores, onDisk, recorded, T0, version } from './plan-data.ts'

/**
 * Concurrent versions, on plain data: the winner under the name, each loser
 * as a conflict copy written first, the file holding a loser kept until its
 * copy is there, and a record superseding them all once every copy is.
 */
const mine = version('mine', 'my edit', { author: 'c'.repeat(64), mtimeMs: T0 + 1 })
const theirs = version('theirs', 'their edit', { author: 'd'.repeat(64), mtimeMs: T0 + 2 })
const copyPath = conflictCopyPath('doc.txt', mine)
const rules = MODE_RULES['send-receive']

describe('planner: conflicts', () => {
  test('a losing version: a conflict copy job (before the file job), and the path is to be resolved', () => {
    const plan = planRemoteChanges(folder({ records: [recorded('doc.txt', theirs, mine)] }), noIgnores)
    assert.deepEqual(plan.jobs, [
      { version: mine, path: copyPath, expect: null, copy: true },
      { version: theirs, path: 'doc.txt', expect: null, copy: false }
    ])
    assert.deepEqual(plan.resolutions.map(r => r.path), ['doc.txt'])
  })

  test('a loser with the winner\'s content, or a deletion that lost: no copy', () => {
    const twin = version('twin', 'their edit', { author: 'e'.repeat(64) })
    const gone = version('gone', '', { deleted: true })
    const plan = planRemoteChanges(folder({ records: [recorded('doc.txt', theirs, twin, gone)] }), noIgnores)
    assert.deepEqual(plan.jobs.map(j => j.path), ['doc.txt'])
    assert.deepEqual(plan.resolutions, [])
  })

  test('a copy already on disk with the loser\'s content: not written again', () => {
    const copy = onDisk(copyPath, 'my edit', { ino: 2 })
    const plan = planRemoteChanges(folder({ disk: [copy], records: [recorded('doc.txt', theirs, mine)] }), noIgnores)
    assert.deepEqual(plan.jobs.map(j => j.path), ['doc.txt'])
  })

  test('the file here holds the losing version and its copy is not written yet: it waits, and says why', () => {
    const f = onDisk('doc.txt', 'my edit')
    const at = folder({ disk: [f], known: [knownAs(f, idOf('mine'))], records: [recorded('doc.txt', theirs, mine)] })
    const job = { version: theirs, path: 'doc.txt', expect: f, copy: false }
    const replace = planReplace(at, job, rules)
    assert.equal(replace.action, 'wait')
    assert.match(replace.action === 'wait' ? replace.why : '', /its conflict copy .* is written first/)
    // Once the copy is there, the file is replaced.
    const withCopy = folder({
      disk: [f, onDisk(copyPath, 'my edit', { ino: 2 })],
      known: [knownAs(f, idOf('mine'))],
      records: [recorded('doc.txt', theirs, mine)]
    })
    assert.deepEqual(planReplace(withCopy, job, rules), { action: 'write' })
  })

  test('a path a copy just filled with the very content of the job: adopted, not written', () => {
    const filled = onDisk('doc.txt', 'their edit', { ino: 5 })
    const job = { version: theirs, path: 'doc.txt', expect: null, copy: false }
    assert.deepEqual(planReplace(folder({
      disk: [filled], records: [recorded('doc.txt', theirs)]
    }), job, rules), { action: 'adopt', file: filled })
  })

  test('a wait after a refused record keeps the refusal first', () => {
    assert.equal(waitingError(undefined, 'why'), 'waiting: why')
    assert.equal(waitingError('not shared: the disk is full', 'why'), 'not shared: the disk is full; why')
    assert.equal(waitingError('not written: EACCES', 'why'), 'waiting: why')
  })

  test('resolved once the winner is this node\'s and every copy is here: one record superseding every head', () => {
    const f = onDisk('doc.txt', 'their edit')
    const v = recorded('doc.txt', theirs, mine)
    const notYet = planResolutions(folder({ disk: [f], known: [knownAs(f, idOf('theirs'))], records: [v] }), [v])
    assert.deepEqual(notYet, [])
    const copy = onDisk(copyPath, 'my edit', { ino: 2 })
    const ready = planResolutions(folder({ disk: [f, copy], known: [knownAs(f, idOf('theirs'))], records: [v] }), [v])
    assert.equal(ready.length, 1)
    assert.equal(ready[0]!.file, f)
    assert.equal(ready[0]!.version.size, theirs.size)
    assert.deepEqual(ready[0]!.version.chunks, theirs.chunks)
    assert.deepEqual(hex(ready[0]!.version.supersedes), [idOf('mine'), idOf('theirs')].sort())
  })

  test('not resolved while the winner is not the version this node holds', () => {
    const f = onDisk('doc.txt', 'old')
    const copy = onDisk(copyPath, 'my edit', { ino: 2 })
    const v = recorded('doc.txt', theirs, mine)
    assert.deepEqual(planResolutions(folder({
      disk: [f, copy], known: [knownAs(f, idOf('old'))], records: [v]
    }), [v]), [])
  })

  test('the conflict list: unresolved versions with their copy names, and copies on disk', () => {
    const records = [recorded('doc.txt', theirs, mine), recorded('b.txt', version('b', 'b'))]
    const views = new Map(records.map(r => [r.path, r]))
    const list = conflictList(views, [copyPath, 'b.txt'])
    assert.deepEqual(list, [{
      path: 'doc.txt',
      current: { id: theirs.id, author: theirs.author, mtimeMs: theirs.mtimeMs, size: theirs.size },
      versions: [{ id: mine.id, author: mine.author, mtimeMs: mine.mtimeMs, size: mine.size, copy: copyPath }],
      copies: [copyPath]
    }])
  })
})
