import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'

/**
 * Review (node/leave.ts lastManagerRefusal): a manager that left used to
 * count as one everywhere else, since a leave was not announced. Two managers
 * both left without --force, each one allowed "because another member is
 * admin", and nobody could invite or grant in the space again. Now a leave
 * pushes a leave notice to the connected members (space/leave-notice.ts), and
 * a manager whose notice is held counts as gone, until it writes again in
 * the space (test/node/leave.test.ts).
 */
test('of two managers, the second to leave is refused without --force once the first has left', async t => {
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
  const team = owner.createSpace('team')
  await admin.join(owner.invite('team', 'admin', 1, 3_600_000).token, 30_000)

  const heard = once(admin, 'left')
  const left = await owner.leave('team') // allowed: another member is admin
  assert.equal(left.toldMembers, 1, 'the connected admin was told')
  const [ev] = await heard as [{ space: string, member: string }]
  assert.deepEqual(ev, { space: team.id, member: owner.peerId })

  await assert.rejects(admin.leave('team'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LAST_ADMIN')
    assert.match(err.message, /only member of space team \(the other member said it left\): leaving deletes its data/)
    return true
  }, 'left too: nobody would manage the space any more')
  assert.ok(admin.spaces().some(s => s.id === team.id), 'refused: the space is still held')
})

