import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { planLocalChanges, planRemoteChanges, planSetAsideRenames } from '../../src/files/plan.ts'
import { folder, idOf, knownAs, onDisk, recorded, T0, version } from './plan-data.ts'

/**
 * What this node ignores it neither sends nor receives (as Syncthing), and a file no longer shared is not a deletion.
 */
const ignores = (p: string): boolean => p === 'build' || p.startsWith('build/') || p.endsWith('.tmp')

describe('planner: ignores', () => {
  test('records of ignored paths are not written, deleted or set aside', () => {
    const f = onDisk('build/out.o', 'old')
    const records = [
      recorded('build/out.o', version('o2', 'new')),
      recorded('notes.tmp', version('t', 'scratch')),
      recorded('kept.txt', version('k', 'kept'))
    ]
    const plan = planRemoteChanges(folder({ disk: [f], known: [knownAs(f, idOf('o1'))], records }), ignores)
    assert.deepEqual(plan.jobs.map(j => j.path), ['kept.txt'])
    const deleted = planRemoteChanges(folder({
      disk: [f],
      known: [knownAs(f, idOf('o1'))],
      records: [recorded('build/out.o', version('d', '', { deleted: true }))]
    }), ignores)
    assert.deepEqual(deleted.deletions, [])
    const shadowed = [recorded('build', version('b', 'a file')), recorded('build/x', version('x', 'x'))]
    const b = onDisk('build', 'a file')
    assert.deepEqual(planSetAsideRenames(folder({
      disk: [b], known: [knownAs(b, idOf('b'))], records: shadowed
    }), ignores), [])
  })

  test('a known file now ignored or unusable (in notShared): forgotten, not recorded deleted', () => {
    const known = [
      knownAs(onDisk('build/out.o', 'o'), idOf('o')),
      knownAs(onDisk('secret', 's', { ino: 2 }), idOf('s'))
    ]
    const records = [recorded('build/out.o', version('o', 'o')), recorded('secret', version('s', 's'))]
    const plan = planLocalChanges(folder({
      known, records
    }), { reread: new Set(), notShared: ['build', 'secret'], nowMs: T0 })
    assert.deepEqual(plan.forget, ['build/out.o', 'secret'])
    assert.deepEqual(plan.records, [])
  })

  test('a path that only starts like a not-shared one is still deleted', () => {
    const known = [knownAs(onDisk('builder.txt', 'b'), idOf('b'))]
    const plan = planLocalChanges(folder({
      known, records: [recorded('builder.txt', version('b', 'b'))]
    }), { reread: new Set(), notShared: ['build'], nowMs: T0 })
    assert.deepEqual(plan.records.map(r => [r.version.path, r.version.deleted]), [['builder.txt', true]])
  })
})
