import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeReport } from '../../src/telemetry/index.ts'

/**
 * A member's record listing one space (or its folder) many times: the page counted each row as a holder and a vote,
 * so one record outvoted every honest node on a space not held here (review E). The first row stands, each repeat
 * is a bad field the record's reasons name.
 */
test('a report lists each space and each space\'s folder once; repeats are bad fields', () => {
  const space = 'ab'.repeat(32)
  const other = 'cd'.repeat(32)
  const now = Date.now()
  const body = {
    v: 1, n: 'liar', ver: '1', st: now, p: 3_600_000, ld: [0, 0, 0], cpu: 1, mem: [1, 1, 1], dk: null, t: null,
    ln: [],
    sp: [[space, 'team', 1, 3], ...Array.from({ length: 3 }, () => [space, 'team', 9, 99]), [other, 'other', 2, 2]],
    fo: [[space, 'docs', 'idle', 0, 0, 0, 0, 0], [space, 'docs', 'idle', 5, 5, 0, 0, 0]],
    io: [0, 0, 0, 0], mb: [], al: []
  }
  const { report, problems } = decodeReport(body, now)
  assert.deepEqual(report.spaces.map(s => [s.id, s.entries]), [[space, 1], [other, 2]])
  assert.deepEqual(report.folders.map(f => f.needFiles), [0])
  assert.ok(problems.includes('sp[1] (a space listed again)'), JSON.stringify(problems))
  assert.ok(problems.includes('fo[1] (a folder of a space listed again)'), JSON.stringify(problems))
})
