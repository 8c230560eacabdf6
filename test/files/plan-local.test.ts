import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { planLocalChanges } from '../../src/files/plan.ts'
import { folder, hex, idOf, knownAs, onDisk, recorded, T0, version } from './plan-data.ts'

/** Step 1 of a pass, on plain data: what changed on disk becomes records. */
const local = { reread: new Set<string>(), notShared: [], nowMs: T0 + 1000 }

describe('planner: local changes', () => {
  test('a file unchanged since it was synced: nothing to do', () => {
    const f = onDisk('a.txt', 'one')
    const plan = planLocalChanges(folder({
      disk: [f], known: [knownAs(f, idOf('v1'))], records: [recorded('a.txt', version('v1', 'one'))]
    }), local)
    assert.deepEqual(plan, { adopt: [], forget: [], records: [] })
  })

  test('an edited file: a new version that supersedes the known one', () => {
    const before = onDisk('a.txt', 'one')
    const after = onDisk('a.txt', 'two', { mtimeMs: T0 + 5 })
    const plan = planLocalChanges(folder({
      disk: [after], known: [knownAs(before, idOf('v1'))], records: [recorded('a.txt', version('v1', 'one'))]
    }), local)
    assert.equal(plan.records.length, 1)
    const r = plan.records[0]!
    assert.equal(r.file, after)
    assert.equal(r.version.path, 'a.txt')
    assert.equal(r.version.size, 3)
    assert.equal(r.version.deleted, false)
    assert.equal(r.version.mtimeMs, T0 + 5)
    assert.deepEqual(hex(r.version.supersedes), [idOf('v1')])
  })

  test('a new file: a version superseding nothing', () => {
    const f = onDisk('new.txt', 'hello')
    const plan = planLocalChanges(folder({ disk: [f] }), local)
    assert.equal(plan.records.length, 1)
    assert.deepEqual(plan.records[0]!.version.supersedes, [])
  })

  test('a file that already holds the current version (written elsewhere, same bytes): adopted, not recorded', () => {
    const f = onDisk('a.txt', 'same', { ino: 7 })
    const plan = planLocalChanges(folder({ disk: [f], records: [recorded('a.txt', version('v9', 'same'))] }), local)
    assert.deepEqual(plan.adopt, [{ file: f, id: idOf('v9') }])
    assert.deepEqual(plan.records, [])
  })

  test('an edit also supersedes another head with the known content (the same version, recorded twice)', () => {
    const before = onDisk('a.txt', 'one')
    const after = onDisk('a.txt', 'two', { mtimeMs: T0 + 5 })
    const twin = version('twin', 'one', { author: 'b'.repeat(64) })
    const other = version('other', 'three', { mtimeMs: T0 + 9 })
    const records = [recorded('a.txt', other, version('v1', 'one'), twin)]
    const plan = planLocalChanges(folder({ disk: [after], known: [knownAs(before, idOf('v1'))], records }), local)
    assert.deepEqual(hex(plan.records[0]!.version.supersedes), [idOf('v1'), idOf('twin')].sort())
  })

  test('a file read again (its bytes moved on under the same stat): recorded if its content differs, else left', () => {
    const known = knownAs(onDisk('a.txt', 'one'), idOf('v1'))
    const records = [recorded('a.txt', version('v1', 'one'))]
    const moved = onDisk('a.txt', 'uno')
    const reread = new Set(['a.txt'])
    assert.equal(planLocalChanges(folder({
      disk: [moved], known: [known], records
    }), { ...local, reread }).records.length, 1)
    const same = onDisk('a.txt', 'one')
    assert.equal(planLocalChanges(folder({
      disk: [same], known: [known], records
    }), { ...local, reread }).records.length, 0)
    // Not read again: the same stat is trusted, whatever the scan says.
    assert.equal(planLocalChanges(folder({ disk: [moved], known: [known], records }), local).records.length, 0)
  })

  test('many changes: records in the order of the disk, then the deletions', () => {
    const disk = ['b', 'a', 'c'].map(n => onDisk(`${n}.txt`, n))
    const gone = knownAs(onDisk('gone.txt', 'x'), idOf('g'))
    const plan = planLocalChanges(folder({
      disk, known: [gone], records: [recorded('gone.txt', version('g', 'x'))]
    }), local)
    assert.deepEqual(plan.records.map(r => r.version.path), ['b.txt', 'a.txt', 'c.txt', 'gone.txt'])
  })
})
