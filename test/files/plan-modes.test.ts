import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MODE_RULES } from '../../src/files/plan-modes.ts'
import type { ModeRules } from '../../src/files/plan-modes.ts'
import { FOLDER_MODES } from '../../src/files/folder-types.ts'
import { planRemoteChanges, planReplace } from '../../src/files/plan.ts'
import { planReceiverAsides } from '../../src/files/plan-receive-only.ts'
import { folder, idOf, knownAs, noIgnores, onDisk, recorded, T0, version } from './plan-data.ts'

/** The folder modes, on plain data: which steps each runs, and whether a change not on record is kept. */
describe('planner: modes', () => {
  test('each mode\'s steps', () => {
    const steps = (r: ModeRules): boolean[] =>
      [r.recordsLocalChanges, r.appliesRecords, r.keepsLocalChanges, r.resolvesConflicts, r.reportsLocalChanges]
    // recordsLocalChanges, appliesRecords, keepsLocalChanges, resolvesConflicts, reportsLocalChanges
    assert.deepEqual(FOLDER_MODES.map(m => [m, steps(MODE_RULES[m])]), [
      ['send-receive', [true, true, true, true, false]],
      ['send-only', [true, false, true, false, false]],
      ['receive-only', [false, true, false, false, true]]
    ])
    assert.deepEqual(Object.keys(MODE_RULES['send-receive']).sort(),
      ['appliesRecords', 'keepsLocalChanges', 'recordsLocalChanges', 'reportsLocalChanges', 'resolvesConflicts'])
  })

  // Receive-only makes such a job only once the change is set aside as a copy (plan-receive-only.ts; below).
  test('a change here not on record: kept by send-receive (recorded first), replaced by receive-only', () => {
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

  test('receive-only: a change here is listed, not written over, until a new version sets it aside as a copy', () => {
    const before = onDisk('a.txt', 'one')
    const edited = onDisk('a.txt', 'mine', { mtimeMs: T0 + 4 })
    const v1 = version('v1', 'one')
    const quiet = folder({ disk: [edited], known: [knownAs(before, idOf('v1'))], records: [recorded('a.txt', v1)] })
    const opts = { author: 'c'.repeat(64), revert: false }
    assert.deepEqual(planReceiverAsides(quiet, noIgnores, opts), { adopt: [], asides: [] })
    const plan = planRemoteChanges(quiet, noIgnores, { revert: false })
    assert.deepEqual(plan.jobs, [])
    assert.deepEqual(plan.localChanges, [{ path: 'a.txt', change: 'changed' }])
    const v2 = version('v2', 'theirs', { mtimeMs: T0 + 8 })
    const newer = folder({ disk: [edited], known: [knownAs(before, idOf('v1'))], records: [recorded('a.txt', v2)] })
    const to = 'a.sync-conflict-20261201-120000-CCCCCCC.txt'
    assert.deepEqual(planReceiverAsides(newer, noIgnores, opts), { adopt: [], asides: [{ from: 'a.txt', to, file: edited }] })
    // Reverted: set aside though no new version came.
    assert.equal(planReceiverAsides(quiet, noIgnores, { ...opts, revert: true }).asides.length, 1)
  })

  test('receive-only: a file deleted here is listed until reverted, then written again', () => {
    const before = onDisk('a.txt', 'one')
    const v1 = version('v1', 'one')
    const at = folder({ known: [knownAs(before, idOf('v1'))], records: [recorded('a.txt', v1)] })
    const kept = planRemoteChanges(at, noIgnores, { revert: false })
    assert.deepEqual([kept.jobs, kept.localChanges], [[], [{ path: 'a.txt', change: 'deleted' }]])
    const reverted = planRemoteChanges(at, noIgnores, { revert: true })
    assert.deepEqual([reverted.jobs.map(j => j.path), reverted.localChanges], [['a.txt'], []])
  })
})
