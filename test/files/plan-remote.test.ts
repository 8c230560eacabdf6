import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { planRemoteChanges } from '../../src/files/plan.ts'
import { folder, idOf, knownAs, noIgnores, onDisk, recorded, T0, version } from './plan-data.ts'

/** Step 2 of a pass, on plain data: records become files to write (or to adopt). */
describe('planner: remote changes', () => {
  test('a record of a file not here: written, expecting nothing under its name', () => {
    const v = version('v1', 'hello')
    const plan = planRemoteChanges(folder({ records: [recorded('a.txt', v)] }), noIgnores)
    assert.deepEqual(plan.jobs, [{ version: v, path: 'a.txt', expect: null, copy: false }])
  })

  test('a newer version of a file this node holds: written over it, expecting the file as scanned', () => {
    const f = onDisk('a.txt', 'one')
    const v2 = version('v2', 'two', { mtimeMs: T0 + 10 })
    const plan = planRemoteChanges(folder({
      disk: [f], known: [knownAs(f, idOf('v1'))], records: [recorded('a.txt', v2)]
    }), noIgnores)
    assert.deepEqual(plan.jobs, [{ version: v2, path: 'a.txt', expect: f, copy: false }])
  })

  test('the version this node already has: nothing to do', () => {
    const f = onDisk('a.txt', 'one')
    const plan = planRemoteChanges(folder({
      disk: [f], known: [knownAs(f, idOf('v1'))], records: [recorded('a.txt', version('v1', 'one'))]
    }), noIgnores)
    assert.deepEqual([plan.jobs, plan.adopt, plan.deletions], [[], [], []])
  })

  test('a file here with the same bytes and mode as the record: adopted, no byte fetched', () => {
    const f = onDisk('a.txt', 'same')
    const plan = planRemoteChanges(folder({
      disk: [f], records: [recorded('a.txt', version('v1', 'same'))]
    }), noIgnores)
    assert.deepEqual(plan.adopt, [{ file: f, id: idOf('v1') }])
    assert.deepEqual(plan.jobs, [])
  })

  test('same bytes, other permission bits: written (the mode is part of the content)', () => {
    const f = onDisk('a.sh', 'echo', { mode: 0o644 })
    const plan = planRemoteChanges(folder({
      disk: [f], records: [recorded('a.sh', version('v1', 'echo', { mode: 0o755 }))]
    }), noIgnores)
    assert.equal(plan.jobs.length, 1)
  })

  test('a version whose chunk list cannot be read yet is still planned (the executor shows it waiting)', () => {
    const v = { ...version('v1', 'big'), problem: 'part 3 of its chunk list is not here yet' }
    const plan = planRemoteChanges(folder({ records: [recorded('big.bin', v)] }), noIgnores)
    assert.deepEqual(plan.jobs.map(j => j.version.problem), ['part 3 of its chunk list is not here yet'])
  })

  test('jobs come in the order of the records (free space is counted in that order)', () => {
    const records = ['c', 'a', 'b'].map(n => recorded(`${n}.txt`, version(n, n)))
    assert.deepEqual(planRemoteChanges(folder({
      records
    }), noIgnores).jobs.map(j => j.path), ['c.txt', 'a.txt', 'b.txt'])
  })
})
