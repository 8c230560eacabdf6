import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'

/**
 * Review (node/leave.ts lastManagerRefusal): a leave is not announced (no
 * member may revoke itself, decision 5), so a manager that left still counts
 * as one everywhere else. Two managers both leave without --force, each one
 * allowed "because another member is admin", and nobody can invite or grant
 * in the space again: the rule holds only against the last manager who knows
 * it is the last. A fix needs the protocol to say who left (a self-revoke, or
 * a signed "left" status), or the refusal to count only managers heard from.
 */
test('of two managers, the second to leave is refused without --force once the first has left', {
  todo: 'review defect, not fixed: a manager that left still counts as one (leaves are not announced)'
}, async t => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-'))
  const nodes: Node[] = []
  t.after(async () => {
    for (const n of nodes) await n.stop()
    fs.rmSync(root, { recursive: true, force: true })
  })
  for (const name of ['owner', 'admin']) {
    const n = Node.open({ dir: path.join(root, name) })
    nodes.push(n)
    await n.start()
  }
  const [owner, admin] = nodes as [Node, Node]
  owner.createSpace('team')
  await admin.join(owner.invite('team', 'admin', 1, 3_600_000).token, 30_000)
  await owner.leave('team') // allowed: another member is admin
  await assert.rejects(admin.leave('team'), { code: 'LAST_ADMIN' }, 'left too: nobody manages the space any more')
})
