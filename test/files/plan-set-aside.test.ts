import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { conflictCopyPath } from '../../src/files/conflict-name.ts'
import { planRemoteChanges, planSetAsideEnds, planSetAsideRenames } from '../../src/files/plan.ts'
import { folder, hex, idOf, knownAs, noIgnores, onDisk, recorded, T0, version } from './plan-data.ts'

/**
 * A file and a directory at one path, on plain data: the directory wins, the file's versions are set aside as copies.
 */
const file = version('x-file', 'a file named x', { mtimeMs: T0 + 1 })
const below = version('x-y', 'a file in x/')
const records = [recorded('x', file), recorded('x/y', below)]
const copyPath = conflictCopyPath('x', file)

describe('planner: set aside', () => {
  test('this node\'s own unchanged copy of the shadowed version: renamed to its conflict copy, no byte fetched', () => {
    const f = onDisk('x', 'a file named x')
    const at = folder({ disk: [f], known: [knownAs(f, idOf('x-file'))], records })
    assert.deepEqual(planSetAsideRenames(at, noIgnores), [{ from: 'x', to: copyPath, file: f }])
    // The rename is the executor's; the remote plan writes no copy of it, and says the file is in the way.
    const plan = planRemoteChanges(at, noIgnores)
    assert.deepEqual(plan.jobs.map(j => j.path), ['x/y'])
    assert.equal(plan.setAsideErrors.length, 1)
    assert.match(plan.setAsideErrors[0]!.error ?? '', /where other records make a directory/)
  })

  test('a changed file under the name: not renamed (it is recorded first)', () => {
    const before = onDisk('x', 'a file named x')
    const after = onDisk('x', 'edited', { mtimeMs: T0 + 9 })
    assert.deepEqual(planSetAsideRenames(folder({
      disk: [after], known: [knownAs(before, idOf('x-file'))], records
    }), noIgnores), [])
  })

  test('not here: the copy is written, the file under x/ too, nothing written under the name', () => {
    const plan = planRemoteChanges(folder({ records }), noIgnores)
    assert.deepEqual(plan.jobs.map(j => [j.path, j.copy]), [[copyPath, true], ['x/y', false]])
    assert.deepEqual(plan.setAside.map(v => v.path), ['x'])
    assert.deepEqual(plan.setAsideErrors, [{ path: 'x', error: null }])
  })

  test('ended by a deletion superseding every version, once each copy is here and nothing is under the name', () => {
    const v = records[0]!
    assert.deepEqual(planSetAsideEnds(folder({ records }), [v]), [])
    const copied = folder({ disk: [onDisk(copyPath, 'a file named x')], records })
    const ends = planSetAsideEnds(copied, [v])
    assert.equal(ends.length, 1)
    assert.equal(ends[0]!.deleted, true)
    assert.deepEqual(hex(ends[0]!.supersedes), [idOf('x-file')])
    const blocked = folder({
      disk: [onDisk(copyPath, 'a file named x'), onDisk('x', 'a file named x', { ino: 3 })], records
    })
    assert.deepEqual(planSetAsideEnds(blocked, [v]), [])
  })
})
