import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { planLocalChanges, planRemoteChanges } from '../../src/files/plan.ts'
import { folder, hex, idOf, knownAs, noIgnores, onDisk, recorded, T0, version } from './plan-data.ts'

/**
 * Deletions both ways, on plain data: a file gone here is recorded deleted; a deletion on record removes an unchanged
 * file.
 */
const local = { reread: new Set<string>(), notShared: [], nowMs: T0 + 1000 }

describe('planner: deletions', () => {
  test('a known file gone from disk: forgotten, and recorded deleted at `now`, superseding the known version', () => {
    const known = knownAs(onDisk('a.txt', 'one', { mode: 0o600 }), idOf('v1'))
    const plan = planLocalChanges(folder({ known: [known], records: [recorded('a.txt', version('v1', 'one'))] }), local)
    assert.deepEqual(plan.forget, ['a.txt'])
    assert.equal(plan.records.length, 1)
    const r = plan.records[0]!
    assert.equal(r.file, null)
    assert.equal(r.version.deleted, true)
    assert.equal(r.version.size, 0)
    assert.equal(r.version.mode, 0o600)
    assert.equal(r.version.mtimeMs, T0 + 1000)
    assert.deepEqual(r.version.chunks, [])
    assert.deepEqual(hex(r.version.supersedes), [idOf('v1')])
  })

  test('gone, and its record is a deletion already (or there is none): forgotten, nothing recorded', () => {
    const known = knownAs(onDisk('a.txt', 'one'), idOf('v1'))
    const deleted = planLocalChanges(folder({
      known: [known], records: [recorded('a.txt', version('d', '', { deleted: true }))]
    }), local)
    assert.deepEqual(deleted, { adopt: [], forget: ['a.txt'], records: [] })
    assert.deepEqual(planLocalChanges(folder({ known: [known] }), local), { adopt: [], forget: ['a.txt'], records: [] })
  })

  test('not read by the scan (a file, or a directory not listed): neither deleted nor forgotten, nor changed', () => {
    const gone = knownAs(onDisk('docs/a.txt', 'one'), idOf('v1'))
    const edited = onDisk('busy.log', 'two')
    const known = [gone, knownAs(onDisk('busy.log', 'one'), idOf('v2'))]
    const records = [recorded('docs/a.txt', version('v1', 'one')), recorded('busy.log', version('v2', 'one'))]
    const unread = (p: string): boolean => p === 'busy.log' || p.startsWith('docs/')
    const plan = planLocalChanges(folder({ disk: [edited], known, records }), { ...local, unread })
    assert.deepEqual(plan, { adopt: [], forget: [], records: [] })
  })

  test('a deletion on record: the file goes if it is the known version, unchanged', () => {
    const f = onDisk('a.txt', 'one')
    const records = [recorded('a.txt', version('d', '', { deleted: true }))]
    assert.deepEqual(planRemoteChanges(folder({
      disk: [f], known: [knownAs(f, idOf('v1'))], records
    }), noIgnores).deletions, ['a.txt'])
  })

  test('a deletion on record, but the file changed here (or was never synced): kept', () => {
    const before = onDisk('a.txt', 'one')
    const after = onDisk('a.txt', 'two', { mtimeMs: T0 + 3 })
    const records = [recorded('a.txt', version('d', '', { deleted: true }))]
    const changed = planRemoteChanges(folder({
      disk: [after], known: [knownAs(before, idOf('v1'))], records
    }), noIgnores)
    assert.deepEqual(changed.deletions, [])
    assert.deepEqual(changed.jobs, [])
    assert.deepEqual(planRemoteChanges(folder({ disk: [after], records }), noIgnores).deletions, [])
  })

  test('a deletion on record for a file not here: nothing to do', () => {
    const plan = planRemoteChanges(folder({
      records: [recorded('a.txt', version('d', '', { deleted: true }))]
    }), noIgnores)
    assert.deepEqual([plan.jobs, plan.deletions, plan.adopt], [[], [], []])
  })
})
