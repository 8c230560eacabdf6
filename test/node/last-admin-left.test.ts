import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { Node } from '../../src/node/index.ts'
import { lastManagerRefusal } from '../../src/node/leave.ts'
import { startedNodes, untilHeld } from '../helpers/started-nodes.ts'

/**
 * Review (node/leave.ts lastManagerRefusal): a manager that left used to
 * count as one everywhere else, since a leave was not announced. Two managers
 * both left without --force, each one allowed "because another member is
 * admin", and nobody could invite or grant in the space again. Now a leave
 * pushes a leave notice to the connected members (space/leave-notice.ts), and
 * a manager whose notice is held counts as gone, until it writes again in
 * the space; and one that came back catches up within the same connection
 * (the peer's matched tag gets the member hello the notice's end of the
 * sharing took away).
 */
test('of two managers, the second to leave is refused without --force once the first has left', async t => {
  const [owner, admin] = await startedNodes(t, ['owner', 'admin']) as [Node, Node]
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

  // The owner comes back (its genesis makes its role), catches up from the admin, and writes again: a write of a
  // later clock than its notice counts it in.
  await owner.join(admin.invite('team', 'writer', 1, 3_600_000).token, 30_000)
  const ownerKey = admin.space(team.id).owner
  const adminKey = authorKeyOf(admin.keyPair.publicKey)
  await untilHeld(() => owner.space(team.id).acl.currentRole(adminKey) === 'admin', 'the owner caught up')
  owner.kvPut('team', 'back', 'yes')
  await untilHeld(() => !admin.space(team.id).saidItLeft(ownerKey), 'the owner counted again')
  assert.equal(lastManagerRefusal(admin.space(team.id), adminKey, 'team'), undefined, 'the owner manages the space')
})
