import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MODE_RULES } from '../../src/files/plan-modes.ts'
import type { ModeRules } from '../../src/files/plan-modes.ts'
import { FOLDER_MODES } from '../../src/files/folder-types.ts'
import { planReplace } from '../../src/files/plan.ts'
import { folder, idOf, knownAs, onDisk, recorded, T0, version } from './plan-data.ts'

/** The folder modes, on plain data: which steps each runs, and whether a change not on record is kept. */
describe('planner: modes', () => {
  test('each mode\'s steps', () => {
    const steps = (r: ModeRules): boolean[] =>
      [r.recordsLocalChanges, r.appliesRecords, r.keepsLocalChanges, r.resolvesConflicts]
    // recordsLocalChanges, appliesRecords, keepsLocalChanges, resolvesConflicts
    assert.deepEqual(FOLDER_MODES.map(m => [m, steps(MODE_RULES[m])]), [
      ['send-receive', [true, true, true, true]],
      ['send-only', [true, false, true, false]],
      ['receive-only', [false, true, false, false]]
    ])
    assert.deepEqual(Object.keys(MODE_RULES['send-receive']).sort(),
      ['appliesRecords', 'keepsLocalChanges', 'recordsLocalChanges', 'resolvesConflicts'])
  })

  test('a change here not on record: kept by send-receive (recorded first), overwritten by receive-only', () => {
    const before = onDisk('a.txt', 'one')
    const edited = onDisk('a.txt', 'mine', { mtimeMs: T0 + 4 })
    const v2 = version('v2', 'theirs', { mtimeMs: T0 + 8 })
    const at = folder({ disk: [edited], known: [knownAs(before, idOf('v1'))], records: [recorded('a.txt', v2)] })
    const job = { version: v2, path: 'a.txt', expect: edited, copy: false }
    const kept = planReplace(at, job, MODE_RULES['send-receive'])
    assert.equal(kept.action, 'wait')
    assert.match(kept.action === 'wait' ? kept.why : '', /the change here is not on record/)
    assert.deepEqual(planReplace(at, job, MODE_RULES['receive-only']), { action: 'write' })
  })

  test('a file never synced here (no known version) is a change not on record too', () => {
    const f = onDisk('a.txt', 'mine')
    const v = version('v', 'theirs')
    const at = folder({ disk: [f], records: [recorded('a.txt', v)] })
    const job = { version: v, path: 'a.txt', expect: f, copy: false }
    assert.equal(planReplace(at, job, MODE_RULES['send-receive']).action, 'wait')
    assert.equal(planReplace(at, job, MODE_RULES['receive-only']).action, 'write')
  })
})
